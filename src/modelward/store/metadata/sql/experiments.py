"""SQL implementation of the experiment and environment part of the tracking contract."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelward.entities import Experiment, LifecycleStage, now_ms
from modelward.entities.ids import new_id
from modelward.errors import AlreadyExists, NotFound
from modelward.store.metadata.sql.engine import Database
from modelward.store.metadata.sql.tables.tracking import (
    environments,
    experiment_tags,
    experiments,
    runs,
)
from modelward.store.metadata.tracking import TrackingStore
from modelward.validation import check_key, check_value

__all__ = ["SqlExperimentStore"]


def _new_id() -> str:
    return new_id()


class SqlExperimentStore(TrackingStore):
    """Experiments and stored environments in SQL; runs are in :mod:`.tracking`."""

    _db: Database

    @staticmethod
    def _experiment_from_row(row: Any, tag_rows: Iterable[Any]) -> Experiment:
        return Experiment(
            id=row.id,
            name=row.name,
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            created_at=row.created_at,
            tags={t.key: t.value for t in tag_rows},
        )

    # -- experiments -----------------------------------------------------------------------
    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> Experiment:
        name = check_key(name, "experiment name", max_len=256)
        tag_map = {
            check_key(k, "tag key"): check_value(v, f"tag {k!r}") for k, v in (tags or {}).items()
        }
        exp_id = _new_id()
        created = now_ms()
        with self._db.write() as conn:
            existing = conn.execute(
                sa.select(experiments.c.id).where(experiments.c.name == name)
            ).first()
            if existing is not None:
                raise AlreadyExists(
                    f"experiment {name!r} already exists; choose another name or use it",
                    details={"name": name, "id": existing.id},
                )
            conn.execute(
                experiments.insert().values(
                    id=exp_id, name=name, lifecycle_stage="active", created_at=created
                )
            )
            if tag_map:
                conn.execute(
                    experiment_tags.insert(),
                    [{"experiment_id": exp_id, "key": k, "value": v} for k, v in tag_map.items()],
                )
        return Experiment(id=exp_id, name=name, created_at=created, tags=tag_map)

    def _get_experiment(self, conn: Connection, where: Any, what: str) -> Experiment:
        row = conn.execute(sa.select(experiments).where(where)).first()
        if row is None:
            raise NotFound(
                f"experiment {what} does not exist; list them with: modelward experiments list"
            )
        tag_rows = conn.execute(
            sa.select(experiment_tags).where(experiment_tags.c.experiment_id == row.id)
        )
        return self._experiment_from_row(row, tag_rows)

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self._db.read() as conn:
            return self._get_experiment(
                conn, experiments.c.id == experiment_id, repr(experiment_id)
            )

    def get_experiment_by_name(self, name: str) -> Experiment:
        with self._db.read() as conn:
            return self._get_experiment(conn, experiments.c.name == name, repr(name))

    def list_experiments(self, *, include_deleted: bool = False) -> list[Experiment]:
        with self._db.read() as conn:
            query = sa.select(experiments).order_by(experiments.c.created_at, experiments.c.id)
            if not include_deleted:
                query = query.where(experiments.c.lifecycle_stage == "active")
            rows = conn.execute(query).all()
            tag_map: dict[str, list[Any]] = {}
            for t in conn.execute(sa.select(experiment_tags)):
                tag_map.setdefault(t.experiment_id, []).append(t)
            return [self._experiment_from_row(r, tag_map.get(r.id, [])) for r in rows]

    def delete_experiment(self, experiment_id: str) -> None:
        with self._db.write() as conn:
            self._get_experiment(conn, experiments.c.id == experiment_id, repr(experiment_id))
            conn.execute(
                experiments.update()
                .where(experiments.c.id == experiment_id)
                .values(lifecycle_stage="deleted")
            )
            conn.execute(
                runs.update()
                .where(runs.c.experiment_id == experiment_id)
                .values(lifecycle_stage="deleted")
            )

    def set_experiment_tags(self, experiment_id: str, tags: Mapping[str, str]) -> None:
        tag_map = {check_key(k, "tag key"): check_value(v, f"tag {k!r}") for k, v in tags.items()}
        with self._db.write() as conn:
            self._get_experiment(conn, experiments.c.id == experiment_id, repr(experiment_id))
            for key, value in tag_map.items():
                stmt = self._db.insert(experiment_tags).values(
                    experiment_id=experiment_id, key=key, value=value
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["experiment_id", "key"], set_={"value": value}
                    )
                )

    # -- environments ----------------------------------------------------------------------
    def put_environment(self, digest: str, data: Mapping[str, Any]) -> None:
        with self._db.write() as conn:
            stmt = self._db.insert(environments).values(
                digest=digest, data=dict(data), created_at=now_ms()
            )
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["digest"]))

    def get_environment(self, digest: str) -> dict[str, Any]:
        with self._db.read() as conn:
            row = conn.execute(
                sa.select(environments.c.data).where(environments.c.digest == digest)
            ).first()
            if row is None:
                raise NotFound(f"no environment with digest {digest!r}")
            return dict(row.data)
