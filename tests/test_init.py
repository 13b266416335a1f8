"""The public surface of ``import modelward``: a pinned, sorted ``__all__``, resolved lazily."""

from __future__ import annotations

import pytest

import modelward

PUBLIC = [
    "ActiveRun",
    "Client",
    "EnvironmentMismatchWarning",
    "Predictor",
    "PythonModel",
    "Settings",
    "__version__",
    "active_run",
    "autolog",
    "autolog_torch",
    "connect",
    "create_experiment",
    "data",
    "delete_alias",
    "download_artifacts",
    "end_run",
    "export_model",
    "flush",
    "get_client",
    "get_experiment",
    "get_metric_history",
    "get_model_version",
    "get_registered_model",
    "get_run",
    "list_artifacts",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "model_audit",
    "model_lineage",
    "register_model",
    "save_model",
    "search_runs",
    "set_alias",
    "set_experiment",
    "set_tag",
    "set_tags",
    "start_run",
    "train",
]


def test_all_is_pinned_and_sorted() -> None:
    assert modelward.__all__ == PUBLIC
    assert modelward.__all__ == sorted(modelward.__all__)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(modelward, name)
    assert value is not None
    assert name in dir(modelward)
    if name != "__version__":
        # Functions and classes name their module; a namespace module (mw.data) is one.
        module = getattr(value, "__module__", None) or getattr(value, "__name__", "")
        assert module.startswith("modelward.")


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'modelward' has no attribute 'nope'"):
        modelward.nope  # noqa: B018
