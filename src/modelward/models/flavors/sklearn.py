"""scikit-learn flavor: saved with skops, whose loader refuses types it was not told to trust.

skops rebuilds an estimator from a description of its objects, not by running pickle; every
type outside its own safe set must be named as trusted. modelward adds a short list of
scikit-learn internals it has reviewed (:data:`TRUSTED_TYPES`: tree structures, neighbour
indexes, optimisers, scoring functions, the NumPy dtype). Anything else (a custom function in
a ``FunctionTransformer``, a third-party estimator) is refused with the list of types and how
to trust them. An ONNX export can be stored beside the skops file (see
:mod:`modelward.models.flavors.sklearn_onnx`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from modelward.entities.models import ModelManifest, ModelSignature, SignatureKind
from modelward.errors import InvalidInput, UnsafeModel, require
from modelward.models.flavors import Backend, LoadOptions, Saved, SaveRequest, requirements
from modelward.models.signature import Table, infer_signature

__all__ = ["TRUSTED_TYPES", "load", "native_backend", "save"]

log = logging.getLogger(__name__)

MODEL_FILE = "model.skops"

#: Types beyond skops' defaults that modelward loads without ``trust``. Each entry was
#: reviewed: it is scikit-learn (or NumPy) data or a pure function, and loading it cannot run
#: code chosen by the file's author. Add to it only after the same review.
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "numpy.dtype",
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.neighbors._kd_tree.KDTree",
        "sklearn.neighbors._ball_tree.BallTree",
        "sklearn.metrics._dist_metrics.EuclideanDistance64",
        "sklearn.metrics._dist_metrics.ManhattanDistance64",
        "sklearn.metrics._dist_metrics.MinkowskiDistance64",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.feature_selection._univariate_selection.f_classif",
        "sklearn.feature_selection._univariate_selection.f_regression",
        "sklearn.feature_selection._univariate_selection.chi2",
        "sklearn.feature_selection._mutual_info.mutual_info_classif",
        "sklearn.feature_selection._mutual_info.mutual_info_regression",
        # modelward's own estimators (modelward.training): their saved state is params and
        # NumPy arrays; the MLP's __setstate__ rebuilds its network from JSON-able sizes and
        # those arrays (no code from the file runs).
        "modelward.training.features.MutualInfoSelector",
        "modelward.training.torch_mlp.MLPClassifier",
        "modelward.training.torch_mlp.MLPRegressor",
    }
)

_PACKAGES = ["scikit-learn", "skops", "numpy", "scipy", "pandas"]


def _wants_frame(model: Any, example: Any) -> bool:
    import pandas as pd

    if hasattr(model, "feature_names_in_"):
        return True
    return isinstance(example, pd.DataFrame | dict | list)


def _predict_output(model: Any, example: Any) -> Any:
    import pandas as pd

    if isinstance(example, list | dict) and not isinstance(example, pd.DataFrame):
        from modelward.models.signature import _as_example_frame

        example = _as_example_frame(example)
    return model.predict(example)


def save(model: Any, path: Path, request: SaveRequest) -> Saved:
    """Write ``model`` with skops (and optionally ONNX) into ``path``."""
    sio = require("skops.io", "all")
    if not hasattr(model, "predict"):
        raise InvalidInput(
            f"{type(model).__name__} has no predict(); log a fitted estimator or pipeline"
        )
    signature = request.signature
    if signature is None and request.input_example is not None:
        output = _predict_output(model, request.input_example)
        signature = infer_signature(request.input_example, output)
    if signature is not None and signature.kind is not SignatureKind.COLUMNS:
        raise InvalidInput("a scikit-learn model takes a columns signature, not tensors")
    if (
        signature is not None
        and hasattr(model, "predict_proba")
        and request.input_example is not None
    ):
        signature = _with_proba_output(model, request.input_example, signature)
    file = path / MODEL_FILE
    sio.dump(model, file)
    untrusted = sio.get_untrusted_types(file=str(file))
    needs_trust = sorted(t for t in untrusted if t not in TRUSTED_TYPES)
    if needs_trust:
        log.warning(
            "this model contains types outside modelward's reviewed list (%s); loading it "
            "will need trusted_types=[...] or trust=True",
            ", ".join(needs_trust),
        )
    import sklearn

    options: dict[str, Any] = {
        "file": MODEL_FILE,
        "serializer": "skops",
        "input_format": "frame" if _wants_frame(model, request.input_example) else "array",
        "types_needing_trust": needs_trust,
        "estimator": f"{type(model).__module__}.{type(model).__qualname__}",
    }
    saved = Saved(
        options=options,
        framework={"name": "scikit-learn", "version": sklearn.__version__},
        requirements=requirements(["scikit-learn", "skops", "numpy", "pandas"]),
        packages=list(_PACKAGES),
        signature=signature,
        has_predict_proba=hasattr(model, "predict_proba"),
    )
    if request.onnx:
        from modelward.models.flavors import sklearn_onnx

        saved.onnx = sklearn_onnx.export(model, path, signature, request, options["input_format"])
        saved.requirements += requirements(["onnxruntime"])
        saved.packages += ["onnxruntime", "skl2onnx", "onnx"]
    return saved


def _with_proba_output(model: Any, example: Any, signature: ModelSignature) -> ModelSignature:
    from modelward.entities.models import ColumnSpec
    from modelward.models.signature import _as_example_frame

    try:
        proba = np.asarray(model.predict_proba(_as_example_frame(example)))
    except Exception:  # a model whose proba is unavailable for this data: keep the signature
        return signature
    names = [c.name for c in signature.outputs]
    if "probabilities" in names:
        return signature
    spec = ColumnSpec("probabilities", str(proba.dtype), (-1, *proba.shape[1:]))
    return ModelSignature(signature.inputs, (*signature.outputs, spec), signature.kind)


def _untrusted_message(unknown: Sequence[str]) -> str:
    listed = ", ".join(repr(t) for t in unknown)
    return (
        f"refusing to load: the model file contains type(s) {listed} that are not on "
        "modelward's reviewed list, and loading them could execute code. If you trust where "
        f"this model comes from, pass trusted_types=[{listed}] (only these) or trust=True "
        "(anything) to load_model"
    )


def load_estimator(path: Path, manifest: ModelManifest, options: LoadOptions) -> Any:
    """Load the skops file, trusting only the reviewed list plus what the caller allowed."""
    sio = require("skops.io", "all")
    file = path / str(manifest.flavor_options.get("file", MODEL_FILE))
    untrusted = sio.get_untrusted_types(file=str(file))
    allowed = TRUSTED_TYPES | set(options.trusted_types)
    unknown = sorted(t for t in untrusted if t not in allowed)
    if unknown and not options.trust:
        raise UnsafeModel(_untrusted_message(unknown), details={"untrusted_types": unknown})
    return sio.load(file, trusted=list(untrusted))


def native_backend(model: Any, input_format: str, name: str) -> Backend:
    """Wrap an in-memory estimator: the predictor's Table becomes a frame or an array."""
    as_frame = input_format == "frame"

    def prepare(data: Any) -> Any:
        if isinstance(data, Table):
            return data.frame() if as_frame else data.array()
        return data

    def predict(data: Any) -> Any:
        return np.asarray(model.predict(prepare(data)))

    proba = None
    if hasattr(model, "predict_proba"):

        def proba(data: Any) -> Any:
            return np.asarray(model.predict_proba(prepare(data)))

    return Backend(name, predict, proba, "table", model)


def load(path: Path, manifest: ModelManifest, options: LoadOptions) -> Backend:
    """Load the model: ONNX Runtime when preferred and a passing export exists, else skops."""
    onnx_info = manifest.onnx
    if options.backend != "native" and onnx_info is not None:
        from modelward.models.flavors import sklearn_onnx

        passed = bool(onnx_info.get("parity", {}).get("passed"))
        if options.backend == "onnx" or passed:
            return sklearn_onnx.load(path, manifest, onnx_info)
    if options.backend == "onnx":
        raise InvalidInput(
            "this model has no ONNX export; load it with backend='native' or log it again "
            "with onnx=True"
        )
    estimator = load_estimator(path, manifest, options)
    return native_backend(
        estimator, str(manifest.flavor_options.get("input_format", "frame")), "sklearn"
    )
