"""Where datasets come from: files and folders, HTTP APIs, SQL queries, DataFrames, scikit-learn.

:func:`open_source` turns what a user passes (a path, a URL, ``sklearn:wine``, a DataFrame, or
``sql=``/``db=``) into a :class:`Source`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelward.datasets.sources.base import ReadContext, Retype, Source
from modelward.errors import InvalidInput

__all__ = ["ReadContext", "Retype", "Source", "open_source"]

_FILE_OPTIONS = {
    "format",
    "delimiter",
    "encoding",
    "header",
    "on_bad_lines",
    "records_path",
    "null_values",
}
_HTTP_OPTIONS = {
    "headers",
    "params",
    "format",
    "records_path",
    "pagination",
    "timeout",
    "retries",
    "backoff",
    "transport",
}
_SQL_OPTIONS = {"params", "chunk_rows"}


def open_source(
    source: Any = None, *, sql: str | None = None, db: str | None = None, **options: Any
) -> Source:
    """Return the :class:`Source` for what the user passed.

    Args:
        source: A path (file or folder), an ``http(s)://`` URL, ``sklearn:NAME``, a pandas
            DataFrame, a pyarrow Table, or a :class:`Source`. Leave it out with ``sql``.
        sql: A SQL query (with ``db``).
        db: A SQLAlchemy database URL for ``sql``.
        **options: Options of that kind of source (see :class:`~.files.FileOptions`,
            :class:`~.http.HttpSource`, :class:`~.sql.SqlSource`).

    Raises:
        InvalidInput: Nothing usable was passed, or an option does not apply to the source.
    """
    if sql is not None or db is not None:
        if source is not None:
            raise InvalidInput("pass either a source or sql= with db=, not both")
        if sql is None or db is None:
            raise InvalidInput("a SQL source needs both the query (sql=) and the database (db=)")
        from modelward.datasets.sources.sql import SqlSource

        _check(options, _SQL_OPTIONS, "SQL")
        return SqlSource(sql, db, **options)
    if isinstance(source, Source):
        _check(options, set(), "this")
        return source
    if source is None:
        raise InvalidInput(
            "nothing to ingest: pass a file or folder, a URL, sklearn:NAME, a DataFrame, "
            "or sql= with db="
        )
    if isinstance(source, str) and source.startswith("sklearn:"):
        from modelward.datasets.sources.frames import SklearnSource

        _check(options, set(), "scikit-learn")
        return SklearnSource(source.split(":", 1)[1])
    if isinstance(source, str) and source.lower().startswith(("http://", "https://")):
        from modelward.datasets.sources.http import HttpSource, Pagination

        _check(options, _HTTP_OPTIONS, "HTTP")
        pagination = options.pop("pagination", None)
        if isinstance(pagination, Mapping):
            pagination = Pagination(**pagination)
        return HttpSource(source, pagination=pagination, **options)
    if isinstance(source, str | Path):
        from modelward.datasets.sources.files import FileOptions, FileSource

        _check(options, _FILE_OPTIONS, "file")
        if isinstance(options.get("null_values"), list):
            options["null_values"] = tuple(options["null_values"])
        return FileSource(source, FileOptions(**options))
    from modelward.datasets.sources.frames import FrameSource

    _check(options, {"description"}, "DataFrame")
    return FrameSource(source, **options)


def _check(options: Mapping[str, Any], allowed: set[str], kind: str) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        hint = f"; it takes {', '.join(sorted(allowed))}" if allowed else ""
        raise InvalidInput(f"option(s) {', '.join(unknown)} do not apply to a {kind} source{hint}")
