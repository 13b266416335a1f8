"""The dataset service: ingest, read, validate, prepare, split, compare, query and trace versions.

This is what ``client.datasets``, ``modelward.data`` and ``modelward data …`` call. Everything
heavy (pandas, pyarrow, DuckDB, scikit-learn) is imported when used.
"""

from __future__ import annotations

import builtins
import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelward.datasets.ingest import Ingestor, IngestProgress, IngestResult
from modelward.datasets.recipes.spec import Recipe
from modelward.datasets.refs import check_dataset_name, parse_ref, parse_type
from modelward.datasets.splits import PARTS, SplitIndices
from modelward.datasets.validation import Expectations, ValidationReport
from modelward.entities import DatasetSplit, DatasetSummary, DatasetVersion, RunInput
from modelward.errors import InvalidInput, NotFound
from modelward.validation import check_key

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from sklearn.compose import ColumnTransformer

    from modelward.datasets.analysis import DatasetDiff, QueryPlan
    from modelward.datasets.lineage import LineageNode
    from modelward.profiling import DatasetProfile
    from modelward.store.artifacts.base import ArtifactStore
    from modelward.store.metadata.base import MetadataStore

__all__ = ["DatasetService", "ExpectationsLike", "RecipeLike", "VersionLike"]

log = logging.getLogger(__name__)

#: A version, or a reference to one (``wine``, ``wine@2``, ``wine@latest``).
VersionLike = DatasetVersion | str
#: Expectations, their dict form, or a YAML file.
ExpectationsLike = Expectations | Mapping[str, Any] | str | Path
#: A recipe, its dict form, or a YAML file.
RecipeLike = Recipe | Mapping[str, Any] | str | Path

_EXPORT_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}


class DatasetService:
    """Dataset versions over a metadata store and an artifact store.

    Args:
        store: The metadata store.
        blobs: The artifact store holding each version's Parquet file.
        tmp_dir: Folder for temporary files and the cache of remote Parquet files
            (default: the system's temporary folder).
    """

    def __init__(
        self, store: MetadataStore, blobs: ArtifactStore, *, tmp_dir: Path | None = None
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.tmp_dir = Path(tmp_dir) if tmp_dir is not None else Path(tempfile.gettempdir())
        self._ingestor = Ingestor(store, blobs, tmp_dir=self.tmp_dir)

    # -- ingest ----------------------------------------------------------------------------
    def ingest(
        self,
        source: Any = None,
        *,
        name: str,
        sql: str | None = None,
        db: str | None = None,
        expect: ExpectationsLike | None = None,
        types: Mapping[str, Any] | None = None,
        description: str | None = None,
        progress: IngestProgress | None = None,
        **options: Any,
    ) -> IngestResult:
        """Ingest a source as a new version of ``name`` (or return the identical version).

        Args:
            source: A file or folder (CSV, Parquet, JSON, JSON-lines), an ``http(s)://`` URL,
                ``sklearn:NAME``, a pandas DataFrame or pyarrow Table, or a
                :class:`~modelward.datasets.sources.Source`.
            name: Dataset name.
            sql: A SQL query, with ``db`` (instead of ``source``).
            db: SQLAlchemy URL of the database ``sql`` runs against.
            expect: Expectations the data must meet (object, dict or YAML file).
            types: Column -> type (``integer``, ``float``, ``string``, … or an Arrow type).
            description: Free text recorded on the version.
            progress: Receives progress (the CLI draws a bar).
            **options: Source options: for files ``format``, ``delimiter``, ``encoding``,
                ``header``, ``on_bad_lines``, ``records_path``, ``null_values``; for HTTP
                ``headers``, ``params``, ``format``, ``records_path``, ``pagination``,
                ``timeout``, ``retries``, ``backoff``; for SQL ``params``, ``chunk_rows``.

        Raises:
            SchemaViolation: An ``error`` expectation failed; nothing was stored.
            InvalidInput, NotFound, Unavailable: The source cannot be read (the message says
                why and what to do).
        """
        from modelward.datasets.sources import open_source

        name = check_dataset_name(name)
        expectations = self._expectations(expect) if expect is not None else None
        arrow_types = {str(k): parse_type(v) for k, v in (types or {}).items()}
        src = open_source(source, sql=sql, db=db, **options)
        return self._ingestor.ingest(
            name,
            src,
            expectations=expectations,
            types=arrow_types,
            description=description,
            progress=progress,
        )

    @staticmethod
    def _expectations(expect: ExpectationsLike) -> Expectations:
        if isinstance(expect, Expectations):
            return expect
        if isinstance(expect, Mapping):
            return Expectations.from_dict(expect)
        return Expectations.from_yaml(expect)

    @staticmethod
    def _recipe(recipe: RecipeLike) -> Recipe:
        if isinstance(recipe, Recipe):
            return recipe
        if isinstance(recipe, Mapping):
            return Recipe.from_dict(recipe)
        return Recipe.from_yaml(recipe)

    # -- reading ---------------------------------------------------------------------------
    def get(self, ref: VersionLike) -> DatasetVersion:
        """Return a version: ``"wine@2"``, ``"wine@latest"`` or ``"wine"`` (the newest).

        Raises:
            NotFound: No such dataset or version.
        """
        if isinstance(ref, DatasetVersion):
            return ref
        name, number = parse_ref(ref)
        return self.store.get_dataset_version(name, number)

    def list(self) -> builtins.list[DatasetSummary]:
        """Every dataset name with its version count and newest version."""
        return self.store.list_datasets()

    def versions(self, name: str) -> builtins.list[DatasetVersion]:
        """Every version of ``name``, oldest first."""
        return self.store.list_dataset_versions(name)

    def path(self, ref: VersionLike) -> Path:
        """A local path of the version's Parquet file (read-only; remote stores are cached)."""
        from modelward.datasets.storage import parquet_path

        return parquet_path(self.blobs, self.get(ref), self.tmp_dir)

    def load_arrow(self, ref: VersionLike, columns: Sequence[str] | None = None) -> pa.Table:
        """Return a version's rows as a pyarrow Table (optionally only some columns)."""
        import pyarrow.parquet as pq

        version = self.get(ref)
        if columns is not None:
            missing = [c for c in columns if c not in version.columns]
            if missing:
                raise InvalidInput(
                    f"{version.ref} has no column(s) {', '.join(missing)}; its columns are: "
                    f"{', '.join(version.columns)}"
                )
        return pq.read_table(self.path(version), columns=list(columns) if columns else None)

    def load(
        self,
        ref: VersionLike,
        columns: Sequence[str] | None = None,
        *,
        split: str | int | None = None,
        part: str | None = None,
    ) -> pd.DataFrame:
        """Return a version's rows as a pandas DataFrame.

        Args:
            ref: The version.
            columns: Only these columns.
            split: A recorded split (name or seed); with ``part``, only that part's rows.
            part: ``train``, ``validation`` or ``test``.
        """
        frame = self.load_arrow(ref, columns).to_pandas()
        if split is None and part is None:
            return frame
        if part not in PARTS:
            raise InvalidInput(f"part must be one of {', '.join(PARTS)}, not {part!r}")
        indices = self.get_split(ref, split)
        return frame.iloc[indices[part]].reset_index(drop=True)

    def profile(self, ref: VersionLike) -> DatasetProfile:
        """Return a version's profile (what monitoring compares live traffic against)."""
        from modelward.profiling import DatasetProfile

        return DatasetProfile.from_dict(self.get(ref).profile)

    def validate(self, ref: VersionLike, expect: ExpectationsLike) -> ValidationReport:
        """Check a stored version against expectations (reads only the checked columns)."""
        import pyarrow.parquet as pq

        from modelward.datasets.validation import ExpectationChecker

        version = self.get(ref)
        expectations = self._expectations(expect)
        checker = ExpectationChecker(expectations)
        parquet = pq.ParquetFile(self.path(version))
        checker.start(parquet.schema_arrow)
        wanted = [c.name for c in expectations.columns if c.name in version.columns]
        if wanted:
            for batch in parquet.iter_batches(batch_size=131_072, columns=wanted):
                checker.update(batch)
            return checker.finish()
        checker.count_rows(version.rows)
        return checker.finish()

    def export(self, ref: VersionLike, output: str | Path, *, format: str | None = None) -> Path:
        """Write a version to ``output`` as Parquet, CSV, JSON-lines or JSON (by suffix).

        The file appears complete or not at all (written next to it, then renamed).
        """
        version = self.get(ref)
        target = Path(output).expanduser()
        fmt = format or _EXPORT_FORMATS.get(target.suffix.lower())
        if fmt not in ("parquet", "csv", "jsonl", "json"):
            raise InvalidInput(
                f"cannot tell the export format from {target.name!r}; use a .parquet, .csv, "
                ".jsonl or .json name, or pass format="
            )
        if target.is_dir():
            raise InvalidInput(f"{target} is a folder; give a file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            return self.blobs.download(version.artifact_digest, target)
        from modelward.datasets.export import write_rows

        return write_rows(self.path(version), target, fmt)

    # -- prepare ---------------------------------------------------------------------------
    def prepare(
        self,
        recipe: RecipeLike,
        *,
        name: str | None = None,
        description: str | None = None,
        progress: IngestProgress | None = None,
    ) -> IngestResult:
        """Apply a recipe's row steps to its inputs and store the result as a new version.

        The version's lineage names its parents (the exact input versions) and the recipe,
        with ``@latest`` references resolved. Feature steps are recorded, not applied: see
        :meth:`compile_transforms`.
        """
        from modelward.datasets.recipes.apply import apply_steps

        spec = self._recipe(recipe)
        target = name or spec.name
        if target is None:
            raise InvalidInput(
                "name the prepared dataset: name= (CLI --name) or name: in the recipe"
            )
        target = check_dataset_name(target)
        parents = {alias: self.get(ref) for alias, ref in spec.inputs.items()}
        frames = {alias: self.load(version) for alias, version in parents.items()}
        main = spec.main_input
        result = apply_steps(frames[main], spec.steps, frames)
        resolved = Recipe(
            inputs={alias: v.ref for alias, v in parents.items()},
            steps=spec.steps,
            features=spec.features,
            name=target,
            start=spec.start,
        )
        parent_ids = list(dict.fromkeys(v.id for v in parents.values()))
        return self._ingestor.ingest(
            target,
            _prepared_source(result, list(resolved.inputs.values())),
            description=description,
            parent_ids=parent_ids,
            recipe=resolved.to_dict(),
            progress=progress,
        )

    def compile_transforms(
        self, recipe: RecipeLike | VersionLike, columns: Sequence[str] | None = None
    ) -> ColumnTransformer:
        """Return a recipe's feature steps as an unfitted scikit-learn ``ColumnTransformer``.

        Args:
            recipe: A recipe (object, dict or YAML file), or a prepared version (its recorded
                recipe is used, and its columns checked).
            columns: The columns it will be fitted on (checked when given).
        """
        from modelward.datasets.recipes.features import compile_transforms

        if isinstance(recipe, DatasetVersion) or (
            isinstance(recipe, str) and "\n" not in recipe and not Path(recipe).exists()
        ):
            version = self.get(recipe)
            if version.recipe is None:
                raise InvalidInput(f"{version.ref} was not prepared by a recipe")
            return compile_transforms(
                Recipe.from_dict(version.recipe), columns or list(version.columns)
            )
        return compile_transforms(self._recipe(recipe), columns)

    # -- splits ----------------------------------------------------------------------------
    def split(
        self,
        ref: VersionLike,
        *,
        train: float | None = None,
        validation: float | None = None,
        test: float | None = None,
        seed: int = 0,
        stratify: str | None = None,
        name: str | None = None,
    ) -> SplitIndices:
        """Split a version's rows deterministically and record the split with the version.

        Args:
            ref: The version.
            train: Fraction of rows for training (fractions missing take the rest; nothing
                given: 0.7 / 0.15 / 0.15).
            validation: Fraction for validation.
            test: Fraction for testing.
            seed: Random seed.
            stratify: Column whose class proportions every part keeps.
            name: Name of the split (default ``seed<SEED>``, plus ``-by-<COLUMN>``).

        Returns:
            The row numbers of each part. Asking again with the same arguments returns the
            recorded split; another split under an existing name is a Conflict.
        """
        from modelward.datasets.splits import assign, encode_assignment, normalise_fractions

        version = self.get(ref)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InvalidInput(f"seed must be a non-negative integer, not {seed!r}")
        fractions = normalise_fractions(train, validation, test)
        split_name = name or (f"seed{seed}" + (f"-by-{stratify}" if stratify else ""))
        check_key(split_name, "split name", max_len=128)
        labels = None
        if stratify is not None:
            labels = self.load_arrow(version, [stratify]).column(0).to_numpy(zero_copy_only=False)
        codes = assign(version.rows, fractions, seed, labels)
        blob = self.blobs.put_bytes(encode_assignment(codes))
        counts = {part: int((codes == code).sum()) for code, part in enumerate(PARTS)}
        split, created = self.store.create_dataset_split(
            version.id,
            split_name,
            seed=seed,
            fractions=fractions,
            stratify=stratify,
            counts=counts,
            artifact_digest=blob.digest,
            artifact_size=blob.size,
        )
        if not created:
            return self._indices(split)
        return _indices_from_codes(split, codes)

    def get_split(self, ref: VersionLike, split: str | int | None = None) -> SplitIndices:
        """Return the row numbers of a recorded split's parts.

        Args:
            ref: The version.
            split: The split's name, or its seed (an ``int``: the version's only split with
                that seed); default: the version's only split.

        Raises:
            NotFound: No such split (the message lists the version's splits).
        """
        version = self.get(ref)
        if split is None:
            splits = self.store.list_dataset_splits(version.id)
            if len(splits) != 1:
                names = ", ".join(s.name for s in splits) or "none"
                raise NotFound(
                    f"{version.ref} has {len(splits)} splits ({names}); name the one you want"
                    if splits
                    else f"{version.ref} has no split yet; create one with mw.data.split or "
                    "modelward data split"
                )
            return self._indices(splits[0])
        if isinstance(split, int) and not isinstance(split, bool):
            splits = self.store.list_dataset_splits(version.id)
            matching = [s for s in splits if s.seed == split]
            if len(matching) == 1:
                return self._indices(matching[0])
            names = ", ".join(s.name for s in (matching or splits)) or "none"
            raise NotFound(
                f"{version.ref} has {len(matching)} splits with seed {split} ({names}); "
                "name the one you want",
                details={"ref": version.ref, "seed": split},
            )
        return self._indices(self.store.get_dataset_split(version.id, str(split)))

    def splits(self, ref: VersionLike) -> builtins.list[DatasetSplit]:
        """Every split recorded for a version."""
        return self.store.list_dataset_splits(self.get(ref).id)

    def _indices(self, split: DatasetSplit) -> SplitIndices:
        from modelward.datasets.splits import decode_assignment

        codes = decode_assignment(self.blobs.get_bytes(split.artifact_digest))
        return _indices_from_codes(split, codes)

    # -- analysis --------------------------------------------------------------------------
    def diff(self, a: VersionLike, b: VersionLike) -> DatasetDiff:
        """Compare two versions: schema changes, row counts, statistics and drift."""
        from modelward.datasets.analysis import diff_versions

        return diff_versions(self.get(a), self.get(b))

    def query_plan(self, sql: str) -> QueryPlan:
        """Resolve the ``NAME@N`` references of a query (see :meth:`query`)."""
        from modelward.datasets.analysis import plan_query

        def resolve(ref: str) -> tuple[str, Path]:
            version = self.get(ref)
            return version.ref, self.path(version)

        return plan_query(sql, resolve)

    def query(self, sql: str, *, limit: int | None = None) -> pa.Table:
        """Run SQL over dataset versions with DuckDB, e.g. ``SELECT … FROM wine@2``.

        References are ``NAME@N`` or ``NAME@latest``; nothing but those versions can be read.
        """
        return self.query_plan(sql).table(limit)

    # -- lineage ---------------------------------------------------------------------------
    def lineage(self, ref: VersionLike) -> LineageNode:
        """Return the tree of versions a version was prepared from, with their recipes."""
        from modelward.datasets.lineage import build_lineage

        return build_lineage(self.get(ref), self.store.get_dataset_versions_by_ids)

    def log_input(
        self,
        run_id: str,
        version: VersionLike,
        role: str = "input",
        *,
        split: str | int | None = None,
    ) -> DatasetVersion:
        """Record that a run read a version (``role``: train, validation, test, input, …)."""
        resolved = self.get(version)
        split_name = None
        if split is not None:
            # Resolves a seed to its split's name, and names the splits when there is none.
            split_name = self.get_split(resolved, split).split.name
        self.store.log_run_inputs(run_id, [(resolved.id, role, split_name)])
        return resolved

    def run_inputs(self, run_id: str) -> builtins.list[tuple[DatasetVersion, str]]:
        """The versions a run read, with their roles, in the order recorded."""
        return [(i.version, i.role) for i in self.store.get_run_inputs(run_id)]

    def run_input_records(self, run_id: str) -> builtins.list[RunInput]:
        """The versions a run read, with roles and split names."""
        return self.store.get_run_inputs(run_id)

    def consumers(self, ref: VersionLike) -> builtins.list[tuple[str, str]]:
        """``(run id, role)`` of every run that read a version."""
        return self.store.get_version_consumers(self.get(ref).id)


def _prepared_source(frame: Any, inputs: builtins.list[str]) -> Any:
    """The source of a prepared version: its recipe's output frame, described by its inputs."""
    from modelward.datasets.sources.frames import FrameSource

    class PreparedSource(FrameSource):
        kind = "prepared"

        def describe(self) -> dict[str, Any]:
            return {"kind": self.kind, "inputs": inputs}

    return PreparedSource(frame)


def _indices_from_codes(split: DatasetSplit, codes: Any) -> SplitIndices:
    import numpy as np

    parts = [np.flatnonzero(codes == code).astype(np.int64) for code in range(len(PARTS))]
    return SplitIndices(split, *parts)
