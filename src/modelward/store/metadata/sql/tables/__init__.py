"""SQLAlchemy Core table definitions, one module per aggregate, sharing one ``MetaData``.

Importing this package imports every aggregate's tables so that ``metadata`` is complete.
The migrations under ``migrations/versions`` create exactly these tables; a test compares
the migrated schema with these definitions.
"""

from modelward.store.metadata.sql.tables import (  # noqa: F401  (registers tables)
    datasets,
    deployments,
    monitoring,
    registry,
    tracking,
)
from modelward.store.metadata.sql.tables._meta import metadata

__all__ = ["metadata"]
