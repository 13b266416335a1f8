"""Conformance suites that every backend (ours or a plugin's) must pass.

Each module holds plain pytest test functions that take a fixture naming the object under
test; a backend's test module star-imports the suite and provides the fixture. These
modules import pytest, so import them only from tests.
"""

import pytest

# Plain asserts in the suites get pytest's detailed failure messages, as in a test module.
pytest.register_assert_rewrite(
    "modelward.testing.artifact_store_contract",
    "modelward.testing.metadata_contract",
    "modelward.testing.metadata_search_contract",
    "modelward.testing.executor_contract",
)
