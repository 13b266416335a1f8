"""The SQL metadata store passes the dataset store contract shipped in modelward.testing.

The ``store`` fixture (tests/conftest.py) runs every test on SQLite, and on PostgreSQL when
``MODELWARD_TEST_POSTGRES_URL`` is set.
"""

from modelward.testing.dataset_store_contract import *  # noqa: F403
