"""The datasets part of the metadata store contract: versions, splits and run inputs."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

from modelward.entities import (
    DatasetSplit,
    DatasetSummary,
    DatasetVersion,
    NewDatasetVersion,
    RunInput,
)

__all__ = ["DatasetStore"]


class DatasetStore(abc.ABC):
    """Named datasets and their immutable, numbered versions.

    Every method is atomic. Numbering is safe under concurrent writers: two processes adding
    versions of one name at once get distinct numbers, or, when their content digests are
    equal, the second gets the first's version.
    """

    @abc.abstractmethod
    def create_dataset_version(
        self, name: str, new: NewDatasetVersion
    ) -> tuple[DatasetVersion, bool]:
        """Record a version of ``name`` (creating the name) in one transaction.

        The version's Parquet blob must already be in the artifact store: this also records
        the artifact entry ``datasets/<version id>/data.parquet`` naming it.

        Returns:
            ``(version, created)``: ``created`` is false when ``name`` already had a version
            with the same content digest, which is returned instead.

        Raises:
            NotFound: A parent id does not exist.
        """

    @abc.abstractmethod
    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersion:
        """Return version ``version`` of ``name`` (``None``: the newest).

        Raises:
            NotFound: No such dataset or version.
        """

    @abc.abstractmethod
    def get_dataset_version_by_id(self, version_id: str) -> DatasetVersion:
        """Return a version by id; :class:`~modelward.errors.NotFound` if absent."""

    @abc.abstractmethod
    def get_dataset_versions_by_ids(self, version_ids: Sequence[str]) -> list[DatasetVersion]:
        """Return the versions with these ids that exist, in the order asked."""

    @abc.abstractmethod
    def find_dataset_version(
        self, name: str, *, digest: str | None = None, source_fingerprint: str | None = None
    ) -> DatasetVersion | None:
        """Return the version of ``name`` with this content digest or source fingerprint.

        With a fingerprint, the newest matching version is returned. ``None`` when none
        matches (or the name does not exist).
        """

    @abc.abstractmethod
    def list_datasets(self) -> list[DatasetSummary]:
        """Return every dataset name with its version count, sorted by name."""

    @abc.abstractmethod
    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        """Return every version of ``name``, oldest first; NotFound for an unknown name."""

    @abc.abstractmethod
    def latest_source_sizes(self, name: str) -> list[int]:
        """Return the source sizes (``source["bytes"]``) recorded on versions of ``name``.

        A cheap hint: an ingest hashes its source first only when a version of the same name
        came from a source of the same size.
        """

    # -- splits ----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_dataset_split(
        self,
        version_id: str,
        name: str,
        *,
        seed: int,
        fractions: Mapping[str, float],
        stratify: str | None,
        counts: Mapping[str, int],
        artifact_digest: str,
        artifact_size: int = 0,
    ) -> tuple[DatasetSplit, bool]:
        """Record a split of a version, with its artifact entry, in one transaction.

        Returns:
            ``(split, created)``: an identical split of that name is returned as is.

        Raises:
            Conflict: A split of that name exists with other parameters.
            NotFound: No such version.
        """

    @abc.abstractmethod
    def get_dataset_split(self, version_id: str, name: str) -> DatasetSplit:
        """Return a split of a version; :class:`~modelward.errors.NotFound` if absent."""

    @abc.abstractmethod
    def list_dataset_splits(self, version_id: str) -> list[DatasetSplit]:
        """Return a version's splits, oldest first."""

    # -- run inputs ------------------------------------------------------------------------
    @abc.abstractmethod
    def log_run_inputs(self, run_id: str, inputs: Sequence[tuple[str, str, str | None]]) -> None:
        """Record that a run read dataset versions: ``(version id, role, split name)``.

        Recording the same ``(version, role)`` twice keeps one row (the latest split name).

        Raises:
            NotFound: The run, a version or a named split does not exist.
        """

    @abc.abstractmethod
    def get_run_inputs(self, run_id: str) -> list[RunInput]:
        """Return the dataset versions a run read, in the order recorded."""

    @abc.abstractmethod
    def get_version_consumers(self, version_id: str) -> list[tuple[str, str]]:
        """Return ``(run id, role)`` for every run that read a version."""
