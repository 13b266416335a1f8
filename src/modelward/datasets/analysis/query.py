"""SQL over dataset versions with DuckDB: ``SELECT … FROM wine@2 JOIN regions@latest …``.

Each ``NAME@N`` / ``NAME@latest`` outside string literals and comments (or a quoted identifier
``"NAME@N"``) becomes a view over that version's Parquet file. The query then runs in a private
in-memory DuckDB whose file access is limited to those files and locked: a query can read the
referenced versions and nothing else on the machine (no other files, no network, no writes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelward.datasets.refs import NAME_PATTERN
from modelward.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["QueryPlan", "find_refs", "plan_query"]

_TOKENS = re.compile(
    r"""
    (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<line>--[^\n]*)
  | (?P<block>/\*.*?\*/)
  | (?P<ref>(?<![A-Za-z0-9_.@\-])"""
    + NAME_PATTERN
    + r"""@(?:latest|\d+)(?![A-Za-z0-9_]))
    """,
    re.VERBOSE | re.DOTALL,
)
_WHOLE_REF = re.compile(NAME_PATTERN + r"@(?:latest|\d+)")


def find_refs(sql: str) -> list[tuple[int, int, str]]:
    """Return ``(start, end, ref)`` for each dataset reference in ``sql``."""
    found = []
    for match in _TOKENS.finditer(sql):
        if match.group("ref"):
            found.append((match.start(), match.end(), match.group("ref")))
        elif match.group("quoted"):
            inner = match.group("quoted")[1:-1].replace('""', '"')
            if _WHOLE_REF.fullmatch(inner):
                found.append((match.start(), match.end(), inner))
    return found


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """A query with its references replaced by views.

    Attributes:
        sql: The rewritten query.
        views: View name -> Parquet path.
        refs: Reference as written -> resolved ``name@N``.
    """

    sql: str
    views: dict[str, Path]
    refs: dict[str, str]

    def _connect(self) -> Any:
        import duckdb

        connection = duckdb.connect(":memory:")
        try:
            for view, path in self.views.items():
                # Views cannot take bound parameters. The view name matched the reference
                # pattern (no quotes possible) and the path is the store's own, quoted.
                literal = str(path).replace("'", "''")
                statement = f"CREATE VIEW \"{view}\" AS SELECT * FROM read_parquet('{literal}')"  # noqa: S608
                connection.execute(statement)
            allowed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in self.views.values())
            connection.execute(f"SET allowed_paths = [{allowed}]")
            connection.execute("SET enable_external_access = false")
            connection.execute("SET lock_configuration = true")
        except BaseException:
            connection.close()
            raise
        return connection

    def batches(self, batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
        """Run the query and yield its result in record batches (bounded memory).

        An empty result yields one empty batch, so the result's columns are always known.
        """
        import duckdb
        import pyarrow as pa

        connection = self._connect()
        try:
            try:
                reader = connection.sql(self.sql).to_arrow_reader(batch_rows)
            except duckdb.Error as exc:
                raise _query_error(exc) from None
            except AttributeError:
                raise InvalidInput("the query returns no rows; use a SELECT statement") from None
            yielded = False
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except duckdb.Error as exc:
                    raise _query_error(exc) from None
                if batch.num_rows:
                    yielded = True
                    yield batch
            if not yielded:
                yield pa.RecordBatch.from_pylist([], schema=reader.schema)
        finally:
            connection.close()

    def table(self, limit: int | None = None) -> pa.Table:
        """Run the query and return its result (the first ``limit`` rows when given)."""
        import pyarrow as pa

        batches: list[pa.RecordBatch] = []
        rows = 0
        for batch in self.batches():
            if limit is not None and rows + batch.num_rows >= limit:
                batches.append(batch.slice(0, limit - rows))
                break
            batches.append(batch)
            rows += batch.num_rows
        return pa.Table.from_batches(batches)


def plan_query(sql: str, resolve: Callable[[str], tuple[str, Path]]) -> QueryPlan:
    """Replace the dataset references in ``sql`` by views.

    Args:
        sql: The query.
        resolve: Reference -> (``name@N``, local Parquet path); raises NotFound for unknown ones.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidInput("the query is empty; write e.g. SELECT count(*) FROM wine@1")
    parts: list[str] = []
    views: dict[str, Path] = {}
    refs: dict[str, str] = {}
    position = 0
    for start, end, ref in find_refs(sql):
        if ref not in refs:
            exact, path = resolve(ref)
            refs[ref] = exact
            views[ref] = path
        parts.append(sql[position:start])
        parts.append('"' + ref + '"')
        position = end
    parts.append(sql[position:])
    return QueryPlan("".join(parts), views, refs)


def _query_error(exc: Exception) -> InvalidInput:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if "Permission Error" in text or "disabled by configuration" in text:
        return InvalidInput(
            f"the query tried to reach something other than dataset versions ({first}); "
            "only NAME@N references can be read"
        )
    return InvalidInput(f"the query failed: {first}")
