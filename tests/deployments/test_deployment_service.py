"""Deployments as records: create, update, alias moves, rollback, history, feedback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelward.deployments import DeploymentService
from modelward.entities.deployments import Batching, Limits, ModelTarget
from modelward.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from modelward.store.metadata.base import MetadataStore


class Registry:
    """Resolves NAME@ALIAS and NAME/VERSION like the registry would."""

    def __init__(self) -> None:
        self.aliases = {("iris", "champion"): 1, ("iris", "challenger"): 2}

    def __call__(self, target: ModelTarget) -> int:
        if target.alias is not None:
            try:
                return self.aliases[(target.model, target.alias)]
            except KeyError:
                raise NotFound(f"no alias {target}") from None
        if target.version is not None:
            return target.version
        return max(v for (m, _), v in self.aliases.items() if m == target.model)


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def service(store: MetadataStore, registry: Registry) -> Iterator[DeploymentService]:
    return DeploymentService(store, registry, actor="alice")


def test_create_resolves_and_records_history(service: DeploymentService) -> None:
    d = service.create(
        "iris-prod",
        "iris@champion",
        canary="iris@challenger",
        canary_percent=10,
        sticky_header="X-User",
        shadow="iris/2",
        batching=Batching(32, 1.0),
        limits=Limits(max_rows=10),
    )
    assert d.current_version == 1
    assert d.revision == 1
    assert d.canary == ModelTarget("iris", "challenger")
    assert d.canary_percent == 10
    assert d.sticky_header == "x-user"
    assert d.shadow == ModelTarget("iris", None, 2)
    got = service.get("iris-prod")
    assert got == d
    assert [x.name for x in service.list()] == ["iris-prod"]
    (entry,) = service.history("iris-prod")
    assert entry.action == "create"
    assert entry.actor == "alice"
    assert entry.before is None
    assert entry.after is not None
    assert entry.after["target"]["alias"] == "champion"


def test_bad_requests_fail_clearly(service: DeploymentService) -> None:
    with pytest.raises(NotFound, match="no alias iris@nope"):
        service.create("d", "iris@nope")
    with pytest.raises(InvalidInput, match="is not a model reference"):
        service.create("d", "iris@@x")
    with pytest.raises(InvalidInput, match="deployment name 'a b' is not valid"):
        service.create("a b", "iris@champion")
    with pytest.raises(InvalidInput, match="between 0 and 100"):
        service.create("d", "iris@champion", canary="iris/2", canary_percent=150)
    service.create("d", "iris@champion")
    with pytest.raises(AlreadyExists, match="deployment 'd' already exists"):
        service.create("d", "iris@champion")
    with pytest.raises(NotFound, match="deployment 'zz' does not exist"):
        service.get("zz")


def test_alias_moves_are_recorded_and_rolled_back(
    service: DeploymentService, registry: Registry
) -> None:
    d = service.create("prod", "iris@champion")
    registry.aliases[("iris", "champion")] = 2
    d = service.record_version("prod", 2, expected_revision=d.revision)
    assert d.current_version == 2
    assert d.previous_versions == (1,)
    with pytest.raises(Conflict, match="changed meanwhile"):
        service.record_version("prod", 3, expected_revision=1)
    back = service.rollback("prod")
    assert back.current_version == 1
    assert back.target == ModelTarget("iris", None, 1)
    assert back.previous_versions == ()
    with pytest.raises(Conflict, match="no earlier version to roll back to"):
        service.rollback("prod")
    assert [h.action for h in service.history("prod")] == ["create", "resolve", "rollback"]


def test_update_changes_only_what_is_given(service: DeploymentService) -> None:
    service.create("prod", "iris@champion", canary="iris@challenger", canary_percent=5)
    d = service.update("prod", model="iris/2")
    assert d.current_version == 2
    assert d.previous_versions == (1,)
    assert d.canary_percent == 5
    d = service.update("prod", canary=None, status="paused", batching=Batching(8, 0.0))
    assert d.canary is None
    assert d.canary_percent == 0
    assert d.status.value == "paused"
    assert d.batching == Batching(8, 0.0)
    assert service.update("prod") == d  # nothing given, nothing changed
    service.delete("prod")
    with pytest.raises(NotFound):
        service.get("prod")
    assert service.history("prod")[-1].action == "delete"  # history outlives the record


def test_feedback_is_stored_by_request_id(service: DeploymentService) -> None:
    assert service.add_feedback("prod", {"r1": 1, "r2": [0, 1]}) == 2
    assert service.add_feedback("prod", [("r1", 0)]) == 1  # a correction replaces
    labels = {f.request_id: f.label for f in service.read_feedback("prod")}
    assert labels == {"r1": 0, "r2": [0, 1]}
    assert [f.request_id for f in service.read_feedback("prod", request_ids=["r2", "x"])] == ["r2"]
    with pytest.raises(InvalidInput, match="a request id is a string"):
        service.add_feedback("prod", {"": 1})
