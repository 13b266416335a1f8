"""QualityChecker: null rates, training range, unseen categories, schema."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelward.errors import InvalidInput
from modelward.monitoring.quality import QualityChecker, check_quality
from modelward.monitoring.schema import IssueKind
from modelward.profiling import profile_table


def _reference(n: int = 1_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.uniform(18, 90, n),
            "city": rng.choice(["paris", "rome", "oslo"], n),
            "income": np.where(rng.random(n) < 0.02, np.nan, rng.normal(50, 10, n)),
        }
    )


def test_clean_data_passes() -> None:
    ref = _reference()
    report = check_quality(ref, ref.sample(200, random_state=1))
    assert report.passed
    assert report.failed_columns == ()
    assert report.summary == "All 3 columns passed the quality checks."


def test_out_of_range_values_are_counted() -> None:
    ref = _reference()
    cur = pd.DataFrame(
        {"age": [17.0, 20.0, 30.0, 95.0, 96.0], "city": ["rome"] * 5, "income": [50.0] * 5}
    )
    report = QualityChecker().fit(ref).score(cur)
    age = next(c for c in report.columns if c.column == "age")
    assert (age.below_min, age.above_max) == (1, 2)
    assert age.out_of_range_share == pytest.approx(0.6)
    assert age.issues == ("out_of_range",)
    assert not report.passed
    assert "age: out_of_range" in report.summary


def test_null_rate_rise_is_flagged() -> None:
    ref = _reference()
    cur = ref.head(100).copy()
    cur.loc[:29, "income"] = np.nan
    report = QualityChecker().fit(ref).score(cur)
    income = next(c for c in report.columns if c.column == "income")
    assert income.null_rate_current == pytest.approx(cur["income"].isna().mean())
    assert income.null_rate_reference == pytest.approx(ref["income"].isna().mean())
    assert "null_rate" in income.issues
    loose = QualityChecker(max_null_rate_increase=0.5).fit(ref).score(cur)
    assert loose.passed


def test_unseen_categories() -> None:
    ref = _reference()
    cur = pd.DataFrame(
        {"age": [30.0] * 4, "city": ["rome", "lima", "lima", "kyiv"], "income": [50.0] * 4}
    )
    city = next(c for c in check_quality(ref, cur).columns if c.column == "city")
    assert city.unseen_categories == ("lima", "kyiv")
    assert city.unseen_share == pytest.approx(0.75)
    assert city.reference_complete
    assert city.issues == ("unseen_categories",)


def test_unseen_categories_not_flagged_against_an_incomplete_reference() -> None:
    ref = pd.DataFrame({"id": [f"u{i}" for i in range(100)]})
    cur = pd.DataFrame({"id": ["u1", "zzz"]})
    col = QualityChecker(max_categories=10).fit(ref).score(cur).columns[0]
    assert col.reference_complete is False
    assert col.issues == ()


def test_schema_violations() -> None:
    ref = _reference()
    cur = pd.DataFrame({"age": ["old", "young"], "extra": [1, 2]})
    report = check_quality(ref, cur)
    kinds = {(i.column, i.issue) for i in report.schema_issues}
    assert kinds == {
        ("age", IssueKind.TYPE_MISMATCH),
        ("city", IssueKind.MISSING),
        ("income", IssueKind.MISSING),
        ("extra", IssueKind.UNEXPECTED),
    }
    assert not report.passed
    assert all(not c.checked for c in report.columns)


def test_non_nullable_schema_and_infinite_values() -> None:
    schema = pa.schema([pa.field("x", pa.float64(), nullable=False)])
    ref = pa.table({"x": [1.0, 2.0, 3.0]}, schema=schema)
    cur = pa.table({"x": pa.array([1.0, None, float("inf")])})
    col = QualityChecker(max_null_rate_increase=1.0).fit(ref).score(cur).columns[0]
    assert set(col.issues) == {"unexpected_nulls", "infinite_values"}
    assert col.infinite_current == 1


def test_profile_reference_and_json() -> None:
    ref = _reference()
    cur = pd.DataFrame({"age": [10.0, 50.0], "city": ["oslo", "oslo"], "income": [50.0, 51.0]})
    report = QualityChecker().fit(profile_table(ref)).score(cur)
    assert report.failed_columns == ("age",)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["passed"] is False
    assert data["columns"][0]["issues"] == ["out_of_range"]


def test_faults() -> None:
    ref = _reference()
    with pytest.raises(InvalidInput, match="current window has no rows"):
        check_quality(ref, ref.head(0))
    with pytest.raises(InvalidInput, match=r"max_unseen_share must lie in \[0, 1\], got 2"):
        QualityChecker(max_unseen_share=2).fit(ref)
    with pytest.raises(InvalidInput, match="not fitted yet"):
        QualityChecker().score(ref)
