"""SQL implementation of :class:`~modelward.store.metadata.tracking.TrackingStore`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelward.entities import LifecycleStage, Metric, Page, Run, RunStatus, now_ms
from modelward.entities.ids import new_id
from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.store.metadata.sql import search as sql_search
from modelward.store.metadata.sql.engine import Database, RawStatement
from modelward.store.metadata.sql.experiments import SqlExperimentStore
from modelward.store.metadata.sql.tables.tracking import (
    environments,
    latest_metrics,
    metrics,
    runs,
)
from modelward.store.metadata.sql.tables.tracking import params as run_params
from modelward.store.metadata.sql.tables.tracking import tags as run_tags
from modelward.store.metadata.tracking import MetricPoint, TrackingStore
from modelward.validation import check_key, check_value, run_name

__all__ = ["SqlTrackingStore"]

_NAN = float("nan")

# Hot paths use prebuilt statements run through the driver: building a Core statement per call
# costs ~3x the SQL itself. Identifiers are quoted because "user" is reserved in PostgreSQL.
_EXPERIMENT_STAGE = RawStatement("SELECT lifecycle_stage FROM experiments WHERE id = :id")
_RUN_STAGE = RawStatement("SELECT lifecycle_stage FROM runs WHERE id = :id")
_INSERT_RUN = RawStatement(
    'INSERT INTO runs (id, experiment_id, name, status, start_time, parent_id, "user", '
    "lifecycle_stage, host, pid, pid_start, heartbeat_at, environment_digest) VALUES "
    "(:id, :experiment_id, :name, 'RUNNING', :start_time, :parent_id, :user, 'active', "
    ":host, :pid, :pid_start, :start_time, :environment_digest)"
)
_INSERT_TAG = RawStatement('INSERT INTO tags (run_id, "key", value) VALUES (:run_id, :key, :value)')
_INSERT_PARAM = RawStatement(
    'INSERT INTO params (run_id, "key", value) VALUES (:run_id, :key, :value)'
)
# The run's state and its params in one statement (a run with no params yields one row of NULLs).
_RUN_PARAMS = RawStatement(
    'SELECT r.lifecycle_stage, p."key", p.value FROM runs r '
    "LEFT JOIN params p ON p.run_id = r.id WHERE r.id = :id"
)
_END_RUN = RawStatement("UPDATE runs SET status = :status, end_time = :end_time WHERE id = :id")


def _new_id() -> str:
    return new_id()


def _db_float(value: float) -> float | None:
    # SQLite cannot hold NaN; NULL stands for it (a metric value is never otherwise null).
    return None if value != value else value


def _py_float(value: float | None) -> float:
    return _NAN if value is None else float(value)


class SqlTrackingStore(SqlExperimentStore, TrackingStore):
    """Runs, params, tags and metrics in SQL; mixed into the full SQL metadata store.

    Experiments and environments come from :class:`SqlExperimentStore`.
    """

    _db: Database

    # -- helpers ---------------------------------------------------------------------------
    def _upsert(self, table: sa.Table) -> Any:
        return self._db.insert(table)

    @staticmethod
    def _run_row(conn: Connection, run_id: str) -> Any:
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist", details={"run_id": run_id})
        return row

    def _require_active_run(self, conn: Connection, run_id: str) -> Any:
        row = self._run_row(conn, run_id)
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise Conflict(
                f"run {run_id!r} is deleted; restore it (modelward runs restore) "
                "before logging to it",
                details={"run_id": run_id},
            )
        return row

    def _load_runs(self, conn: Connection, rows: Sequence[Any]) -> list[Run]:
        """Attach params, tags and latest metrics to run rows with three batched queries."""
        ids = [r.id for r in rows]
        if not ids:
            return []
        p: dict[str, dict[str, str]] = {i: {} for i in ids}
        t: dict[str, dict[str, str]] = {i: {} for i in ids}
        m: dict[str, dict[str, float]] = {i: {} for i in ids}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            for row in conn.execute(
                sa.select(run_params.c.run_id, run_params.c.key, run_params.c.value).where(
                    run_params.c.run_id.in_(chunk)
                )
            ):
                p[row.run_id][row.key] = row.value
            for row in conn.execute(
                sa.select(run_tags.c.run_id, run_tags.c.key, run_tags.c.value).where(
                    run_tags.c.run_id.in_(chunk)
                )
            ):
                t[row.run_id][row.key] = row.value
            for row in conn.execute(
                sa.select(
                    latest_metrics.c.run_id, latest_metrics.c.key, latest_metrics.c.value
                ).where(latest_metrics.c.run_id.in_(chunk))
            ):
                m[row.run_id][row.key] = _py_float(row.value)
        return [
            Run(
                id=r.id,
                experiment_id=r.experiment_id,
                name=r.name,
                status=RunStatus(r.status),
                start_time=r.start_time,
                end_time=r.end_time,
                parent_id=r.parent_id,
                user=r.user,
                lifecycle_stage=LifecycleStage(r.lifecycle_stage),
                params=p[r.id],
                tags=t[r.id],
                metrics=m[r.id],
                host=r.host,
                pid=r.pid,
                heartbeat_at=r.heartbeat_at,
                environment_digest=r.environment_digest,
            )
            for r in rows
        ]

    # -- runs ------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_id: str | None = None,
        start_time: int | None = None,
        user: str | None = None,
        host: str | None = None,
        pid: int | None = None,
        pid_start: float | None = None,
        environment_digest: str | None = None,
    ) -> Run:
        run_id = _new_id()
        name = check_key(name, "run name", max_len=256) if name else run_name(run_id)
        tag_map = {
            check_key(k, "tag key"): check_value(v, f"tag {k!r}") for k, v in (tags or {}).items()
        }
        start = start_time if start_time is not None else now_ms()
        with self._db.write() as conn:
            exp = self._db.run(conn, _EXPERIMENT_STAGE, {"id": experiment_id}).first()
            if exp is None:
                raise NotFound(
                    f"experiment {experiment_id!r} does not exist",
                    details={"experiment_id": experiment_id},
                )
            if exp.lifecycle_stage != "active":
                raise Conflict(
                    f"experiment {experiment_id!r} is deleted; runs cannot be added to it"
                )
            if (
                parent_id is not None
                and self._db.run(conn, _RUN_STAGE, {"id": parent_id}).first() is None
            ):
                raise NotFound(
                    f"parent run {parent_id!r} does not exist", details={"run_id": parent_id}
                )
            self._db.run(
                conn,
                _INSERT_RUN,
                {
                    "id": run_id,
                    "experiment_id": experiment_id,
                    "name": name,
                    "start_time": start,
                    "parent_id": parent_id,
                    "user": user,
                    "host": host,
                    "pid": pid,
                    "pid_start": pid_start,
                    "environment_digest": environment_digest,
                },
            )
            if tag_map:
                self._db.run(
                    conn,
                    _INSERT_TAG,
                    [{"run_id": run_id, "key": k, "value": v} for k, v in tag_map.items()],
                )
        return Run(
            id=run_id,
            experiment_id=experiment_id,
            name=name,
            status=RunStatus.RUNNING,
            start_time=start,
            parent_id=parent_id,
            user=user,
            tags=tag_map,
            host=host,
            pid=pid,
            heartbeat_at=start,
            environment_digest=environment_digest,
        )

    def get_run(self, run_id: str) -> Run:
        with self._db.read() as conn:
            return self._load_runs(conn, [self._run_row(conn, run_id)])[0]

    def set_run_status(self, run_id: str, status: RunStatus, end_time: int | None = None) -> Run:
        status = RunStatus(status)
        with self._db.write() as conn:
            self._run_row(conn, run_id)
            values: dict[str, Any] = {"status": status.value}
            if status.is_terminal:
                values["end_time"] = end_time if end_time is not None else now_ms()
            else:
                values["end_time"] = None
                values["heartbeat_at"] = now_ms()
            conn.execute(runs.update().where(runs.c.id == run_id).values(**values))
            return self._load_runs(conn, [self._run_row(conn, run_id)])[0]

    def reopen_run(
        self, run_id: str, *, host: str | None, pid: int | None, pid_start: float | None, at: int
    ) -> Run:
        with self._db.write() as conn:
            self._run_row(conn, run_id)
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(
                    status=RunStatus.RUNNING.value,
                    end_time=None,
                    heartbeat_at=at,
                    host=host,
                    pid=pid,
                    pid_start=pid_start,
                )
            )
            return self._load_runs(conn, [self._run_row(conn, run_id)])[0]

    def heartbeat(self, run_ids: Sequence[str], at: int) -> None:
        if not run_ids:
            return
        with self._db.write() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.id.in_(list(run_ids)), runs.c.status == RunStatus.RUNNING.value)
                .values(heartbeat_at=at)
            )

    def list_running_runs(
        self,
    ) -> list[tuple[str, str | None, int | None, float | None, int | None]]:
        with self._db.read() as conn:
            rows = conn.execute(
                sa.select(
                    runs.c.id, runs.c.host, runs.c.pid, runs.c.pid_start, runs.c.heartbeat_at
                ).where(runs.c.status == RunStatus.RUNNING.value)
            )
            return [(r.id, r.host, r.pid, r.pid_start, r.heartbeat_at) for r in rows]

    def mark_runs_killed(self, run_ids: Sequence[str], end_time: int) -> int:
        if not run_ids:
            return 0
        with self._db.write() as conn:
            result = conn.execute(
                runs.update()
                .where(runs.c.id.in_(list(run_ids)), runs.c.status == RunStatus.RUNNING.value)
                .values(status=RunStatus.KILLED.value, end_time=end_time)
            )
            return int(result.rowcount or 0)

    def _descendants(self, conn: Connection, run_id: str) -> list[str]:
        found = [run_id]
        frontier = [run_id]
        while frontier:
            children = [
                r.id
                for r in conn.execute(sa.select(runs.c.id).where(runs.c.parent_id.in_(frontier)))
            ]
            children = [c for c in children if c not in found]
            found.extend(children)
            frontier = children
        return found

    def _set_lifecycle(self, run_id: str, stage: LifecycleStage) -> None:
        with self._db.write() as conn:
            self._run_row(conn, run_id)
            ids = self._descendants(conn, run_id)
            conn.execute(
                runs.update().where(runs.c.id.in_(ids)).values(lifecycle_stage=stage.value)
            )

    def delete_run(self, run_id: str) -> None:
        self._set_lifecycle(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_lifecycle(run_id, LifecycleStage.ACTIVE)

    def _require_active(self, conn: Connection, run_id: str) -> None:
        row = self._db.run(conn, _RUN_STAGE, {"id": run_id}).first()
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist", details={"run_id": run_id})
        if row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise Conflict(
                f"run {run_id!r} is deleted; restore it (modelward runs restore) "
                "before logging to it",
                details={"run_id": run_id},
            )

    def log_params(self, run_id: str, params_: Mapping[str, str]) -> None:
        values = {
            check_key(k, "param key"): check_value(v, f"param {k!r}") for k, v in params_.items()
        }
        if not values:
            return
        with self._db.write() as conn:
            rows = self._db.run(conn, _RUN_PARAMS, {"id": run_id}).all()
            if not rows:
                raise NotFound(f"run {run_id!r} does not exist", details={"run_id": run_id})
            if rows[0][0] != LifecycleStage.ACTIVE:
                raise Conflict(
                    f"run {run_id!r} is deleted; restore it (modelward runs restore) "
                    "before logging to it",
                    details={"run_id": run_id},
                )
            existing = {r[1]: r[2] for r in rows if r[1] is not None}
            clashes = {
                k: (existing[k], v) for k, v in values.items() if k in existing and existing[k] != v
            }
            if clashes:
                key, (old, new) = next(iter(clashes.items()))
                raise Conflict(
                    f"param {key!r} of run {run_id} is already {_short(old)}; "
                    f"params are immutable, so it cannot become {_short(new)} (use a new key, "
                    "or a tag or metric for values that change)",
                    details={"run_id": run_id, "keys": sorted(clashes)},
                )
            new_rows = [
                {"run_id": run_id, "key": k, "value": v}
                for k, v in values.items()
                if k not in existing
            ]
            if new_rows:
                self._db.run(conn, _INSERT_PARAM, new_rows)

    def set_tags(self, run_id: str, tags_: Mapping[str, str]) -> None:
        values = {check_key(k, "tag key"): check_value(v, f"tag {k!r}") for k, v in tags_.items()}
        if not values:
            return
        with self._db.write() as conn:
            self._require_active_run(conn, run_id)
            stmt = self._upsert(run_tags)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["run_id", "key"], set_={"value": stmt.excluded.value}
                ),
                [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()],
            )

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._db.write() as conn:
            self._require_active_run(conn, run_id)
            result = conn.execute(
                run_tags.delete().where(run_tags.c.run_id == run_id, run_tags.c.key == key)
            )
            if not result.rowcount:
                raise NotFound(f"run {run_id!r} has no tag {key!r}")

    def _write_points(self, conn: Connection, points: Sequence[MetricPoint]) -> None:
        """Append points and raise each (run, key)'s latest value, in the caller's transaction."""
        rows = []
        latest: dict[tuple[str, str], tuple[str, str, int, int, float | None]] = {}
        for run_id, key, value, step, ts in points:
            row = (run_id, key, step, ts, None if value != value else value)
            rows.append(row)
            k = (run_id, key)
            cur = latest.get(k)
            if cur is None or (step, ts) >= (cur[2], cur[3]):
                latest[k] = row
        # Only bind markers are interpolated below (no data): values travel as parameters.
        marks = self._db.placeholders(5)
        conn.exec_driver_sql(
            f'INSERT INTO metrics (run_id, "key", step, "timestamp", value) VALUES ({marks})',  # noqa: S608
            rows,
        )
        conn.exec_driver_sql(
            'INSERT INTO latest_metrics (run_id, "key", step, "timestamp", value) '  # noqa: S608
            f'VALUES ({marks}) ON CONFLICT (run_id, "key") DO UPDATE SET '
            'step = excluded.step, "timestamp" = excluded."timestamp", value = excluded.value '
            "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step "
            'AND excluded."timestamp" >= latest_metrics."timestamp")',
            list(latest.values()),
        )

    def _missing_runs(self, run_ids: set[str]) -> set[str]:
        with self._db.read() as conn:
            found = {
                r.id for r in conn.execute(sa.select(runs.c.id).where(runs.c.id.in_(list(run_ids))))
            }
        return run_ids - found

    def _unknown_runs_error(self, points: Sequence[MetricPoint]) -> NotFound | None:
        missing = self._missing_runs({p[0] for p in points})
        if not missing:
            return None
        return NotFound(
            f"cannot log metrics to unknown run {sorted(missing)[0]!r}",
            details={"run_ids": sorted(missing)},
        )

    def log_metrics(self, points: Sequence[MetricPoint]) -> None:
        if not points:
            return
        try:
            with self._db.write() as conn:
                self._write_points(conn, points)
        except Conflict:
            # A foreign-key failure: name the runs that do not exist.
            error = self._unknown_runs_error(points)
            if error is not None:
                raise error from None
            raise

    def end_run(
        self,
        run_id: str,
        status: RunStatus,
        end_time: int,
        points: Sequence[MetricPoint] = (),
    ) -> None:
        status = RunStatus(status)
        if not status.is_terminal:
            raise InvalidInput("end_run needs a terminal status: FINISHED, FAILED or KILLED")
        try:
            with self._db.write() as conn:
                if points:
                    self._write_points(conn, points)
                result = self._db.run(
                    conn, _END_RUN, {"status": status.value, "end_time": end_time, "id": run_id}
                )
                if not result.rowcount:
                    raise NotFound(f"run {run_id!r} does not exist", details={"run_id": run_id})
        except Conflict:
            error = self._unknown_runs_error(points)
            if error is not None:
                raise error from None
            raise

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        with self._db.read() as conn:
            self._run_row(conn, run_id)
            rows = conn.execute(
                sa.select(metrics.c.step, metrics.c.timestamp, metrics.c.value)
                .where(metrics.c.run_id == run_id, metrics.c.key == key)
                .order_by(metrics.c.step, metrics.c.timestamp)
            )
            return [Metric(key, _py_float(r.value), r.step, r.timestamp) for r in rows]

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
        *,
        include_deleted: bool = False,
    ) -> Page[Run]:
        if (
            not isinstance(max_results, int)
            or isinstance(max_results, bool)
            or not 1 <= max_results <= sql_search.MAX_RESULTS
        ):
            raise InvalidInput(
                "max_results must be an integer from 1 to "
                f"{sql_search.MAX_RESULTS}, not {max_results!r}"
            )
        order_by = tuple(order_by)
        offset = sql_search.decode_page_token(page_token, experiment_ids, filter_string, order_by)
        with self._db.read() as conn:
            if sql_search.splits_on_presence(filter_string, order_by):
                rows = self._page_split_on_presence(
                    conn,
                    experiment_ids,
                    filter_string,
                    order_by,
                    include_deleted,
                    offset,
                    max_results,
                )
            else:
                query = sql_search.build_search(
                    experiment_ids,
                    filter_string,
                    order_by,
                    include_deleted=include_deleted,
                    offset=offset,
                    limit=max_results + 1,
                )
                rows = list(conn.execute(query).all())
            has_more = len(rows) > max_results
            items = self._load_runs(conn, rows[:max_results])
        token = (
            sql_search.encode_page_token(
                offset + max_results, experiment_ids, filter_string, order_by
            )
            if has_more
            else None
        )
        return Page(items, token)

    @staticmethod
    def _page_split_on_presence(
        conn: Connection,
        experiment_ids: Sequence[str],
        filter_string: str,
        order_by: Sequence[str],
        include_deleted: bool,
        offset: int,
        max_results: int,
    ) -> list[Any]:
        """Return one page when ordering by a key some runs lack.

        Runs with the key come first (read in index order, stopping after the page), then runs
        without it: the same order as one outer-joined query, without sorting every run.
        """
        common = {"include_deleted": include_deleted}
        rows = list(
            conn.execute(
                sql_search.build_search(
                    experiment_ids,
                    filter_string,
                    order_by,
                    offset=offset,
                    limit=max_results + 1,
                    presence="with",
                    **common,
                )
            ).all()
        )
        if len(rows) > max_results:
            return rows
        if rows:
            skip = 0
        else:
            total_with = conn.execute(
                sql_search.count_search(
                    experiment_ids, filter_string, order_by, presence="with", **common
                )
            ).scalar_one()
            skip = max(0, offset - int(total_with))
        rows += conn.execute(
            sql_search.build_search(
                experiment_ids,
                filter_string,
                order_by,
                offset=skip,
                limit=max_results + 1 - len(rows),
                presence="without",
                **common,
            )
        ).all()
        return rows

    def set_run_environment(self, run_id: str, digest: str, data: Mapping[str, Any]) -> None:
        with self._db.write() as conn:
            self._run_row(conn, run_id)
            stmt = self._db.insert(environments).values(
                digest=digest, data=dict(data), created_at=now_ms()
            )
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["digest"]))
            conn.execute(runs.update().where(runs.c.id == run_id).values(environment_digest=digest))


def _short(value: str, limit: int = 60) -> str:
    return repr(value) if len(value) <= limit else repr(value[:limit]) + f"… ({len(value)} chars)"
