"""``modelward data``: every sub-command, for people and with --json, and one-line errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.cli.conftest import Result

Run = Callable[..., Result]


@pytest.fixture
def mw(cli: Run, tmp_path: Path) -> Callable[..., Result]:
    """``modelward --home TMP ARGS…``."""
    home = tmp_path / "home"

    def run(*args: str) -> Result:
        return cli("--home", str(home), *args)

    return run


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    path.write_text("day,region,amount\n1,north,10.5\n2,south,\n2,south,\n3,north,7.25\n")
    return path


def test_ingest_list_show(mw: Run, sales: Path) -> None:
    first = mw("data", "ingest", str(sales), "--name", "sales")
    assert first.code == 0, first.err
    assert first.out.startswith("created sales@1: 4 rows x 3 columns")
    again = mw("data", "ingest", str(sales), "--name", "sales", "--json")
    assert again.json()["reused_by"] == "fingerprint"
    wine = mw("data", "ingest", "sklearn:wine", "-n", "wine", "--json").json()
    assert wine["version"]["ref"] == "wine@1"
    assert wine["created"] is True
    listing = mw("data", "list", "--json").json()
    assert [(d["name"], d["latest"]) for d in listing] == [("sales", 1), ("wine", 1)]
    assert "wine@1" in mw("data", "list").out
    shown = mw("data", "show", "sales")
    assert shown.code == 0
    assert "amount" in shown.out
    assert "double" in shown.out
    info = mw("data", "show", "sales@1", "--json").json()
    assert info["schema"][2] == {"name": "amount", "type": "double", "nullable": True}
    assert info["profile"]["row_count"] == 4
    assert info["lineage"]["parents"] == []
    slim = mw("data", "show", "sales@1", "--no-profile", "--json").json()
    assert "profile" not in slim


def test_prepare_split_diff_query_export(mw: Run, sales: Path, tmp_path: Path) -> None:
    mw("data", "ingest", str(sales), "--name", "sales")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "name: sales_clean\ninputs: {sales: sales@1}\nsteps:\n  - drop_duplicates\n"
        "  - fill_missing: {columns: [amount], method: constant, value: 0}\n"
    )
    prepared = mw("data", "prepare", str(recipe), "--json")
    assert prepared.code == 0, prepared.err
    assert prepared.json()["version"]["parents"] == ["sales@1"]
    shown = mw("data", "show", "sales_clean")
    assert "lineage of sales_clean@1" in shown.out
    assert "sales@1" in shown.out
    split = mw("data", "split", "sales_clean", "--test", "0.34", "--seed", "1", "--json").json()
    assert split["sizes"] == {"train": 2, "validation": 0, "test": 1}
    assert (
        "split seed1 of sales_clean@1: train 2"
        in mw("data", "split", "sales_clean", "--test", "0.34", "--seed", "1").out
    )
    diff = mw("data", "diff", "sales@1", "sales_clean@1", "--json").json()
    assert diff["rows"] == [4, 3]
    assert (
        "sales@1 -> sales_clean@1: rows 4 -> 3 (-1)"
        in mw("data", "diff", "sales@1", "sales_clean@1").out
    )
    rows = mw(
        "data",
        "query",
        "SELECT region, sum(amount) AS total FROM sales_clean@1 GROUP BY 1 ORDER BY 1",
        "--json",
    ).json()
    assert rows == [{"region": "north", "total": 17.75}, {"region": "south", "total": 0.0}]
    table = mw("data", "query", "SELECT * FROM sales@1", "--limit", "2")
    assert "2 row(s) (limit reached)" in table.out
    out = tmp_path / "q.parquet"
    written = mw("data", "query", "SELECT * FROM sales@1", "--output", str(out), "--json")
    assert written.json() == {"output": str(out), "rows": 4}
    assert pq.read_table(out).num_rows == 4
    exported = mw("data", "export", "sales_clean@1", "-o", str(tmp_path / "e.csv"))
    assert exported.code == 0
    assert (tmp_path / "e.csv").read_text().splitlines()[0] == '"day","region","amount"'


def test_validate_and_failing_expectations(mw: Run, sales: Path, tmp_path: Path) -> None:
    expect = tmp_path / "expect.yaml"
    expect.write_text("rows: {min: 10}\ncolumns:\n  amount: {max_null_fraction: 0}\n")
    failed = mw("data", "ingest", str(sales), "--name", "sales", "--expect", str(expect))
    assert failed.code == 1
    assert "FAIL" in failed.err
    assert "max_null_fraction" in failed.err
    last = failed.err.strip().splitlines()[-1]
    assert last.startswith("error: the data does not meet its expectations, nothing was stored")
    assert mw("data", "list", "--json").json() == []
    mw("data", "ingest", str(sales), "--name", "sales")
    checked = mw("data", "validate", "sales", "--expect", str(expect), "--json")
    assert checked.code == 1
    assert checked.err.startswith("error: sales@1 fails its expectations: 2 failed of")
    soft = tmp_path / "soft.yaml"
    soft.write_text("rows: {min: 10, severity: warn}\n")
    ok = mw("data", "validate", "sales", "--expect", str(soft))
    assert ok.code == 0
    assert "WARN" in ok.out


def test_http_and_sql_options_reach_their_sources(mw: Run, tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        conn.execute("INSERT INTO t VALUES (1, 'x'), (2, 'y')")
    made = mw(
        "data",
        "ingest",
        "--name",
        "t",
        "--sql",
        "SELECT * FROM t WHERE a >= :low",
        "--db",
        f"sqlite:///{db}",
        "--param",
        "low=2",
        "--json",
    )
    assert made.code == 0, made.err
    assert made.json()["version"]["rows"] == 1
    down = mw("data", "ingest", "http://127.0.0.1:9/x", "--name", "h", "--retries", "0")
    assert down.code == 1
    assert down.err.startswith("error: GET http://127.0.0.1:9/x failed after 1 attempt(s)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("data", "ingest", "/no/such.csv", "--name", "x"),
            "error: no such file or folder: /no/such.csv; check the path\n",
        ),
        (
            ("data", "show", "nope@3"),
            "error: dataset 'nope' does not exist; list datasets with: modelward data list\n",
        ),
        (("data", "ingest", "sklearn:nope", "--name", "x"), "error: unknown scikit-learn dataset"),
        (("data", "ingest", "--name", "x"), "error: nothing to ingest"),
        (("data", "query", "SELECT * FROM ghost@1"), "error: dataset 'ghost' does not exist"),
        (
            ("data", "ingest", "sklearn:wine", "--name", "x", "--type", "oops"),
            "Error: Invalid value: 'oops' is not a column type (KEY=VALUE)",
        ),
    ],
)
def test_errors_are_one_line(mw: Run, args: tuple[str, ...], message: str) -> None:
    result = mw(*args)
    assert result.code in (1, 2)
    assert message in result.err
    assert "Traceback" not in result.err
