"""Diffs between versions: schema, rows, statistics, categories and drift."""

from __future__ import annotations

import numpy as np
import pandas as pd

from modelward.datasets import DatasetService


def test_schema_statistics_and_drift_changes(service: DatasetService) -> None:
    rng = np.random.default_rng(0)
    before = pd.DataFrame(
        {
            "x": rng.normal(0, 1, 5000),
            "same": rng.normal(0, 1, 5000),
            "color": rng.choice(["red", "blue"], 5000),
            "gone": np.arange(5000),
            "n": np.arange(5000),
        }
    )
    after = before.drop(columns=["gone"]).assign(
        x=lambda f: f["x"] + 1.0,
        color=rng.choice(["red", "blue", "green"], 5000),
        new=1,
        n=lambda f: f["n"].astype(float),
    )
    a = service.ingest(before, name="d").version
    b = service.ingest(after, name="d").version
    diff = service.diff(a.ref, b.ref)
    columns = {c.name: c for c in diff.columns}
    assert not diff.same_content
    assert diff.schema_changed
    assert (columns["gone"].status, columns["new"].status) == ("removed", "added")
    assert (columns["n"].status, columns["n"].type_a, columns["n"].type_b) == (
        "changed",
        "int64",
        "double",
    )
    assert columns["x"].stats["mean"][1] - columns["x"].stats["mean"][0] > 0.9
    assert columns["color"].categories_added == ["green"]
    assert columns["same"].stats == {}
    assert "x" in diff.drifted
    assert "color" in diff.drifted
    assert "same" not in diff.drifted
    assert diff.to_dict()["rows"] == [5000, 5000]


def test_same_content_diff(service: DatasetService) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3]})
    v = service.ingest(frame, name="d").version
    w = service.ingest(frame, name="e").version
    diff = service.diff(v, w)
    assert diff.same_content
    assert not diff.schema_changed
    assert all(not c.stats for c in diff.columns)
