"""Stores: the metadata store (SQL) and the artifact store (local disk or S3)."""
