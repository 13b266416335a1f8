"""Expectations: parsing (YAML, dict, builder) and every check, on batches."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from modelward.datasets import DatasetService
from modelward.datasets.validation import Expectations, check_table
from modelward.errors import InvalidInput, NotFound, SchemaViolation

TABLE = pa.table(
    {
        "id": [1, 2, 3, 3],
        "price": [1.0, 5.0, None, float("nan")],
        "color": ["red", "blue", "green", None],
        "when": pa.array([0, 1, 2, 3], pa.timestamp("s")),
    }
)

YAML = """
rows: {min: 2, max: 10}
columns:
  id:
    type: integer
    unique: true
  price:
    type: number
    min: 0
    max: {value: 4, severity: warn}
    max_null_fraction: 0.5
  color:
    allowed: [red, blue]
    severity: warn
  when:
    type: timestamp
    min: "1970-01-01 00:00:01"
  extra:
    required: false
"""


def _failed(report: object) -> list[tuple[str | None, str, str]]:
    return [(r.column, r.check, r.severity) for r in report.results if not r.passed]  # type: ignore[attr-defined]


def test_yaml_expectations_find_each_problem(tmp_path: Path) -> None:
    path = tmp_path / "expect.yaml"
    path.write_text(YAML)
    expectations = Expectations.from_yaml(path)
    batches = TABLE.to_batches(max_chunksize=1)
    report = check_table(list(batches), expectations)
    assert _failed(report) == [
        ("id", "unique", "error"),
        ("price", "max", "warn"),
        ("color", "allowed", "warn"),
        ("when", "min", "error"),
    ]
    assert not report.passed
    results = {(r.column, r.check): r for r in report.results}
    assert results[("id", "unique")].observed == "1 repeated value(s): 3"
    assert results[("price", "max_null_fraction")].observed == "50.00% missing (2 rows)"
    assert results[("color", "allowed")].observed == "1 other value(s): 'green'"
    assert results[("when", "min")].observed.startswith("1 value(s) below")
    assert ("extra", "required") not in results
    assert report.summary().startswith("2 failed of 14 expectation checks: id unique")


def test_builder_and_dict_forms_agree() -> None:
    built = (
        Expectations()
        .column("id", type="integer", unique=True)
        .column("price", nullable=False)
        .rows(min=5)
    )
    assert Expectations.from_dict(built.to_dict()) == built
    report = check_table(TABLE, built)
    assert _failed(report) == [
        ("id", "unique", "error"),
        ("price", "max_null_fraction", "error"),
        (None, "rows", "error"),
    ]


def test_schema_checks_and_strict_columns() -> None:
    expectations = Expectations.from_dict(
        {"strict_columns": True, "columns": {"id": {"type": "string"}, "missing": {}}}
    )
    report = check_table(TABLE, expectations)
    assert _failed(report) == [
        ("id", "type", "error"),
        ("missing", "required", "error"),
        (None, "columns", "error"),
    ]
    with pytest.raises(SchemaViolation, match="the data does not meet its expectations") as info:
        report.raise_for_errors("the data")
    assert info.value.details["report"]["errors"] == 3


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"colums": {}}, "unknown expectation key\\(s\\) colums"),
        ({"columns": {"a": {"typ": "int"}}}, "unknown check\\(s\\) typ on column 'a'"),
        ({"columns": {"a": {"type": "quaternion"}}}, "unknown type 'quaternion' for column 'a'"),
        ({"columns": {"a": {"min": 5, "max": 1}}}, "min \\(5\\) is above max \\(1\\)"),
        ({"columns": {"a": {"max_null_fraction": 2}}}, "must lie in \\[0, 1\\], not 2"),
        ({"columns": {"a": {"allowed": "abc"}}}, "'allowed' of column 'a' must be a non-empty"),
        ({"columns": {"a": {"severity": "fatal"}}}, "must be 'error' or 'warn', not 'fatal'"),
        ({"rows": {"least": 1}}, "'rows' takes min, max and severity"),
        ({"rows": {"min": -1}}, "rows.min must be a non-negative integer"),
        (["a"], "expectations must be a mapping"),
    ],
)
def test_malformed_expectations_are_refused(document: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Expectations.from_dict(document)  # type: ignore[arg-type]


def test_yaml_errors_name_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  a: [1\n")
    with pytest.raises(InvalidInput, match=r"bad.yaml is not valid YAML at line 3 column 1"):
        Expectations.from_yaml(bad)
    with pytest.raises(NotFound, match=r"no expectations file .*nope\.yaml"):
        Expectations.from_yaml(tmp_path / "nope.yaml")


def test_validate_a_stored_version(service: DatasetService) -> None:
    version = service.ingest(TABLE, name="t").version
    report = service.validate(version, {"columns": {"price": {"min": 2}}, "rows": {"max": 3}})
    assert _failed(report) == [("price", "min", "error"), (None, "rows", "error")]
    rows_only = service.validate(version, {"rows": {"min": 4}})
    assert rows_only.passed
    assert rows_only.rows == 4
