"""Compile the search AST to a SQLAlchemy ``SELECT`` over runs (bound parameters only).

Top-level ``AND`` terms on metrics and equality terms on params/tags become inner joins, so
the planner can drive the query from ``ix_latest_metrics_key_value`` (a filtered, ordered page
of 100 out of 100,000 runs reads a few hundred index entries). Terms under ``OR`` become
correlated ``EXISTS`` sub-queries. Ordering by a metric that is also joined reuses the join.
Runs missing an order key sort last; ties break on start time (newest first), then id.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from modelward.errors import InvalidInput
from modelward.store.metadata.search_syntax import (
    BoolOp,
    Comparison,
    Expr,
    OrderKey,
    parse_filter,
    parse_order_by,
)
from modelward.store.metadata.sql.tables.tracking import latest_metrics, params, runs, tags

__all__ = [
    "MAX_RESULTS",
    "build_search",
    "count_search",
    "decode_page_token",
    "encode_page_token",
    "splits_on_presence",
]

#: The largest page a search may ask for.
MAX_RESULTS = 50_000

_ATTRIBUTE_COLUMNS: dict[str, sa.Column[Any]] = {
    "id": runs.c.id,
    "run_id": runs.c.id,
    "name": runs.c.name,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "experiment_id": runs.c.experiment_id,
    "user": runs.c.user,
    "parent_id": runs.c.parent_id,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
}

_KV_TABLES = {"metric": latest_metrics, "param": params, "tag": tags}

#: In LIKE patterns a backslash makes the next ``%``, ``_`` or backslash literal.
_LIKE_ESCAPE = "\\"


def _apply(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = _compare(column, op, value)
    return result


def _compare(column: ColumnElement[Any], op: str, value: Any) -> Any:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "in":
        return column.in_(list(value))
    if op == "not in":
        return column.not_in(list(value))
    # An explicit escape character: PostgreSQL defaults to backslash, SQLite has none.
    if op == "like":
        return column.like(value, escape=_LIKE_ESCAPE)
    if op == "ilike":
        return column.ilike(value, escape=_LIKE_ESCAPE)
    if op == "not like":
        return column.not_like(value, escape=_LIKE_ESCAPE)
    if op == "not ilike":
        return column.not_ilike(value, escape=_LIKE_ESCAPE)
    raise InvalidInput(f"unsupported operator {op!r}")  # the parser never produces one


def _status_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(v.upper() for v in value)
    return value.upper()


def _exists(term: Comparison) -> ColumnElement[bool]:
    if term.entity == "attribute":
        value = _status_value(term.value) if term.key == "status" else term.value
        return _apply(_ATTRIBUTE_COLUMNS[term.key], term.op, value)
    table = _KV_TABLES[term.entity]
    sub = (
        sa.select(sa.literal(1))
        .select_from(table)
        .where(table.c.run_id == runs.c.id, table.c.key == term.key)
        .where(_apply(table.c.value, term.op, term.value))
    )
    return sub.exists()


@dataclass
class _Joins:
    """Aliases joined into the query, so order-by can reuse a filter's join."""

    inner: dict[tuple[str, str], Any] = field(default_factory=dict)
    clauses: list[tuple[Any, ColumnElement[bool], bool]] = field(default_factory=list)
    count: int = 0

    def alias(self, entity: str) -> Any:
        self.count += 1
        return _KV_TABLES[entity].alias(f"{entity[0]}{self.count}")


def _compile_where(expr: Expr | None, joins: _Joins) -> list[ColumnElement[bool]]:
    if expr is None:
        return []
    top = expr.items if isinstance(expr, BoolOp) and expr.op == "and" else (expr,)
    where: list[ColumnElement[bool]] = []
    for term in top:
        if (
            isinstance(term, Comparison)
            and term.entity in _KV_TABLES
            and (term.entity == "metric" or term.op == "=")
        ):
            key = (term.entity, term.key)
            alias = joins.inner.get(key)
            if alias is None:
                alias = joins.alias(term.entity)
                joins.inner[key] = alias
                joins.clauses.append(
                    (alias, sa.and_(alias.c.run_id == runs.c.id, alias.c.key == term.key), False)
                )
            where.append(_apply(alias.c.value, term.op, term.value))
        else:
            where.append(_compile_expr(term))
    return where


def _compile_expr(expr: Expr) -> ColumnElement[bool]:
    if isinstance(expr, Comparison):
        return _exists(expr)
    parts = [_compile_expr(item) for item in expr.items]
    return sa.and_(*parts) if expr.op == "and" else sa.or_(*parts)


def _order_columns(order: Sequence[OrderKey], joins: _Joins) -> list[ColumnElement[Any]]:
    columns: list[ColumnElement[Any]] = []
    for key in order:
        if key.entity == "attribute":
            column: ColumnElement[Any] = _ATTRIBUTE_COLUMNS[key.key]
            nullable = key.key in {"end_time", "parent_id", "user"}
        else:
            alias = joins.inner.get((key.entity, key.key))
            # An inner join exists only for a comparison filter, which excludes NULL (NaN), so
            # the "missing last" term is needed only for outer joins; leaving it out lets the
            # planner read the (key, value) index in order and stop after one page.
            nullable = alias is None
            if alias is None:
                alias = joins.alias(key.entity)
                joins.clauses.append(
                    (alias, sa.and_(alias.c.run_id == runs.c.id, alias.c.key == key.key), True)
                )
            column = alias.c.value
        if nullable:
            # Missing values (and NaN metrics, stored as NULL) sort last in both directions.
            columns.append(sa.case((column.is_(None), 1), else_=0))
        columns.append(column.desc() if key.descending else column.asc())
    columns.extend([runs.c.start_time.desc(), runs.c.id.asc()])
    return columns


Presence = Literal["all", "with", "without"]


def _parts(
    experiment_ids: Sequence[str],
    filter_string: str,
    order_by: Sequence[str],
    include_deleted: bool,
    presence: Presence,
) -> tuple[Any, list[ColumnElement[bool]], list[ColumnElement[Any]]]:
    expr = parse_filter(filter_string or "")
    order = parse_order_by(tuple(order_by))
    joins = _Joins()
    where = _compile_where(expr, joins)
    if presence != "all":
        first = order[0]
        if presence == "with":
            # Only runs that have a real value for the first order key: an inner join that
            # the planner can drive from the (key, value) index in order.
            alias = joins.alias(first.entity)
            joins.inner[(first.entity, first.key)] = alias
            joins.clauses.append(
                (
                    alias,
                    sa.and_(
                        alias.c.run_id == runs.c.id,
                        alias.c.key == first.key,
                        alias.c.value.is_not(None),
                    ),
                    False,
                )
            )
        else:
            table = _KV_TABLES[first.entity]
            has = (
                sa.select(sa.literal(1))
                .select_from(table)
                .where(
                    table.c.run_id == runs.c.id,
                    table.c.key == first.key,
                    table.c.value.is_not(None),
                )
                .exists()
            )
            where.append(sa.not_(has))
            order = order[1:]
    order_columns = _order_columns(order, joins)
    source: Any = runs
    for alias, on, outer in joins.clauses:
        source = source.join(alias, on, isouter=outer)
    if experiment_ids:
        where.append(runs.c.experiment_id.in_(list(experiment_ids)))
    if not include_deleted:
        where.append(runs.c.lifecycle_stage == "active")
    return source, where, order_columns


def splits_on_presence(filter_string: str, order_by: Sequence[str]) -> bool:
    """Whether the first order key is a metric, param or tag that no filter term joins.

    Such a search is answered in two parts (runs with the key, in index order, then runs
    without it), because one outer-joined query has to sort every matching run.
    """
    order = parse_order_by(tuple(order_by))
    if not order or order[0].entity == "attribute":
        return False
    joins = _Joins()
    _compile_where(parse_filter(filter_string or ""), joins)
    return (order[0].entity, order[0].key) not in joins.inner


def build_search(
    experiment_ids: Sequence[str],
    filter_string: str,
    order_by: Sequence[str],
    *,
    include_deleted: bool,
    offset: int,
    limit: int,
    presence: Presence = "all",
) -> sa.Select[Any]:
    """Return the ``SELECT`` of matching runs' columns for one page (``limit`` rows).

    ``presence`` restricts the search to runs with (``"with"``) or without (``"without"``) a
    value for the first order key; see :func:`splits_on_presence`.
    """
    source, where, order_columns = _parts(
        experiment_ids, filter_string, order_by, include_deleted, presence
    )
    query = sa.select(runs).select_from(source).where(*where)
    return query.order_by(*order_columns).offset(offset).limit(limit)


def count_search(
    experiment_ids: Sequence[str],
    filter_string: str,
    order_by: Sequence[str],
    *,
    include_deleted: bool,
    presence: Presence = "all",
) -> sa.Select[Any]:
    """Return a ``SELECT count(*)`` of the runs :func:`build_search` would page through."""
    source, where, _ = _parts(experiment_ids, filter_string, order_by, include_deleted, presence)
    return sa.select(sa.func.count()).select_from(source).where(*where)


def _fingerprint(experiment_ids: Sequence[str], filter_string: str, order_by: Sequence[str]) -> str:
    raw = json.dumps([sorted(experiment_ids), filter_string or "", list(order_by)])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def encode_page_token(
    offset: int, experiment_ids: Sequence[str], filter_string: str, order_by: Sequence[str]
) -> str:
    """Return an opaque token for the page starting at ``offset`` of this exact search."""
    payload = json.dumps({"o": offset, "q": _fingerprint(experiment_ids, filter_string, order_by)})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_page_token(
    token: str | None, experiment_ids: Sequence[str], filter_string: str, order_by: Sequence[str]
) -> int:
    """Return the offset a token stands for; reject tokens from another search."""
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(payload["o"])
        fingerprint = str(payload["q"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            "the page token is not valid; pass the next_token of a previous page unchanged"
        ) from exc
    if offset < 0 or fingerprint != _fingerprint(experiment_ids, filter_string, order_by):
        raise InvalidInput(
            "the page token belongs to another search; repeat the same experiments, filter and "
            "order with it"
        )
    return offset
