"""Logical artifacts: files of runs, datasets and models, stored as content-addressed blobs."""

from modelward.artifacts.paths import (
    check_scope,
    normalize_artifact_path,
    normalize_artifact_prefix,
)
from modelward.artifacts.service import ArtifactService

__all__ = ["ArtifactService", "check_scope", "normalize_artifact_path", "normalize_artifact_prefix"]
