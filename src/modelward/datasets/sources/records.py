"""Turning JSON records (from files and HTTP APIs) into Arrow tables, column by column.

JSON has no schema, so each column is converted on its own: a column whose values Arrow cannot
put in one type (numbers and text mixed) is kept as text, with a warning, instead of failing
the whole table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modelward.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["find_records", "records_to_columns", "records_to_table"]


def find_records(document: Any, path: str | None, what: str) -> list[Any]:
    """Return the list of records in a decoded JSON document.

    Args:
        document: The decoded JSON.
        path: Dotted key path to the list (``"data"``, ``"result.items"``); when ``None`` the
            document itself must be the list, or an object with exactly one list value.
        what: Where the document came from, for messages.
    """
    node = document
    if path:
        for key in path.split("."):
            if not isinstance(node, Mapping) or key not in node:
                keys = ", ".join(sorted(node)) if isinstance(node, Mapping) else type(node).__name__
                raise InvalidInput(
                    f"{what} has no key {key!r} on the records path {path!r} (found: {keys})",
                    details={"records_path": path},
                )
            node = node[key]
    elif isinstance(node, Mapping):
        lists = [k for k, v in node.items() if isinstance(v, list)]
        if len(lists) == 1:
            node = node[lists[0]]
        elif node and all(isinstance(v, list) for v in node.values()):
            return _columns_to_records(node, what)
        else:
            raise InvalidInput(
                f"{what} is a JSON object; say where its records are with records_path "
                f"(CLI --records-path), e.g. one of: {', '.join(lists) or '(no list values)'}"
            )
    if not isinstance(node, list):
        raise InvalidInput(
            f"{what} holds {type(node).__name__}, not a list of records; pass records_path "
            "(CLI --records-path) naming the list"
        )
    return node


def _columns_to_records(columns: Mapping[str, list[Any]], what: str) -> list[Any]:
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise InvalidInput(f"{what} looks columnar but its lists have different lengths")
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def records_to_table(
    records: Sequence[Any],
    types: Mapping[str, pa.DataType],
    warnings: list[str],
    what: str,
) -> pa.Table:
    """Build a table from a list of JSON objects.

    Args:
        records: Decoded JSON objects; keys become columns in order of first appearance.
        types: Columns to convert to a given type.
        warnings: Receives a message per column kept as text because of mixed types.
        what: Where the records came from, for messages.
    """
    import pyarrow as pa

    names: dict[str, None] = {}
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InvalidInput(
                f"{what}: record {index + 1} is {type(record).__name__}, not a JSON object; "
                "every record must be an object of column -> value"
            )
        for key in record:
            names.setdefault(str(key), None)
    columns = [[r.get(name) for r in records] for name in names]
    arrays = records_to_columns(list(names), columns, types, warnings, what)
    return pa.table(dict(zip(names, arrays, strict=True)))


def records_to_columns(
    names: Sequence[str],
    columns: Sequence[Sequence[Any]],
    types: Mapping[str, pa.DataType],
    warnings: list[str],
    what: str,
) -> list[pa.Array]:
    """Convert columns of Python values to Arrow arrays (mixed columns become text).

    Raises:
        Retype: A column with a declared type holds values that type cannot.
    """
    return [
        _column(name, list(values), types.get(name), warnings, what)
        for name, values in zip(names, columns, strict=True)
    ]


def _column(
    name: str, values: list[Any], arrow_type: pa.DataType | None, warnings: list[str], what: str
) -> pa.Array:
    import pyarrow as pa

    if arrow_type is not None and pa.types.is_string(arrow_type):
        return pa.array([_text(v) for v in values], type=pa.string())
    try:
        return pa.array(values, type=arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        if arrow_type is not None and not pa.types.is_string(arrow_type):
            # A later chunk meets values a narrower type cannot hold: read as text.
            from modelward.datasets.sources.base import Retype

            raise Retype(name, pa.string(), f"values do not fit {arrow_type}") from None
    warnings.append(f"{what}: column {name!r} mixes value types; stored as text")
    return pa.array([_text(v) for v in values], type=pa.string())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, sort_keys=True)
