"""Top-level functions: log, register, alias, load by alias, audit, lineage, export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import modelward as mw
from modelward import fluent


@pytest.fixture
def connected(sqlite_uri: str, tmp_path: Path) -> Iterator[None]:
    previous = fluent._client
    client = mw.connect(
        sqlite_uri,
        artifacts=str(tmp_path / "artifacts"),
        home=str(tmp_path / "home"),
        system_metrics=False,
        user="dana",
    )
    yield
    client.close()
    fluent._client = previous


def test_user_journey(connected: None, pipeline: Any, frame: Any, tmp_path: Path) -> None:
    with mw.start_run(experiment="churn") as run:
        mw.log_metric("auc", 0.91)
        info = mw.log_model(
            pipeline, input_example=frame.head(20), onnx=True, registered_model_name="churn"
        )
    assert info.uri == f"runs:/{run.id}/model"
    assert mw.set_alias("churn", "champion", 1) is None
    version = mw.get_model_version("churn@champion")
    assert version.version == 1
    assert version.created_by == "dana"
    predictor = mw.load_model("models:/churn@champion")
    assert isinstance(predictor, mw.Predictor)
    assert predictor.backend == "onnxruntime"
    np.testing.assert_array_equal(predictor.predict(frame), pipeline.predict(frame))
    second = mw.register_model(info, "churn", alias="challenger")
    assert second.version == 2
    assert mw.get_registered_model("churn").aliases == {
        "champion": 1,
        "challenger": 2,
    }
    assert mw.delete_alias("churn", "challenger") == 2
    assert [e.action for e in mw.model_audit("churn")][-1] == "delete_alias"
    assert mw.model_lineage("churn@champion")["run"]["metrics"]["auc"] == pytest.approx(0.91)
    out = mw.export_model("models:/churn@champion", tmp_path / "m.onnx")
    assert out.stat().st_size > 0
    saved = mw.save_model(pipeline, tmp_path / "local", input_example=frame.head())
    assert saved.run_id is None
    assert mw.load_model(tmp_path / "local").predict(frame).shape == (120,)


def test_log_model_needs_an_active_run(connected: None, pipeline: Any) -> None:
    with pytest.raises(ValueError, match="no active run"):
        mw.log_model(pipeline)
