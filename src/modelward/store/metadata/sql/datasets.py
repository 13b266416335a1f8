"""SQL implementation of :class:`~modelward.store.metadata.datasets.DatasetStore`.

Numbering a new version is one write transaction: get-or-create the dataset row, lock it
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises
writers), return the version with the same digest if there is one, else insert ``max + 1``.
The unique constraints on ``(dataset_id, number)`` and ``(dataset_id, digest)`` back this up:
a writer that still collides (another engine, another isolation level) retries, and then
either takes the next number or finds the identical version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelward.entities import (
    ColumnSchema,
    DatasetSplit,
    DatasetSummary,
    DatasetVersion,
    NewDatasetVersion,
    RunInput,
    now_ms,
)
from modelward.entities.ids import new_id
from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.store.metadata.datasets import DatasetStore
from modelward.store.metadata.sql.engine import Database
from modelward.store.metadata.sql.tables.datasets import (
    dataset_splits,
    dataset_versions,
    datasets,
    run_inputs,
)
from modelward.store.metadata.sql.tables.tracking import artifact_entries, runs
from modelward.validation import check_key

__all__ = ["SqlDatasetStore"]

log = logging.getLogger(__name__)

#: Attempts of a version insert that collided with a concurrent writer.
_ATTEMPTS = 8
#: Logical path of a version's Parquet file inside its artifact scope.
DATA_PATH = "data.parquet"


def _new_id() -> str:
    return new_id()


def version_scope(version_id: str) -> str:
    """Artifact scope of a dataset version."""
    return f"datasets/{version_id}"


_VERSION_COLUMNS = (
    dataset_versions.c.id,
    dataset_versions.c.number,
    dataset_versions.c.digest,
    dataset_versions.c.source_fingerprint,
    dataset_versions.c.rows,
    dataset_versions.c.size,
    dataset_versions.c.artifact_digest,
    dataset_versions.c.schema,
    dataset_versions.c.profile,
    dataset_versions.c.source,
    dataset_versions.c.lineage,
    dataset_versions.c.description,
    dataset_versions.c.created_at,
    datasets.c.name,
)


def _version_select() -> Any:
    return sa.select(*_VERSION_COLUMNS).select_from(
        dataset_versions.join(datasets, dataset_versions.c.dataset_id == datasets.c.id)
    )


def _version_from_row(row: Any) -> DatasetVersion:
    lineage = row.lineage or {}
    parents = lineage.get("parents", [])
    return DatasetVersion(
        id=row.id,
        name=row.name,
        version=int(row.number),
        digest=row.digest,
        rows=int(row.rows),
        schema=tuple(ColumnSchema.from_dict(c) for c in row.schema),
        profile=row.profile or {},
        source=row.source or {},
        parents=tuple(str(p["ref"]) for p in parents),
        parent_ids=tuple(str(p["id"]) for p in parents),
        recipe=lineage.get("recipe"),
        created_at=int(row.created_at),
        size=int(row.size),
        artifact_digest=row.artifact_digest,
        source_fingerprint=row.source_fingerprint,
        description=row.description,
    )


def _split_from_row(row: Any) -> DatasetSplit:
    spec = row.spec or {}
    return DatasetSplit(
        id=row.id,
        version_id=row.version_id,
        name=row.name,
        seed=int(row.seed),
        fractions={str(k): float(v) for k, v in spec.get("fractions", {}).items()},
        stratify=spec.get("stratify"),
        counts={str(k): int(v) for k, v in (row.counts or {}).items()},
        artifact_digest=row.artifact_digest,
        created_at=int(row.created_at),
    )


class SqlDatasetStore(DatasetStore):
    """Datasets in SQL. Mixed into the full SQL metadata store."""

    _db: Database

    def _insert_ignore(self, table: sa.Table) -> Any:
        return self._db.insert(table)

    # -- versions --------------------------------------------------------------------------
    def create_dataset_version(
        self, name: str, new: NewDatasetVersion
    ) -> tuple[DatasetVersion, bool]:
        name = check_key(name, "dataset name", max_len=256)
        last: Conflict | None = None
        for attempt in range(_ATTEMPTS):
            try:
                return self._create_version_once(name, new)
            except Conflict as exc:
                # A concurrent writer took the number (or stored the same digest) between our
                # read and our insert; the next attempt sees its row.
                log.debug("dataset version insert collided (attempt %d): %s", attempt + 1, exc)
                last = exc
        raise Conflict(
            f"could not number a new version of dataset {name!r}: {_ATTEMPTS} concurrent "
            "writers collided; retry the ingest",
            details={"name": name},
        ) from last

    def _lock_dataset(self, conn: Connection, name: str, created: int) -> str:
        stmt = self._insert_ignore(datasets).values(id=_new_id(), name=name, created_at=created)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
        query = sa.select(datasets.c.id).where(datasets.c.name == name)
        if not self._db.is_sqlite:
            query = query.with_for_update()
        return str(conn.execute(query).scalar_one())

    def _create_version_once(
        self, name: str, new: NewDatasetVersion
    ) -> tuple[DatasetVersion, bool]:
        created = now_ms()
        with self._db.write() as conn:
            dataset_id = self._lock_dataset(conn, name, created)
            existing = conn.execute(
                _version_select().where(
                    dataset_versions.c.dataset_id == dataset_id,
                    dataset_versions.c.digest == new.digest,
                )
            ).first()
            if existing is not None:
                return _version_from_row(existing), False
            parents = self._parent_refs(conn, new.parent_ids)
            number = (
                int(
                    conn.execute(
                        sa.select(
                            sa.func.coalesce(sa.func.max(dataset_versions.c.number), 0)
                        ).where(dataset_versions.c.dataset_id == dataset_id)
                    ).scalar_one()
                )
                + 1
            )
            version_id = _new_id()
            lineage: dict[str, Any] = {"parents": parents}
            if new.recipe is not None:
                lineage["recipe"] = dict(new.recipe)
            source_size = new.source.get("bytes")
            conn.execute(
                dataset_versions.insert().values(
                    id=version_id,
                    dataset_id=dataset_id,
                    number=number,
                    digest=new.digest,
                    source_fingerprint=new.source_fingerprint,
                    source_size=int(source_size) if isinstance(source_size, int) else None,
                    rows=new.rows,
                    size=new.size,
                    artifact_digest=new.artifact_digest,
                    schema=[c.to_dict() for c in new.schema],
                    profile=dict(new.profile),
                    source=dict(new.source),
                    lineage=lineage,
                    description=new.description,
                    created_at=created,
                )
            )
            # The artifact entry makes the blob reachable, so blob garbage collection keeps it.
            conn.execute(
                artifact_entries.insert().values(
                    scope=version_scope(version_id),
                    path=DATA_PATH,
                    digest=new.artifact_digest,
                    size=new.size,
                    created_at=created,
                )
            )
        version = DatasetVersion(
            id=version_id,
            name=name,
            version=number,
            digest=new.digest,
            rows=new.rows,
            schema=new.schema,
            profile=new.profile,
            source=new.source,
            parents=tuple(p["ref"] for p in parents),
            parent_ids=tuple(p["id"] for p in parents),
            recipe=new.recipe,
            created_at=created,
            size=new.size,
            artifact_digest=new.artifact_digest,
            source_fingerprint=new.source_fingerprint,
            description=new.description,
        )
        return version, True

    @staticmethod
    def _parent_refs(conn: Connection, parent_ids: Sequence[str]) -> list[dict[str, str]]:
        if not parent_ids:
            return []
        rows = conn.execute(
            sa.select(dataset_versions.c.id, dataset_versions.c.number, datasets.c.name)
            .select_from(
                dataset_versions.join(datasets, dataset_versions.c.dataset_id == datasets.c.id)
            )
            .where(dataset_versions.c.id.in_(list(parent_ids)))
        ).all()
        found = {r.id: f"{r.name}@{r.number}" for r in rows}
        missing = [p for p in parent_ids if p not in found]
        if missing:
            raise NotFound(
                f"parent dataset version(s) {', '.join(missing)} do not exist",
                details={"missing": missing},
            )
        return [{"id": p, "ref": found[p]} for p in parent_ids]

    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersion:
        with self._db.read() as conn:
            query = _version_select().where(datasets.c.name == name)
            if version is None:
                query = query.order_by(dataset_versions.c.number.desc()).limit(1)
            else:
                query = query.where(dataset_versions.c.number == version)
            row = conn.execute(query).first()
            if row is not None:
                return _version_from_row(row)
            known = conn.execute(sa.select(datasets.c.id).where(datasets.c.name == name)).first()
        if known is None:
            raise NotFound(
                f"dataset {name!r} does not exist; list datasets with: modelward data list",
                details={"name": name},
            )
        raise NotFound(
            f"dataset {name!r} has no version {version}; list its versions with: "
            f"modelward data show {name}",
            details={"name": name, "version": version},
        )

    def get_dataset_version_by_id(self, version_id: str) -> DatasetVersion:
        with self._db.read() as conn:
            row = conn.execute(_version_select().where(dataset_versions.c.id == version_id)).first()
        if row is None:
            raise NotFound(
                f"dataset version {version_id!r} does not exist", details={"id": version_id}
            )
        return _version_from_row(row)

    def get_dataset_versions_by_ids(self, version_ids: Sequence[str]) -> list[DatasetVersion]:
        if not version_ids:
            return []
        with self._db.read() as conn:
            rows = conn.execute(
                _version_select().where(dataset_versions.c.id.in_(list(version_ids)))
            ).all()
        by_id = {r.id: _version_from_row(r) for r in rows}
        return [by_id[i] for i in version_ids if i in by_id]

    def find_dataset_version(
        self, name: str, *, digest: str | None = None, source_fingerprint: str | None = None
    ) -> DatasetVersion | None:
        if digest is None and source_fingerprint is None:
            raise InvalidInput("find_dataset_version needs a digest or a source fingerprint")
        query = _version_select().where(datasets.c.name == name)
        if digest is not None:
            query = query.where(dataset_versions.c.digest == digest)
        if source_fingerprint is not None:
            query = query.where(dataset_versions.c.source_fingerprint == source_fingerprint)
        with self._db.read() as conn:
            row = conn.execute(query.order_by(dataset_versions.c.number.desc()).limit(1)).first()
        return None if row is None else _version_from_row(row)

    def list_datasets(self) -> list[DatasetSummary]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(
                    datasets.c.name,
                    dataset_versions.c.number,
                    dataset_versions.c.rows,
                    dataset_versions.c.created_at,
                )
                .select_from(
                    datasets.join(dataset_versions, dataset_versions.c.dataset_id == datasets.c.id)
                )
                .order_by(datasets.c.name, dataset_versions.c.number)
            ).all()
        summaries: dict[str, DatasetSummary] = {}
        for r in rows:
            previous = summaries.get(r.name)
            summaries[r.name] = DatasetSummary(
                name=r.name,
                versions=(previous.versions if previous else 0) + 1,
                latest=int(r.number),
                rows=int(r.rows),
                created_at=previous.created_at if previous else int(r.created_at),
                updated_at=int(r.created_at),
            )
        return list(summaries.values())

    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        with self._db.read() as conn:
            rows = conn.execute(
                _version_select().where(datasets.c.name == name).order_by(dataset_versions.c.number)
            ).all()
            if not rows and (
                conn.execute(sa.select(datasets.c.id).where(datasets.c.name == name)).first()
                is None
            ):
                raise NotFound(
                    f"dataset {name!r} does not exist; list datasets with: modelward data list",
                    details={"name": name},
                )
        return [_version_from_row(r) for r in rows]

    def latest_source_sizes(self, name: str) -> list[int]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(dataset_versions.c.source_size)
                .select_from(
                    dataset_versions.join(datasets, dataset_versions.c.dataset_id == datasets.c.id)
                )
                .where(datasets.c.name == name, dataset_versions.c.source_size.is_not(None))
                .distinct()
            ).all()
        return [int(r.source_size) for r in rows]

    # -- splits ----------------------------------------------------------------------------
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
        name = check_key(name, "split name", max_len=128)
        spec = {"fractions": dict(fractions), "stratify": stratify}
        for _attempt in range(2):
            try:
                return self._create_split_once(
                    version_id, name, seed, spec, dict(counts), artifact_digest, artifact_size
                )
            except Conflict as exc:
                if "unique" not in str(exc).lower() and "duplicate" not in str(exc).lower():
                    raise
        raise Conflict(f"could not record split {name!r}; retry")  # pragma: no cover

    def _create_split_once(
        self,
        version_id: str,
        name: str,
        seed: int,
        spec: dict[str, Any],
        counts: dict[str, int],
        artifact_digest: str,
        artifact_size: int,
    ) -> tuple[DatasetSplit, bool]:
        created = now_ms()
        with self._db.write() as conn:
            if (
                conn.execute(
                    sa.select(dataset_versions.c.id).where(dataset_versions.c.id == version_id)
                ).first()
                is None
            ):
                raise NotFound(
                    f"dataset version {version_id!r} does not exist", details={"id": version_id}
                )
            row = conn.execute(
                sa.select(dataset_splits).where(
                    dataset_splits.c.version_id == version_id, dataset_splits.c.name == name
                )
            ).first()
            if row is not None:
                existing = _split_from_row(row)
                if (
                    existing.seed == seed
                    and dict(existing.fractions) == spec["fractions"]
                    and existing.stratify == spec["stratify"]
                ):
                    return existing, False
                raise Conflict(
                    f"split {name!r} of this version already exists with seed "
                    f"{existing.seed}, fractions {dict(existing.fractions)} and stratify "
                    f"{existing.stratify!r}; choose another split name",
                    details={"name": name},
                )
            split_id = _new_id()
            conn.execute(
                dataset_splits.insert().values(
                    id=split_id,
                    version_id=version_id,
                    name=name,
                    seed=seed,
                    spec=spec,
                    counts=counts,
                    artifact_digest=artifact_digest,
                    created_at=created,
                )
            )
            conn.execute(
                artifact_entries.insert().values(
                    scope=version_scope(version_id),
                    path=f"splits/{split_id}.parquet",
                    digest=artifact_digest,
                    size=artifact_size,
                    created_at=created,
                )
            )
        return (
            DatasetSplit(
                id=split_id,
                version_id=version_id,
                name=name,
                seed=seed,
                fractions=spec["fractions"],
                stratify=spec["stratify"],
                counts=counts,
                artifact_digest=artifact_digest,
                created_at=created,
            ),
            True,
        )

    def get_dataset_split(self, version_id: str, name: str) -> DatasetSplit:
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(dataset_splits).where(
                    dataset_splits.c.version_id == version_id, dataset_splits.c.name == name
                )
            ).first()
            if row is not None:
                return _split_from_row(row)
            names = [
                r.name
                for r in conn.execute(
                    sa.select(dataset_splits.c.name).where(
                        dataset_splits.c.version_id == version_id
                    )
                )
            ]
        hint = f"its splits are: {', '.join(sorted(names))}" if names else "it has no splits yet"
        raise NotFound(
            f"no split {name!r} of this dataset version ({hint}); create one with "
            "modelward data split",
            details={"version_id": version_id, "name": name},
        )

    def list_dataset_splits(self, version_id: str) -> list[DatasetSplit]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(dataset_splits)
                .where(dataset_splits.c.version_id == version_id)
                .order_by(dataset_splits.c.created_at, dataset_splits.c.name)
            ).all()
        return [_split_from_row(r) for r in rows]

    # -- run inputs ------------------------------------------------------------------------
    def log_run_inputs(self, run_id: str, inputs: Sequence[tuple[str, str, str | None]]) -> None:
        rows = [
            (vid, check_key(role, "input role", max_len=64), split) for vid, role, split in inputs
        ]
        if not rows:
            return
        created = now_ms()
        with self._db.write() as conn:
            if conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first() is None:
                raise NotFound(f"run {run_id!r} does not exist", details={"run_id": run_id})
            wanted = {vid for vid, _, _ in rows}
            found = set(
                conn.execute(
                    sa.select(dataset_versions.c.id).where(dataset_versions.c.id.in_(wanted))
                ).scalars()
            )
            if wanted - found:
                raise NotFound(
                    f"dataset version(s) {', '.join(sorted(wanted - found))} do not exist"
                )
            self._check_splits(conn, [(vid, split) for vid, _, split in rows if split])
            for offset, (vid, role, split) in enumerate(rows):
                stmt = self._insert_ignore(run_inputs).values(
                    run_id=run_id,
                    dataset_version_id=vid,
                    role=role,
                    split_name=split,
                    created_at=created + offset,
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["run_id", "dataset_version_id", "role"],
                        set_={"split_name": split},
                    )
                )

    @staticmethod
    def _check_splits(conn: Connection, pairs: Iterable[tuple[str, str]]) -> None:
        for vid, split in pairs:
            hit = conn.execute(
                sa.select(dataset_splits.c.id).where(
                    dataset_splits.c.version_id == vid, dataset_splits.c.name == split
                )
            ).first()
            if hit is None:
                raise NotFound(
                    f"dataset version {vid} has no split {split!r}; create it with "
                    "modelward data split first",
                    details={"version_id": vid, "split": split},
                )

    def get_run_inputs(self, run_id: str) -> list[RunInput]:
        with self._db.read() as conn:
            links = conn.execute(
                sa.select(run_inputs)
                .where(run_inputs.c.run_id == run_id)
                .order_by(run_inputs.c.created_at, run_inputs.c.role)
            ).all()
            ids = list(dict.fromkeys(r.dataset_version_id for r in links))
            versions = {
                r.id: _version_from_row(r)
                for r in conn.execute(_version_select().where(dataset_versions.c.id.in_(ids)))
            }
        return [
            RunInput(
                run_id=run_id,
                version=versions[r.dataset_version_id],
                role=r.role,
                split=r.split_name,
                created_at=int(r.created_at),
            )
            for r in links
        ]

    def get_version_consumers(self, version_id: str) -> list[tuple[str, str]]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(run_inputs.c.run_id, run_inputs.c.role)
                .where(run_inputs.c.dataset_version_id == version_id)
                .order_by(run_inputs.c.created_at)
            ).all()
        return [(r.run_id, r.role) for r in rows]
