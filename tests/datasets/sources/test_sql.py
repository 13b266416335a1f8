"""Ingesting the rows of a SQL query through SQLAlchemy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from modelward.datasets import DatasetService
from modelward.errors import InvalidInput, Unavailable


@pytest.fixture
def shop(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, item TEXT, price REAL, note)")
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            [(i, f"item{i % 3}", i * 1.5, i if i < 5 else f"text{i}") for i in range(1, 11)],
        )
    return f"sqlite:///{path}"


def test_query_rows_become_a_version(service: DatasetService, shop: str) -> None:
    version = service.ingest(
        sql="SELECT id, item, price FROM orders WHERE price > :low ORDER BY id",
        db=shop,
        name="orders",
        params={"low": 3},
    ).version
    assert version.rows == 8
    assert [(c.name, c.type) for c in version.schema] == [
        ("id", "int64"),
        ("item", "string"),
        ("price", "double"),
    ]
    assert version.source["kind"] == "sql"
    assert version.source["params"] == ["low"]


def test_a_column_whose_type_changes_between_chunks_is_widened(
    service: DatasetService, shop: str
) -> None:
    result = service.ingest(
        sql="SELECT id, note FROM orders ORDER BY id", db=shop, name="notes", chunk_rows=3
    )
    assert {c.name: c.type for c in result.version.schema}["note"] == "string"
    assert service.load(result.version)["note"].tolist()[:2] == ["1", "2"]
    assert any("column 'note'" in w for w in result.warnings)


def test_sql_errors_are_reported_clearly(
    service: DatasetService, shop: str, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="the SQL query failed: no such table: nope"):
        service.ingest(sql="SELECT * FROM nope", db=shop, name="x")
    with pytest.raises(InvalidInput, match='the SQL query failed: near "SELEC": syntax error'):
        service.ingest(sql="SELEC 1", db=shop, name="x")
    with pytest.raises(InvalidInput, match="not a database URL: 'nonsense'"):
        service.ingest(sql="SELECT 1", db="nonsense", name="x")
    with pytest.raises(Unavailable, match="cannot reach the database"):
        service.ingest(sql="SELECT 1", db=f"sqlite:///{tmp_path}/no/such/dir/x.db", name="x")
    with pytest.raises(InvalidInput, match="has no rows"):
        service.ingest(sql="SELECT * FROM orders WHERE id < 0", db=shop, name="x")
    with pytest.raises(InvalidInput, match="needs both the query \\(sql=\\) and the database"):
        service.ingest(sql="SELECT 1", name="x")
    assert service.list() == []
