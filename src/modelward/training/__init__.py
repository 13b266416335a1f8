"""Training and model selection: specs, search, cross-validation, executors, autologging.

Importing this package is cheap; scikit-learn, torch, optuna and ray load with the parts that
need them.
"""

from __future__ import annotations

from modelward.training.spec import TrainingSpec, load_spec, parse_spec

__all__ = ["TrainingSpec", "load_spec", "parse_spec"]
