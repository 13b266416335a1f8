"""SQL over versions: references, joins, results, and what a query may not touch."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from modelward.datasets import DatasetService
from modelward.datasets.analysis import find_refs
from modelward.errors import InvalidInput, NotFound


@pytest.fixture
def versions(service: DatasetService) -> DatasetService:
    service.ingest(pd.DataFrame({"id": [1, 2, 3], "v": [10.0, 20.0, 30.0]}), name="m")
    service.ingest(pd.DataFrame({"id": [1, 2, 3, 4], "v": [1.0, 2.0, 3.0, 4.0]}), name="m")
    service.ingest(pd.DataFrame({"id": [1, 2], "tag": ["x", "y"]}), name="tags")
    return service


def test_references_outside_strings_and_comments_are_found() -> None:
    sql = (
        "SELECT 'wine@2' AS s, \"m@1\".v -- wine@3\n"
        "FROM wine@2 JOIN \"m@1\" ON true /* beer@1 */ WHERE x = 'a@1' AND e = 'b@2'"
    )
    assert [ref for _, _, ref in find_refs(sql)] == ["m@1", "wine@2", "m@1"]


def test_query_versions_and_latest(versions: DatasetService) -> None:
    table = versions.query("SELECT count(*) AS n, sum(v) AS s FROM m@1")
    assert table.to_pylist() == [{"n": 3, "s": 60.0}]
    latest = versions.query("SELECT count(*) AS n FROM m@latest")
    assert latest.to_pylist() == [{"n": 4}]
    joined = versions.query(
        "SELECT a.id, a.v, t.tag FROM m@2 AS a JOIN tags@1 AS t USING (id) ORDER BY a.id"
    )
    assert joined.to_pylist() == [{"id": 1, "v": 1.0, "tag": "x"}, {"id": 2, "v": 2.0, "tag": "y"}]
    quoted = versions.query('SELECT max(v) AS top FROM "m@1"')
    assert quoted.to_pylist() == [{"top": 30.0}]


def test_limit_and_empty_results_keep_their_columns(versions: DatasetService) -> None:
    assert versions.query("SELECT * FROM m@2 ORDER BY id", limit=2).num_rows == 2
    empty = versions.query("SELECT id, v FROM m@2 WHERE id > 100")
    assert (empty.num_rows, empty.column_names) == (0, ["id", "v"])


def test_results_stream_to_a_file(versions: DatasetService, tmp_path: Path) -> None:
    from modelward.datasets.export import write_batches

    plan = versions.query_plan("SELECT * FROM m@2 ORDER BY id")
    assert plan.refs == {"m@2": "m@2"}
    rows = write_batches(plan.batches(), tmp_path / "out.parquet")
    assert rows == 4
    assert pq.read_table(tmp_path / "out.parquet").column("id").to_pylist() == [1, 2, 3, 4]


def test_query_errors(versions: DatasetService) -> None:
    with pytest.raises(NotFound, match="dataset 'nope' does not exist"):
        versions.query("SELECT * FROM nope@1")
    with pytest.raises(NotFound, match="dataset 'm' has no version 9"):
        versions.query("SELECT * FROM m@9")
    with pytest.raises(InvalidInput, match="the query failed: Parser Error"):
        versions.query("SELEC * FROM m@1")
    with pytest.raises(InvalidInput, match="the query failed: Catalog Error"):
        versions.query("SELECT * FROM m")
    with pytest.raises(InvalidInput, match="the query is empty"):
        versions.query("  ")


def test_queries_cannot_reach_other_files(versions: DatasetService, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(InvalidInput, match="only NAME@N references can be read"):
        versions.query(f"SELECT * FROM read_csv('{secret}')")
    with pytest.raises(InvalidInput, match="only NAME@N references can be read"):
        versions.query(f"COPY (SELECT * FROM m@1) TO '{tmp_path / 'x.csv'}'")
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(InvalidInput, match="the configuration has been locked"):
        versions.query("SET enable_external_access = true")
