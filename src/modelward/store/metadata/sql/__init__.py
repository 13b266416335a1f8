"""SQL metadata store (SQLite and PostgreSQL) on SQLAlchemy 2 with Alembic migrations."""
