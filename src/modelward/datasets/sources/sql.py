"""A SQL query against any database SQLAlchemy can reach.

Rows are fetched in chunks through a server-side cursor where the driver has one
(``stream_results``), so a large result never sits in memory whole. Each chunk is converted
column by column; a column whose type changes between chunks is widened and the query re-run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from modelward.datasets.sources.base import ReadContext, Source
from modelward.datasets.sources.records import records_to_columns
from modelward.errors import InvalidInput, Unavailable

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SqlSource"]

#: Rows fetched per chunk.
SQL_CHUNK_ROWS = 50_000


class SqlSource(Source):
    """The rows of a query.

    Args:
        query: A ``SELECT`` statement; use ``:name`` placeholders with ``params``.
        db: A SQLAlchemy URL (``sqlite:///shop.db``, ``postgresql+psycopg://user@host/db``).
        params: Bound parameter values.
        chunk_rows: Rows per fetch.
    """

    kind = "sql"

    def __init__(
        self,
        query: str,
        db: str,
        *,
        params: Mapping[str, Any] | None = None,
        chunk_rows: int = SQL_CHUNK_ROWS,
    ) -> None:
        if not isinstance(query, str) or not query.strip():
            raise InvalidInput("the SQL query is empty; pass a SELECT statement")
        if not isinstance(db, str) or not db:
            raise InvalidInput("a SQL source needs a database URL (db=, CLI --db)")
        import sqlalchemy as sa

        try:
            self._url = sa.engine.make_url(db)
        except sa.exc.ArgumentError:
            raise InvalidInput(
                f"not a database URL: {db!r}; use e.g. sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST/DB"
            ) from None
        self.query = query
        self.params = dict(params or {})
        self.chunk_rows = chunk_rows

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "db": self._url.render_as_string(hide_password=True),
            "query": self.query,
            "params": sorted(self.params),
        }

    def read(self, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import sqlalchemy as sa

        try:
            engine = sa.create_engine(self._url)
        except (ImportError, sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
            raise InvalidInput(
                f"cannot use the database URL {self.describe()['db']}: {exc}; install its driver"
            ) from None
        try:
            with engine.connect() as conn:
                result = conn.execution_options(stream_results=True).execute(
                    sa.text(self.query), self.params
                )
                if not result.returns_rows:
                    raise InvalidInput("the SQL statement returns no rows; pass a SELECT query")
                names = [str(k) for k in result.keys()]  # noqa: SIM118 - a Result, not a dict
                while rows := result.fetchmany(self.chunk_rows):
                    columns = records_to_columns(
                        names, list(zip(*rows, strict=True)), ctx.types, ctx.warnings, "the query"
                    )
                    yield pa.RecordBatch.from_arrays(columns, names=names)
        except sa.exc.OperationalError as exc:
            raise _db_error(exc, self.describe()["db"]) from None
        except sa.exc.DBAPIError as exc:
            raise InvalidInput(f"the SQL query failed: {_first_line(exc)}") from None
        except sa.exc.SQLAlchemyError as exc:
            raise InvalidInput(f"the SQL query failed: {exc}") from None
        finally:
            engine.dispose()


def _first_line(exc: Any) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _db_error(exc: Any, db: str) -> Exception:
    text = _first_line(exc)
    lowered = text.lower()
    if any(w in lowered for w in ("connect", "unable to open", "refused", "could not translate")):
        return Unavailable(f"cannot reach the database {db}: {text}")
    return InvalidInput(f"the SQL query failed: {text}")
