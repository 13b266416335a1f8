"""Version numbering under concurrent processes, on SQLite and PostgreSQL.

Processes (not threads: each has its own connection pool and, on SQLite, its own lock waits)
start together and add versions of one dataset name.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from modelward.store.metadata import open_store
from modelward.testing.dataset_store_contract import new_version

WORKERS = 4


def _add(uri: str, name: str, tag: str, start_at: float, out: Any) -> None:
    store = open_store(uri)
    try:
        while time.time() < start_at:
            time.sleep(0.001)
        version, created = store.create_dataset_version(name, new_version(tag))
        out.put((version.id, version.version, created))
    except BaseException as exc:  # reported to the parent, which fails the test
        out.put(("error", repr(exc), False))
    finally:
        store.close()


def _race(uri: str, tags: list[str]) -> list[tuple[str, int, bool]]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3.0  # spawned interpreters need time to import
    procs = [ctx.Process(target=_add, args=(uri, "race", t, start_at, out)) for t in tags]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert not [r for r in results if r[0] == "error"], results
    return results


def test_processes_adding_different_content_get_distinct_numbers(store_uri: str) -> None:
    results = _race(store_uri, [f"p{i}" for i in range(WORKERS)])
    assert sorted(number for _, number, _ in results) == list(range(1, WORKERS + 1))
    assert all(created for _, _, created in results)
    store = open_store(store_uri)
    assert [v.version for v in store.list_dataset_versions("race")] == [1, 2, 3, 4]
    store.close()


def test_processes_adding_the_same_content_share_one_version(store_uri: str) -> None:
    results = _race(store_uri, ["same"] * WORKERS)
    assert len({version_id for version_id, _, _ in results}) == 1
    assert {number for _, number, _ in results} == {1}
    assert sum(created for _, _, created in results) == 1
