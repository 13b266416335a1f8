"""Model fixtures: an embedded client, a run, a small tabular problem (tests/model_fixtures.py)."""

from tests.model_fixtures import client, frame, labels, numeric_xy, pipeline, run_id

__all__ = ["client", "frame", "labels", "numeric_xy", "pipeline", "run_id"]
