"""RegistryStore on SQLite and PostgreSQL: models, versions, aliases, status, audit, races."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from modelward.entities.models import VersionStatus
from modelward.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from modelward.store.metadata.base import MetadataStore

SRC = Path(__file__).resolve().parents[2] / "src"


def _version(store: MetadataStore, name: str = "churn", actor: str = "alice", **kw: Any) -> Any:
    defaults = {
        "source": "runs:/" + "a" * 32 + "/model",
        "run_id": "a" * 32,
        "artifact_scope": "runs/" + "a" * 32,
        "artifact_path": "model",
        "manifest_digest": "d" * 64,
        "flavor": "sklearn",
    }
    defaults.update(kw)
    return store.create_model_version(name, actor=actor, **defaults)


def test_versions_are_numbered_per_model_and_create_the_model(store: MetadataStore) -> None:
    v1 = _version(store)
    v2 = _version(store, tags={"stage": "cv"}, description="second")
    other = _version(store, name="fraud")
    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert v2.tags == {"stage": "cv"}
    assert v2.description == "second"
    model = store.get_registered_model("churn")
    assert model.latest_version == 2
    assert model.created_by == "alice"
    assert [v.version for v in store.list_model_versions("churn")] == [2, 1]
    assert [m.name for m in store.list_registered_models()] == ["churn", "fraud"]


def test_create_model_twice_is_already_exists(store: MetadataStore) -> None:
    store.create_registered_model("churn", actor="alice", description="d", tags={"team": "x"})
    with pytest.raises(AlreadyExists, match="already exists"):
        store.create_registered_model("churn", actor="bob")
    assert store.get_registered_model("churn").tags == {"team": "x"}


@pytest.mark.parametrize("name", ["a/b", "a@b", "x:y", ""])
def test_model_names_that_break_uris_are_refused(store: MetadataStore, name: str) -> None:
    with pytest.raises(InvalidInput, match="model name"):
        store.create_registered_model(name, actor="alice")


def test_version_of_unknown_model_without_create_is_not_found(store: MetadataStore) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        _version(store, create_model=False)


def test_alias_moves_atomically_and_each_move_is_audited(store: MetadataStore) -> None:
    _version(store)
    _version(store)
    assert store.set_alias("churn", "champion", 1, actor="alice") is None
    assert store.set_alias("churn", "champion", 2, actor="bob") == 1
    assert store.get_alias("churn", "champion") == 2
    assert store.get_model_version("churn", 2).aliases == ("champion",)
    moves = [e for e in store.list_audit_entries("churn") if e.action == "set_alias"]
    assert [(e.actor, e.before, e.after) for e in moves] == [
        ("alice", None, {"alias": "champion", "version": 1}),
        ("bob", {"alias": "champion", "version": 1}, {"alias": "champion", "version": 2}),
    ]


def test_alias_compare_and_set_refuses_a_stale_expectation(store: MetadataStore) -> None:
    _version(store)
    _version(store)
    store.set_alias("churn", "champion", 1, actor="alice")
    with pytest.raises(Conflict, match="someone moved it meanwhile"):
        store.set_alias("churn", "champion", 2, actor="bob", expected_version=2)
    with pytest.raises(Conflict, match="points at version 1"):
        store.set_alias("churn", "champion", 2, actor="bob", expect_absent=True)
    assert store.set_alias("churn", "champion", 2, actor="bob", expected_version=1) == 1


@pytest.mark.parametrize("alias", ["latest", "1abc", "has space", "x" * 129])
def test_bad_alias_names_are_refused(store: MetadataStore, alias: str) -> None:
    _version(store)
    with pytest.raises(InvalidInput, match=r"alias|reserved"):
        store.set_alias("churn", alias, 1, actor="alice")


def test_alias_to_missing_version_is_not_found(store: MetadataStore) -> None:
    _version(store)
    with pytest.raises(NotFound, match="has no version 7"):
        store.set_alias("churn", "champion", 7, actor="alice")


def test_delete_alias(store: MetadataStore) -> None:
    _version(store)
    store.set_alias("churn", "challenger", 1, actor="alice")
    assert store.delete_alias("churn", "challenger", actor="carol") == 1
    with pytest.raises(NotFound, match="no alias 'challenger'"):
        store.get_alias("churn", "challenger")
    with pytest.raises(NotFound, match="no alias 'challenger'"):
        store.delete_alias("churn", "challenger", actor="carol")
    last = store.list_audit_entries("churn")[-1]
    assert (last.action, last.actor, last.before, last.after) == (
        "delete_alias",
        "carol",
        {"alias": "challenger", "version": 1},
        None,
    )


def test_archiving_an_aliased_version_needs_force_and_removes_the_alias(
    store: MetadataStore,
) -> None:
    _version(store)
    store.set_alias("churn", "champion", 1, actor="alice")
    with pytest.raises(Conflict, match="target of alias"):
        store.set_model_version_status("churn", 1, VersionStatus.ARCHIVED, actor="alice")
    archived = store.set_model_version_status(
        "churn", 1, VersionStatus.ARCHIVED, actor="alice", force=True
    )
    assert archived.status is VersionStatus.ARCHIVED
    assert archived.aliases == ()
    with pytest.raises(Conflict, match="only point at a READY version"):
        store.set_alias("churn", "champion", 1, actor="alice")
    restored = store.set_model_version_status("churn", 1, VersionStatus.READY, actor="alice")
    assert restored.status is VersionStatus.READY
    actions = [e.action for e in store.list_audit_entries("churn")]
    assert actions[-3:] == ["delete_alias", "archive_version", "restore_version"]


def test_deleted_versions_keep_their_number_and_cannot_come_back(store: MetadataStore) -> None:
    _version(store)
    store.set_model_version_status("churn", 1, VersionStatus.DELETED, actor="alice")
    assert store.list_model_versions("churn") == []
    assert [v.version for v in store.list_model_versions("churn", include_deleted=True)] == [1]
    assert _version(store).version == 2
    with pytest.raises(Conflict, match="cannot be restored"):
        store.set_model_version_status("churn", 1, VersionStatus.READY, actor="alice")


def test_tags_and_descriptions_are_audited(store: MetadataStore) -> None:
    _version(store)
    store.set_registered_model_tags("churn", {"team": "risk"}, actor="alice")
    store.set_registered_model_tags("churn", {"team": "growth"}, actor="bob")
    store.delete_registered_model_tag("churn", "team", actor="bob")
    store.update_registered_model("churn", actor="alice", description="predicts churn")
    store.set_model_version_tags("churn", 1, {"validated": "yes"}, actor="alice")
    store.update_model_version("churn", 1, actor="alice", description="first")
    model = store.get_registered_model("churn")
    assert model.tags == {}
    assert model.description == "predicts churn"
    version = store.get_model_version("churn", 1)
    assert version.tags == {"validated": "yes"}
    assert version.description == "first"
    entries = store.list_audit_entries("churn")
    tag_moves = [(e.before, e.after) for e in entries if e.action == "set_model_tags"]
    assert tag_moves == [({}, {"team": "risk"}), ({"team": "risk"}, {"team": "growth"})]
    assert [e.action for e in entries][-3:] == [
        "update_model",
        "set_version_tags",
        "update_version",
    ]


def test_deleting_a_model_keeps_its_audit_log(store: MetadataStore) -> None:
    _version(store)
    store.set_alias("churn", "champion", 1, actor="alice")
    store.delete_registered_model("churn", actor="root")
    with pytest.raises(NotFound, match="does not exist"):
        store.get_registered_model("churn")
    last = store.list_audit_entries("churn")[-1]
    assert last.action == "delete_model"
    assert last.actor == "root"
    assert last.before is not None
    assert last.before["aliases"] == {"champion": 1}
    # The name can be reused; numbering starts again and history continues.
    assert _version(store).version == 1


def test_audit_paging_and_limits(store: MetadataStore) -> None:
    _version(store)
    _version(store, name="fraud")
    everything = store.list_audit_entries()
    assert len(everything) == 4
    first_two = store.list_audit_entries(limit=2)
    assert store.list_audit_entries(after_id=first_two[-1].id) == everything[2:]
    with pytest.raises(InvalidInput, match="limit"):
        store.list_audit_entries(limit=0)


# -- two processes at once --------------------------------------------------------------------

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
        _version(store, name="race")
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
