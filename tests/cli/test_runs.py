"""``modelward runs``: list, show, compare, delete, restore and history, for people and scripts."""

from __future__ import annotations

from collections.abc import Callable

from tests.cli.conftest import Populated, Result


def test_list_renders_a_table_for_people(cli: Callable[..., Result], populated: Populated) -> None:
    result = cli(*populated.args("runs", "list", "--experiment", "exp"))
    assert result.code == 0
    assert result.err == ""
    lines = result.out.splitlines()
    header = next(line for line in lines if "run id" in line)
    assert "acc" in header
    assert "loss" in header
    assert "system/" not in result.out  # system metrics are left out of the overview
    rows = [line for line in lines if populated.ids["good"] in line]
    assert len(rows) == 1
    assert "FINISHED" in rows[0]
    assert "1m05s" in rows[0]
    assert "0.9" in rows[0]
    bad = next(line for line in lines if populated.ids["bad"] in line)
    assert "FAILED" in bad
    assert "NaN" in bad


def test_list_json_is_parseable_and_complete(
    cli: Callable[..., Result], populated: Populated
) -> None:
    data = cli(*populated.args("runs", "list", "-e", "exp", "--json")).json()
    assert data["next_token"] is None
    assert [r["name"] for r in data["runs"]] == ["child", "bad", "good"]  # newest first
    good = next(r for r in data["runs"] if r["name"] == "good")
    assert good["params"] == {"lr": "0.1", "depth": "3"}
    assert good["metrics"] == {"acc": 0.9, "system/cpu_percent": 5.0}
    assert good["status"] == "FINISHED"
    assert good["experiment_id"] == populated.experiment_id
    bad = next(r for r in data["runs"] if r["name"] == "bad")
    assert bad["metrics"] == {"acc": 0.4, "loss": "NaN"}  # strict JSON: no bare NaN
    child = next(r for r in data["runs"] if r["name"] == "child")
    assert child["parent_id"] == populated.ids["good"]


def test_list_filters_orders_and_pages(cli: Callable[..., Result], populated: Populated) -> None:
    def names(*args: str) -> list[str]:
        result = cli(*populated.args("runs", "list", "--json", *args))
        assert result.code == 0, result.err
        return [r["name"] for r in result.json()["runs"]]

    assert names("--filter", "metrics.acc > 0.5") == ["good"]
    assert names("-f", "params.depth = '3' and status = 'FAILED'") == ["bad"]
    assert names("--order-by", "metrics.acc DESC") == ["good", "bad", "child"]
    assert names("-o", "params.lr DESC", "-o", "name") == ["bad", "good", "child"]
    assert names("-e", "empty") == []
    assert names("-e", "exp", "-e", "empty", "-f", "metrics.acc < 0.5") == ["bad"]
    first = cli(*populated.args("runs", "list", "--json", "-n", "2", "-o", "name")).json()
    assert [r["name"] for r in first["runs"]] == ["bad", "child"]
    token = first["next_token"]
    assert isinstance(token, str)
    rest = cli(
        *populated.args("runs", "list", "--json", "-n", "2", "-o", "name", "--page-token", token)
    ).json()
    assert [r["name"] for r in rest["runs"]] == ["good"]
    assert rest["next_token"] is None
    people = cli(*populated.args("runs", "list", "-n", "1"))
    assert "more: --page-token " in people.out


def test_list_with_no_match_says_so(cli: Callable[..., Result], populated: Populated) -> None:
    result = cli(*populated.args("runs", "list", "-f", "metrics.acc > 10"))
    assert (result.code, result.out) == (0, "no runs match\n")


def test_show(cli: Callable[..., Result], populated: Populated) -> None:
    run_id = populated.ids["good"]
    result = cli(*populated.args("runs", "show", run_id))
    assert result.code == 0
    for text in (run_id, "good", "FINISHED", "1m05s", "lr", "0.1", "acc", "0.9", "k"):
        assert text in result.out
    data = cli(*populated.args("runs", "show", run_id, "--json")).json()
    assert data["id"] == run_id
    assert data["params"]["depth"] == "3"
    assert data["tags"] == {"k": "v"}
    assert data["end_time"] - data["start_time"] == 65_000


def test_compare(cli: Callable[..., Result], populated: Populated) -> None:
    good, bad = populated.ids["good"], populated.ids["bad"]
    result = cli(*populated.args("runs", "compare", good, bad))
    assert result.code == 0
    assert "params.lr" in result.out
    assert "metrics.loss" in result.out
    assert "NaN" in result.out
    data = cli(*populated.args("runs", "compare", good, bad, "--json")).json()
    assert data["runs"] == [good, bad]
    rows = {f"{r['kind']}.{r['key']}": r["values"] for r in data["rows"]}
    assert rows["params.lr"] == ["0.1", "0.5"]
    assert rows["params.depth"] == ["3", "3"]
    assert rows["metrics.acc"] == [0.9, 0.4]
    assert rows["metrics.loss"] == [None, "NaN"]
    diff = cli(*populated.args("runs", "compare", good, bad, "--diff-only", "--json")).json()
    assert "params.depth" not in {f"{r['kind']}.{r['key']}" for r in diff["rows"]}
    assert len(diff["rows"]) == len(data["rows"]) - 1


def test_delete_and_restore(cli: Callable[..., Result], populated: Populated) -> None:
    good = populated.ids["good"]
    result = cli(*populated.args("runs", "delete", good, "--json"))
    assert (result.code, result.json()) == (0, {"deleted": [good]})
    listed = cli(*populated.args("runs", "list", "--json")).json()
    assert [r["name"] for r in listed["runs"]] == ["bad"]  # the nested run went with it
    everything = cli(*populated.args("runs", "list", "--all", "--json")).json()
    assert len(everything["runs"]) == 3
    shown = cli(*populated.args("runs", "show", good, "--json")).json()
    assert shown["lifecycle_stage"] == "deleted"
    assert cli(*populated.args("runs", "restore", good)).out == "restored 1 run(s)\n"
    assert len(cli(*populated.args("runs", "list", "--json")).json()["runs"]) == 3


def test_delete_checks_every_id_before_deleting_any(
    cli: Callable[..., Result], populated: Populated
) -> None:
    result = cli(*populated.args("runs", "delete", populated.ids["bad"], "missing"))
    assert result.code == 1
    assert result.err == "error: run 'missing' does not exist\n"
    assert len(cli(*populated.args("runs", "list", "--json")).json()["runs"]) == 3


def test_history(cli: Callable[..., Result], populated: Populated) -> None:
    good = populated.ids["good"]
    data = cli(*populated.args("runs", "history", good, "acc", "--json")).json()
    assert data == [
        {"step": 0, "timestamp": 1000, "value": 0.7},
        {"step": 1, "timestamp": 1100, "value": 0.9},
    ]
    table = cli(*populated.args("runs", "history", good, "acc")).out
    assert "0.7" in table
    assert "0.9" in table
    empty = cli(*populated.args("runs", "history", good, "nothing"))
    assert empty.code == 0
    assert "has no metric 'nothing'" in empty.out
