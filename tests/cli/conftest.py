"""CLI fixtures: an embedded client, a run, a small tabular problem (tests/model_fixtures.py),
and the training fixtures (tests/training_fixtures.py)."""

from model_fixtures import client, frame, labels, numeric_xy, pipeline, run_id
from training_fixtures import datasets, diabetes_spec, wine_spec

__all__ = [
    "client",
    "datasets",
    "diabetes_spec",
    "frame",
    "labels",
    "numeric_xy",
    "pipeline",
    "run_id",
    "wine_spec",
]
