"""scikit-learn flavor: skops by default, refusal of untrusted types, ONNX export with parity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelward.client import Client
from modelward.errors import InvalidInput, UnsafeModel
from modelward.models.manifest import MANIFEST_FILE


def _double(x: Any) -> Any:
    return x * 2


def test_pipeline_round_trips_through_skops(
    client: Client, run_id: str, pipeline: Any, frame: Any
) -> None:
    logged = client.models.log_model(pipeline, "model", run_id=run_id, input_example=frame.head())
    m = logged.manifest
    assert m.flavor == "sklearn"
    assert m.flavor_options["serializer"] == "skops"
    assert m.framework["name"] == "scikit-learn"
    assert m.run_id == run_id
    assert m.metrics == {"accuracy": 0.93}
    assert set(m.files) == {"model.skops"}
    assert [c.name for c in m.signature.inputs] == ["age", "income", "plan"]  # type: ignore[union-attr]
    assert any(r.startswith("scikit-learn==") for r in m.requirements)
    assert m.environment["packages"]["scikit-learn"]
    assert m.has_predict_proba
    names = {e.path for e in client.artifacts.list(f"runs/{run_id}", "model")}
    assert names == {"model/model.skops", f"model/{MANIFEST_FILE}"}

    predictor = client.models.load_model(logged.uri)
    assert predictor.backend == "sklearn"
    np.testing.assert_array_equal(predictor.predict(frame), pipeline.predict(frame))
    np.testing.assert_allclose(predictor.predict_proba(frame), pipeline.predict_proba(frame))


def test_tree_ensembles_load_without_trust(
    client: Client, run_id: str, numeric_xy: tuple[np.ndarray, np.ndarray]
) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    x, y = numeric_xy
    for i, est in enumerate(
        [RandomForestClassifier(n_estimators=5, random_state=0), HistGradientBoostingClassifier()]
    ):
        est.fit(x, y)
        logged = client.models.log_model(est, f"trees{i}", run_id=run_id, input_example=x[:5])
        assert logged.manifest.flavor_options["input_format"] == "array"
        predictor = client.models.load_model(logged.uri)
        np.testing.assert_array_equal(predictor.predict(x), est.predict(x))


def test_custom_function_is_refused_until_trusted(client: Client, run_id: str) -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    x = np.arange(20, dtype=float).reshape(-1, 2)
    model = make_pipeline(FunctionTransformer(_double), LinearRegression()).fit(x, x[:, 0])
    logged = client.models.log_model(model, "custom", run_id=run_id, input_example=x[:3])
    untrusted = logged.manifest.flavor_options["types_needing_trust"]
    assert any("_double" in t for t in untrusted)
    with pytest.raises(UnsafeModel, match=r"not on modelward's reviewed list.*trusted_types="):
        client.models.load_model(logged.uri)
    by_name = client.models.load_model(logged.uri, trusted_types=untrusted)
    np.testing.assert_allclose(by_name.predict(x), model.predict(x))
    assert client.models.load_model(logged.uri, trust=True).predict(x[:1]).shape == (1,)


def test_onnx_export_with_parity_is_preferred(
    client: Client, run_id: str, pipeline: Any, frame: Any
) -> None:
    logged = client.models.log_model(
        pipeline, "model", run_id=run_id, input_example=frame.head(30), onnx=True
    )
    onnx = logged.manifest.onnx
    assert onnx is not None
    assert onnx["inputs"] == "columns"
    assert onnx["parity"]["passed"]
    assert onnx["parity"]["max_abs_diff"] < 1e-4
    assert onnx["parity"]["rows"] == 30
    fast = client.models.load_model(logged.uri)
    assert fast.backend == "onnxruntime"
    np.testing.assert_array_equal(fast.predict(frame), pipeline.predict(frame))
    np.testing.assert_allclose(fast.predict_proba(frame), pipeline.predict_proba(frame), atol=1e-4)
    native = client.models.load_model(logged.uri, backend="native")
    assert native.backend == "sklearn"


def test_numeric_model_exports_one_tensor_and_fast_path_matches(
    client: Client, run_id: str, numeric_xy: tuple[np.ndarray, np.ndarray]
) -> None:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = numeric_xy
    model = make_pipeline(StandardScaler(), Ridge()).fit(x, y.astype(float))
    logged = client.models.log_model(model, "ridge", run_id=run_id, input_example=x[:20], onnx=True)
    assert logged.manifest.onnx is not None
    assert logged.manifest.onnx["inputs"] == "tensor"
    predictor = client.models.load_model(logged.uri)
    out = predictor.predict_array(x[:1])
    assert out.shape == (1,)
    np.testing.assert_allclose(out, model.predict(x[:1]), atol=1e-4)
    np.testing.assert_allclose(predictor.predict(x), model.predict(x), atol=1e-4)


def test_failed_parity_keeps_the_export_but_not_as_default(
    client: Client, run_id: str, pipeline: Any, frame: Any, caplog: pytest.LogCaptureFixture
) -> None:
    logged = client.models.log_model(
        pipeline,
        "strict",
        run_id=run_id,
        input_example=frame.head(30),
        onnx=True,
        onnx_tolerance=0.0,
    )
    parity = logged.manifest.onnx["parity"]  # type: ignore[index]
    if parity["max_abs_diff"] == 0.0:
        pytest.skip("float32 export happened to be exact")
    assert not parity["passed"]
    assert "not used by default" in caplog.text
    assert client.models.load_model(logged.uri).backend == "sklearn"
    assert client.models.load_model(logged.uri, backend="onnx").backend == "onnxruntime"


def test_onnx_needs_an_example(client: Client, run_id: str, pipeline: Any) -> None:
    with pytest.raises(InvalidInput, match="ONNX export needs"):
        client.models.log_model(pipeline, "model", run_id=run_id, onnx=True)


def test_export_converts_or_copies(
    client: Client, run_id: str, pipeline: Any, frame: Any, tmp_path: Path
) -> None:
    import onnxruntime as ort

    plain = client.models.log_model(pipeline, "plain", run_id=run_id, input_example=frame.head())
    converted = client.models.export(plain.uri, tmp_path / "converted.onnx")
    sess = ort.InferenceSession(str(converted), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["age", "income", "plan"]
    stored = client.models.log_model(
        pipeline, "stored", run_id=run_id, input_example=frame.head(), onnx=True
    )
    (tmp_path / "dir").mkdir()
    copied = client.models.export(stored.uri, tmp_path / "dir")
    assert copied == tmp_path / "dir" / "model.onnx"
    path, _ = client.models.local_path(stored.uri)
    assert copied.read_bytes() == (path / "model.onnx").read_bytes()
    with pytest.raises(InvalidInput, match="unsupported export format"):
        client.models.export(plain.uri, tmp_path / "x", format="pmml")


def test_manifest_is_canonical_json(client: Client, run_id: str, pipeline: Any, frame: Any) -> None:
    logged = client.models.log_model(pipeline, "model", run_id=run_id, input_example=frame.head())
    raw = client.artifacts.read_bytes(f"runs/{run_id}", f"model/{MANIFEST_FILE}")
    doc = json.loads(raw)
    assert doc["format_version"] == 1
    assert doc["files"]["model.skops"]["size"] > 0
    import hashlib

    assert hashlib.sha256(raw).hexdigest() == logged.manifest_digest
