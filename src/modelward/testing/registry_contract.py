"""The contract every registry store passes.

A :class:`~modelward.store.metadata.registry.RegistryStore` keeps models, numbered versions,
aliases with compare-and-set, status changes and audit entries the same way on every backend.

Use it like :mod:`modelward.testing.metadata_contract`: import the tests and provide a ``store``
fixture yielding a fresh, empty, migrated store::

    from modelward.testing.registry_contract import *  # noqa: F403

modelward runs it on SQLite always and on PostgreSQL when ``MODELWARD_TEST_POSTGRES_URL`` is set
(``tests/store/metadata/test_registry_contract.py``); the two-process races are in
``tests/store/metadata/sql/test_registry_races.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from modelward.entities.models import VersionStatus
from modelward.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from modelward.store.metadata.base import MetadataStore

__all__ = [
    "test_alias_compare_and_set_refuses_a_stale_expectation",
    "test_alias_moves_atomically_and_each_move_is_audited",
    "test_alias_to_missing_version_is_not_found",
    "test_archiving_an_aliased_version_needs_force_and_removes_the_alias",
    "test_audit_paging_and_limits",
    "test_bad_alias_names_are_refused",
    "test_create_model_twice_is_already_exists",
    "test_delete_alias",
    "test_deleted_versions_keep_their_number_and_cannot_come_back",
    "test_deleting_a_model_keeps_its_audit_log",
    "test_model_names_that_break_uris_are_refused",
    "test_tags_and_descriptions_are_audited",
    "test_version_of_unknown_model_without_create_is_not_found",
    "test_versions_are_numbered_per_model_and_create_the_model",
]


def _version(store: MetadataStore, name: str = "churn", actor: str = "alice", **kw: Any) -> Any:
    defaults: dict[str, Any] = {
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
    """Versions are numbered per model and create the model."""
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
    """Create model twice is already exists."""
    store.create_registered_model("churn", actor="alice", description="d", tags={"team": "x"})
    with pytest.raises(AlreadyExists, match="already exists"):
        store.create_registered_model("churn", actor="bob")
    assert store.get_registered_model("churn").tags == {"team": "x"}


@pytest.mark.parametrize("name", ["a/b", "a@b", "x:y", ""])
def test_model_names_that_break_uris_are_refused(store: MetadataStore, name: str) -> None:
    """Model names that break uris are refused."""
    with pytest.raises(InvalidInput, match="model name"):
        store.create_registered_model(name, actor="alice")


def test_version_of_unknown_model_without_create_is_not_found(store: MetadataStore) -> None:
    """Version of unknown model without create is not found."""
    with pytest.raises(NotFound, match="does not exist"):
        _version(store, create_model=False)


def test_alias_moves_atomically_and_each_move_is_audited(store: MetadataStore) -> None:
    """Alias moves atomically and each move is audited."""
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
    """Alias compare and set refuses a stale expectation."""
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
    """Bad alias names are refused."""
    _version(store)
    with pytest.raises(InvalidInput, match=r"alias|reserved"):
        store.set_alias("churn", alias, 1, actor="alice")


def test_alias_to_missing_version_is_not_found(store: MetadataStore) -> None:
    """Alias to missing version is not found."""
    _version(store)
    with pytest.raises(NotFound, match="has no version 7"):
        store.set_alias("churn", "champion", 7, actor="alice")


def test_delete_alias(store: MetadataStore) -> None:
    """Delete alias."""
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
    """Archiving an aliased version needs force and removes the alias."""
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
    """Deleted versions keep their number and cannot come back."""
    _version(store)
    store.set_model_version_status("churn", 1, VersionStatus.DELETED, actor="alice")
    assert store.list_model_versions("churn") == []
    assert [v.version for v in store.list_model_versions("churn", include_deleted=True)] == [1]
    assert _version(store).version == 2
    with pytest.raises(Conflict, match="cannot be restored"):
        store.set_model_version_status("churn", 1, VersionStatus.READY, actor="alice")


def test_tags_and_descriptions_are_audited(store: MetadataStore) -> None:
    """Tags and descriptions are audited."""
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
    """Deleting a model keeps its audit log."""
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
    """Audit paging and limits."""
    _version(store)
    _version(store, name="fraud")
    everything = store.list_audit_entries()
    assert len(everything) == 4
    first_two = store.list_audit_entries(limit=2)
    assert store.list_audit_entries(after_id=first_two[-1].id) == everything[2:]
    with pytest.raises(InvalidInput, match="limit"):
        store.list_audit_entries(limit=0)
