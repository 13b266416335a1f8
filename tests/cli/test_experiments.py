"""``modelward experiments``: list, create and delete."""

from __future__ import annotations

from collections.abc import Callable

from tests.cli.conftest import Populated, Result


def test_list_create_delete(cli: Callable[..., Result], sqlite_uri: str) -> None:
    uri = ("--uri", sqlite_uri)
    assert cli(*uri, "experiments", "list").out == "no experiments yet\n"
    assert cli(*uri, "experiments", "list", "--json").json() == []
    created = cli(*uri, "experiments", "create", "exp", "--tag", "team=vision", "--tag", "a=b=c")
    assert created.code == 0
    assert created.out.startswith("created experiment exp (")
    data = cli(*uri, "experiments", "create", "other", "--json").json()
    assert data["name"] == "other"
    assert data["lifecycle_stage"] == "active"
    listed = cli(*uri, "experiments", "list", "--json").json()
    assert [e["name"] for e in listed] == ["exp", "other"]
    assert listed[0]["tags"] == {"team": "vision", "a": "b=c"}
    table = cli(*uri, "experiments", "list").out
    assert "exp" in table
    assert "team=vision" in table
    deleted = cli(*uri, "experiments", "delete", "exp", "--json").json()
    assert deleted == {"deleted": listed[0]["id"]}
    assert [e["name"] for e in cli(*uri, "experiments", "list", "--json").json()] == ["other"]
    every = cli(*uri, "experiments", "list", "--all", "--json").json()
    assert {e["name"]: e["lifecycle_stage"] for e in every} == {"exp": "deleted", "other": "active"}
    by_id = cli(*uri, "experiments", "delete", data["id"])
    assert by_id.out == "deleted experiment other\n"


def test_bad_tag_option_is_a_usage_error(cli: Callable[..., Result], populated: Populated) -> None:
    result = cli(*populated.args("experiments", "create", "x", "--tag", "novalue"))
    assert result.code == 2
    assert "expected KEY=VALUE, got 'novalue'" in result.err


def test_deleting_an_experiment_hides_its_runs(
    cli: Callable[..., Result], populated: Populated
) -> None:
    assert cli(*populated.args("experiments", "delete", "exp")).code == 0
    assert cli(*populated.args("runs", "list", "--json")).json()["runs"] == []
