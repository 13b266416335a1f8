"""PyTorch, ONNX, custom Python and pickle flavors: saved without pickle unless asked."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelward.client import Client
from modelward.errors import (
    InvalidInput,
    MissingDependency,
    NotFound,
    SchemaViolation,
    UnsafeModel,
)


# -- PyTorch --------------------------------------------------------------------------------
def test_torch_module_saved_as_safetensors_and_architecture(client: Client, run_id: str) -> None:
    import torch

    from tests.models.mw_test_nets import TinyNet

    torch.manual_seed(0)
    net = TinyNet(n_in=4, hidden=6)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    logged = client.models.log_model(net, "net", run_id=run_id, input_example=x)
    m = logged.manifest
    assert m.flavor == "pytorch"
    assert set(m.files) == {"weights.safetensors", "architecture.json"}
    assert m.flavor_options["class"] == "tests.models.mw_test_nets:TinyNet"
    assert m.signature is not None
    assert m.signature.inputs[0].shape == (-1, 4)
    predictor = client.models.load_model(logged.uri)
    assert predictor.backend == "torch"
    with torch.no_grad():
        expected = net(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(predictor.predict(x.astype(np.float64)), expected, rtol=1e-6)
    np.testing.assert_allclose(predictor.predict_array(x), expected, rtol=1e-6)
    loaded = predictor.unwrap()
    assert isinstance(loaded, TinyNet)
    assert loaded.init_kwargs == {"n_in": 4, "hidden": 6}
    with pytest.raises(SchemaViolation, match="size 4 on axis 1"):
        predictor.predict(np.ones((2, 3)))


def test_torch_class_from_main_script_is_refused(client: Client, run_id: str) -> None:
    import torch

    class Local(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return x

    with pytest.raises(InvalidInput, match="move the class into a module"):
        client.models.log_model(Local(), "local", run_id=run_id)


def test_missing_torch_names_the_extra(
    client: Client, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.models.mw_test_nets import TinyNet

    logged = client.models.log_model(TinyNet(), "net", run_id=run_id)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependency, match=r"pip install 'modelward\[torch\]'"):
        client.models.load_model(logged.uri)


# -- ONNX -----------------------------------------------------------------------------------
def test_onnx_model_as_given(
    client: Client, run_id: str, numeric_xy: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    from skl2onnx import to_onnx
    from sklearn.linear_model import LinearRegression

    x, y = numeric_xy
    reg = LinearRegression().fit(x, y.astype(float))
    onx = to_onnx(reg, x[:1].astype(np.float32))
    logged = client.models.log_model(onx, "graph", run_id=run_id)
    m = logged.manifest
    assert m.flavor == "onnx"
    assert m.signature is not None
    assert m.signature.kind.value == "tensor"
    assert m.signature.inputs[0].dtype == "float32"
    predictor = client.models.load_model(logged.uri)
    out = predictor.predict(x)
    np.testing.assert_allclose(out.ravel(), reg.predict(x), atol=1e-4)
    # A path to an .onnx file works too.
    path = tmp_path / "m.onnx"
    path.write_bytes(onx.SerializeToString())
    assert client.models.log_model(str(path), "from-file", run_id=run_id).manifest.flavor == "onnx"


# -- custom Python --------------------------------------------------------------------------
def test_python_model_importable_from_environment(
    client: Client, run_id: str, frame: Any, tmp_path: Path
) -> None:
    from tests.models.mw_test_nets import Threshold

    (tmp_path / "threshold.txt").write_text("50000")
    logged = client.models.log_model(
        Threshold(),
        "rule",
        run_id=run_id,
        input_example=frame.head(),
        artifacts={"threshold.txt": tmp_path / "threshold.txt"},
        init_kwargs={"column": "income"},
    )
    assert logged.manifest.flavor == "python"
    assert "artifacts/threshold.txt" in logged.manifest.files
    predictor = client.models.load_model(logged.uri)
    expected = (frame["income"] > 50_000).astype(int).to_numpy()
    np.testing.assert_array_equal(predictor.predict(frame), expected)
    assert predictor.predict_proba(frame).shape == (len(frame), 2)


def test_python_model_with_shipped_code_needs_trust(
    client: Client, run_id: str, frame: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "src" / "shipped_rule_7f3a.py"
    code.parent.mkdir()
    code.write_text(
        textwrap.dedent(
            """
            from modelward.models import PythonModel

            class Always(PythonModel):
                def predict(self, data):
                    return data["age"].to_numpy() * 0 + 1
            """
        )
    )
    monkeypatch.setattr(sys, "path", [str(code.parent), *sys.path])
    import shipped_rule_7f3a

    logged = client.models.log_model(
        shipped_rule_7f3a.Always(),
        "shipped",
        run_id=run_id,
        input_example=frame.head(),
        code_paths=[code],
    )
    assert "code/shipped_rule_7f3a.py" in logged.manifest.files
    # Simulate another machine: the module is not installed there.
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(code.parent)])
    monkeypatch.delitem(sys.modules, "shipped_rule_7f3a")
    with pytest.raises(UnsafeModel, match="code shipped inside the model"):
        client.models.load_model(logged.uri)
    predictor = client.models.load_model(logged.uri, trust=True)
    assert predictor.predict(frame.head(3)).tolist() == [1, 1, 1]


def test_python_model_whose_code_is_nowhere(
    client: Client, run_id: str, frame: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code = tmp_path / "gone_rule_91b2.py"
    code.write_text(
        "from modelward.models import PythonModel\n"
        "class Gone(PythonModel):\n"
        "    def predict(self, data):\n"
        "        return data['age'].to_numpy()\n"
    )
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    import gone_rule_91b2

    logged = client.models.log_model(gone_rule_91b2.Gone(), "gone", run_id=run_id)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    monkeypatch.delitem(sys.modules, "gone_rule_91b2")
    with pytest.raises(NotFound, match="not installed here and the model ships no code"):
        client.models.load_model(logged.uri, trust=True)


# -- pickle ---------------------------------------------------------------------------------
class _Opaque:
    def predict(self, data: Any) -> Any:
        return np.zeros(len(data))


def test_unknown_object_needs_unsafe_pickle(client: Client, run_id: str) -> None:
    with pytest.raises(InvalidInput, match=r"no safe format.*unsafe_pickle=True"):
        client.models.log_model(_Opaque(), "opaque", run_id=run_id)
    with pytest.raises(InvalidInput, match="pass unsafe_pickle=True"):
        client.models.log_model(_Opaque(), "opaque", run_id=run_id, flavor="pickle")


def test_pickled_model_loads_only_with_trust(
    client: Client, run_id: str, pipeline: Any, frame: Any
) -> None:
    logged = client.models.log_model(
        pipeline, "pickled", run_id=run_id, input_example=frame.head(), unsafe_pickle=True
    )
    assert logged.manifest.flavor == "pickle"
    assert set(logged.manifest.files) == {"model.joblib"}
    with pytest.raises(UnsafeModel, match=r"saved with pickle.*trust=True"):
        client.models.load_model(logged.uri)
    predictor = client.models.load_model(logged.uri, trust=True)
    np.testing.assert_array_equal(predictor.predict(frame), pipeline.predict(frame))
