"""modelward: model management from data to monitoring.

``import modelward as mw`` is cheap: every name below is imported on first use.

Example:
    >>> import modelward as mw
    >>> with mw.start_run(experiment="exp") as run:
    ...     mw.log_param("lr", 0.1)
    ...     mw.log_metric("loss", 0.5, step=1)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from modelward._version import __version__

if TYPE_CHECKING:
    from modelward import data
    from modelward.client import Client
    from modelward.config import Settings
    from modelward.fluent import (
        ActiveRun,
        active_run,
        connect,
        create_experiment,
        download_artifacts,
        end_run,
        flush,
        get_client,
        get_experiment,
        get_metric_history,
        get_run,
        list_artifacts,
        log_artifact,
        log_artifacts,
        log_dict,
        log_input,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        search_runs,
        set_experiment,
        set_tag,
        set_tags,
        start_run,
    )
    from modelward.models import EnvironmentMismatchWarning, Predictor, PythonModel
    from modelward.models.fluent import (
        delete_alias,
        export_model,
        get_model_version,
        get_registered_model,
        load_model,
        log_model,
        model_audit,
        model_lineage,
        register_model,
        save_model,
        set_alias,
    )
    from modelward.training.fluent import autolog, autolog_torch, train

__all__ = [
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

_MODEL_FUNCTIONS = frozenset(
    {
        "delete_alias",
        "export_model",
        "get_model_version",
        "get_registered_model",
        "load_model",
        "log_model",
        "model_audit",
        "model_lineage",
        "register_model",
        "save_model",
        "set_alias",
    }
)
_TRAINING_FUNCTIONS = frozenset({"autolog", "autolog_torch", "train"})
_NOT_FLUENT = frozenset(
    {
        "Client",
        "EnvironmentMismatchWarning",
        "Predictor",
        "PythonModel",
        "Settings",
        "__version__",
        "data",
    }
)

# Where each public name lives; resolved lazily by __getattr__ so `import modelward` stays fast.
_LAZY: dict[str, str] = {
    "Client": "modelward.client",
    "Settings": "modelward.config",
    "EnvironmentMismatchWarning": "modelward.models",
    "Predictor": "modelward.models",
    "PythonModel": "modelward.models",
    # A namespace module: ``mw.data.ingest(...)``.
    "data": "modelward.data",
    **dict.fromkeys(_MODEL_FUNCTIONS, "modelward.models.fluent"),
    **dict.fromkeys(_TRAINING_FUNCTIONS, "modelward.training.fluent"),
    **{
        name: "modelward.fluent"
        for name in __all__
        if name not in _NOT_FLUENT
        and name not in _MODEL_FUNCTIONS
        and name not in _TRAINING_FUNCTIONS
    },
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'modelward' has no attribute {name!r}")
    imported = importlib.import_module(module)
    value = imported if module == f"{__name__}.{name}" else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
