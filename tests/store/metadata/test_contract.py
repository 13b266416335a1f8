"""The SQL metadata store passes the contract suite shipped in modelward.testing.

The ``store`` fixture (tests/conftest.py) runs every test on SQLite, and on PostgreSQL when
``MODELWARD_TEST_POSTGRES_URL`` is set.
"""

from modelward.testing.metadata_contract import *  # noqa: F403
