"""Two processes changing one registered model at once, on SQLite and PostgreSQL.

Each test starts two interpreters that hammer the same store through ``open_store(uri)``:
version numbers must stay unique and every alias move must see the one before it.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modelward.store.metadata.base import MetadataStore

SRC = Path(__file__).resolve().parents[4] / "src"


def _version(store: MetadataStore, name: str) -> None:
    store.create_model_version(
        name,
        actor="setup",
        source="runs:/" + "a" * 32 + "/model",
        run_id="a" * 32,
        artifact_scope="runs/" + "a" * 32,
        artifact_path="model",
        manifest_digest="d" * 64,
        flavor="sklearn",
    )


_WORKER = textwrap.dedent(
    """
    import json, sys
    from modelward.errors import Conflict
    from modelward.store.metadata import open_store

    uri, actor, mode, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = open_store(uri)
    wins = conflicts = 0
    for i in range(n):
        if mode == "register":
            store.create_model_version(
                "race", actor=actor, source="runs:/x/m", run_id=None, artifact_scope="runs/x",
                artifact_path="m", manifest_digest="d" * 64, flavor="sklearn")
            continue
        target = 1 + (i + (0 if actor == "p1" else 1)) % 3
        if mode == "move":
            store.set_alias("race", "champion", target, actor=actor)
            wins += 1
        else:  # compare-and-set from what this process last read
            seen = store.get_alias("race", "champion")
            try:
                store.set_alias("race", "champion", target, actor=actor, expected_version=seen)
                wins += 1
            except Conflict:
                conflicts += 1
    store.close()
    print(json.dumps({"wins": wins, "conflicts": conflicts}))
    """
)


def _race(store_uri: str, mode: str, n: int) -> list[dict[str, int]]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, store_uri, actor, mode, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for actor in ("p1", "p2")
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_two_processes_register_versions_without_duplicate_numbers(
    store: MetadataStore, store_uri: str
) -> None:
    store.create_registered_model("race", actor="setup")
    _race(store_uri, "register", 15)
    numbers = sorted(v.version for v in store.list_model_versions("race"))
    assert numbers == list(range(1, 31))


@pytest.mark.parametrize("mode", ["move", "cas"])
def test_two_processes_moving_one_alias_leave_a_consistent_history(
    store: MetadataStore, store_uri: str, mode: str
) -> None:
    for _ in range(3):
        _version(store, "race")
    store.set_alias("race", "champion", 1, actor="setup")
    results = _race(store_uri, mode, 25)
    moves = [e for e in store.list_audit_entries("race") if e.action == "set_alias"]
    # Every move saw the state the previous move left: no lost or interleaved update.
    for prev, cur in itertools.pairwise(moves):
        assert prev.after is not None
        assert cur.before is not None
        assert cur.before["version"] == prev.after["version"]
    assert moves[-1].after is not None
    assert store.get_alias("race", "champion") == moves[-1].after["version"]
    if mode == "cas":
        wins = sum(r["wins"] for r in results)
        # Each winning compare-and-set is in the log unless it re-set the same version.
        assert 1 <= len(moves) - 1 <= wins
        assert all(r["wins"] + r["conflicts"] == 25 for r in results)
