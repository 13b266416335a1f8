"""Tables for datasets, their versions and splits, and the dataset versions runs read.

Versions are numbered per dataset; ``(dataset_id, number)`` and ``(dataset_id, digest)`` are
unique, so concurrent writers can never give two versions one number or store one content
twice under a name. Schema, profile, source and lineage are JSON documents (read whole, never
queried inside). Times are integer milliseconds since the epoch.
"""

import sqlalchemy as sa

from modelward.store.metadata.sql.tables._meta import metadata

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False, unique=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "dataset_id",
        sa.String(32),
        sa.ForeignKey("datasets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("source_fingerprint", sa.String(64)),
    # Bytes of the source, copied out of the source document: a cheap hint that decides
    # whether an ingest hashes its source before parsing it.
    sa.Column("source_size", sa.BigInteger),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("artifact_digest", sa.String(64), nullable=False),
    sa.Column("schema", sa.JSON, nullable=False),
    sa.Column("profile", sa.JSON, nullable=False),
    sa.Column("source", sa.JSON, nullable=False),
    sa.Column("lineage", sa.JSON, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("dataset_id", "number"),
    sa.UniqueConstraint("dataset_id", "digest"),
    sa.Index("ix_dataset_versions_fingerprint", "dataset_id", "source_fingerprint"),
)

dataset_splits = sa.Table(
    "dataset_splits",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "version_id",
        sa.String(32),
        sa.ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("artifact_digest", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("version_id", "name"),
)

run_inputs = sa.Table(
    "run_inputs",
    metadata,
    sa.Column(
        "run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    ),
    # No cascade: a version that a run read must not disappear under it.
    sa.Column(
        "dataset_version_id",
        sa.String(32),
        sa.ForeignKey("dataset_versions.id"),
        primary_key=True,
    ),
    sa.Column("role", sa.String(64), primary_key=True),
    sa.Column("split_name", sa.String(128)),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Index("ix_run_inputs_version", "dataset_version_id"),
)
