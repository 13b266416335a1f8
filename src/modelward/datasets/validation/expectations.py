"""Expectations on a dataset: what its columns and rows must look like.

Declared in YAML (or a dict, or built in Python)::

    rows: {min: 100, max: 1000000}
    strict_columns: false          # true: no columns beyond those listed
    columns:
      alcohol:
        type: number               # integer, number, string, boolean, timestamp, date, or an
                                   # exact Arrow type such as int64 / double
        min: 0
        max: 20
        max_null_fraction: 0.01
      class:
        type: string
        allowed: [a, b, c]
      id:
        unique: true
        nullable: false            # shorthand for max_null_fraction: 0
      comment:
        required: false            # may be absent; checked when present
        severity: warn             # every check of this column only warns

Each check may also be written ``{value: ..., severity: warn}`` to soften just that check.
A failed ``error`` check (the default) stops an ingest and stores nothing; a failed ``warn``
check is reported and the version is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from modelward.errors import InvalidInput

__all__ = ["TYPE_NAMES", "ColumnExpectation", "Expectations", "Severity"]

Severity = Literal["error", "warn"]

#: Type words accepted besides exact Arrow type names.
TYPE_NAMES = ("integer", "number", "string", "boolean", "timestamp", "date")
_TYPE_ALIASES = {
    "int": "integer",
    "integer": "integer",
    "float": "number",
    "number": "number",
    "numeric": "number",
    "str": "string",
    "string": "string",
    "text": "string",
    "bool": "boolean",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "datetime": "timestamp",
    "date": "date",
}
_COLUMN_KEYS = {
    "type",
    "required",
    "nullable",
    "max_null_fraction",
    "min",
    "max",
    "allowed",
    "unique",
    "severity",
}
_CHECKS = ("type", "max_null_fraction", "min", "max", "allowed", "unique")


@dataclass(frozen=True, slots=True)
class ColumnExpectation:
    """What one column must satisfy.

    Attributes:
        name: Column name.
        required: Whether the column must exist.
        type: Expected type word or Arrow type name.
        max_null_fraction: Largest share of missing values (0 = no missing values).
        min: Smallest allowed value (numeric or temporal columns; strings compare as text).
        max: Largest allowed value.
        allowed: The only values allowed (missing values are not counted).
        unique: Whether non-missing values must all differ.
        severity: ``error`` (default) or ``warn`` for every check of the column.
        check_severity: Per-check override, check name -> severity.
    """

    name: str
    required: bool = True
    type: str | None = None
    max_null_fraction: float | None = None
    min: Any = None
    max: Any = None
    allowed: tuple[Any, ...] | None = None
    unique: bool = False
    severity: Severity = "error"
    check_severity: Mapping[str, Severity] = field(default_factory=dict)

    def severity_of(self, check: str) -> Severity:
        """Severity of one check of this column."""
        return self.check_severity.get(check, self.severity)

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML/JSON form."""
        data: dict[str, Any] = {}
        if not self.required:
            data["required"] = False
        for key in ("type", "max_null_fraction", "min", "max"):
            value = getattr(self, key)
            if value is not None:
                data[key] = _with_severity(value, self.check_severity.get(key))
        if self.allowed is not None:
            data["allowed"] = _with_severity(list(self.allowed), self.check_severity.get("allowed"))
        if self.unique:
            data["unique"] = _with_severity(True, self.check_severity.get("unique"))
        if self.severity != "error":
            data["severity"] = self.severity
        return data


def _with_severity(value: Any, severity: str | None) -> Any:
    return {"value": value, "severity": severity} if severity else value


@dataclass(frozen=True, slots=True)
class Expectations:
    """A set of expectations on a table.

    Example::

        expect = (
            Expectations()
            .column("alcohol", type="number", min=0, max=20)
            .column("class", allowed=["a", "b", "c"])
            .rows(min=100)
        )

    Attributes:
        columns: Per-column expectations, in order.
        min_rows: Fewest rows allowed.
        max_rows: Most rows allowed.
        rows_severity: Severity of the row-count checks.
        strict_columns: Whether columns not listed are an error.
    """

    columns: tuple[ColumnExpectation, ...] = ()
    min_rows: int | None = None
    max_rows: int | None = None
    rows_severity: Severity = "error"
    strict_columns: bool = False

    # -- building --------------------------------------------------------------------------
    def column(self, name: str, **checks: Any) -> Expectations:
        """Return a copy with expectations on column ``name`` (see the module docstring)."""
        expectation = _parse_column(name, checks)
        others = tuple(c for c in self.columns if c.name != name)
        return replace(self, columns=(*others, expectation))

    def rows(
        self, *, min: int | None = None, max: int | None = None, severity: Severity = "error"
    ) -> Expectations:
        """Return a copy with row-count bounds."""
        _check_severity(severity, "rows")
        return replace(self, min_rows=min, max_rows=max, rows_severity=severity)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Expectations:
        """Read the YAML/JSON form.

        Raises:
            InvalidInput: An unknown key, a malformed value or an unknown type word.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput(
                f"expectations must be a mapping with 'columns' and/or 'rows', not "
                f"{type(data).__name__}"
            )
        unknown = set(data) - {"columns", "rows", "strict_columns"}
        if unknown:
            raise InvalidInput(
                f"unknown expectation key(s) {', '.join(sorted(unknown))}; use columns, rows, "
                "strict_columns"
            )
        result = cls(strict_columns=bool(data.get("strict_columns", False)))
        columns = data.get("columns") or {}
        if not isinstance(columns, Mapping):
            raise InvalidInput("'columns' must map column names to their checks")
        for name, checks in columns.items():
            if checks is None:
                checks = {}
            if not isinstance(checks, Mapping):
                raise InvalidInput(f"the checks of column {name!r} must be a mapping")
            result = result.column(str(name), **dict(checks))
        rows = data.get("rows")
        if rows is not None:
            if not isinstance(rows, Mapping) or set(rows) - {"min", "max", "severity"}:
                raise InvalidInput("'rows' takes min, max and severity, e.g. rows: {min: 100}")
            result = result.rows(
                min=_int_or_none(rows.get("min"), "rows.min"),
                max=_int_or_none(rows.get("max"), "rows.max"),
                severity=rows.get("severity", "error"),
            )
        return result

    @classmethod
    def from_yaml(cls, path_or_text: str | Path) -> Expectations:
        """Read expectations from a YAML file (or YAML text)."""
        from modelward.datasets.yamlio import load_yaml

        return cls.from_dict(load_yaml(path_or_text, "expectations"))

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML/JSON form."""
        data: dict[str, Any] = {"columns": {c.name: c.to_dict() for c in self.columns}}
        if self.min_rows is not None or self.max_rows is not None:
            rows: dict[str, Any] = {}
            if self.min_rows is not None:
                rows["min"] = self.min_rows
            if self.max_rows is not None:
                rows["max"] = self.max_rows
            if self.rows_severity != "error":
                rows["severity"] = self.rows_severity
            data["rows"] = rows
        if self.strict_columns:
            data["strict_columns"] = True
        return data


def _check_severity(value: Any, where: str) -> Severity:
    if value not in ("error", "warn"):
        raise InvalidInput(f"severity of {where} must be 'error' or 'warn', not {value!r}")
    return value  # type: ignore[no-any-return]


def _int_or_none(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{where} must be a non-negative integer, not {value!r}")
    return value


def _parse_column(name: str, checks: Mapping[str, Any]) -> ColumnExpectation:
    unknown = set(checks) - _COLUMN_KEYS
    if unknown:
        raise InvalidInput(
            f"unknown check(s) {', '.join(sorted(unknown))} on column {name!r}; use "
            f"{', '.join(sorted(_COLUMN_KEYS))}"
        )
    values: dict[str, Any] = {}
    severities: dict[str, Severity] = {}
    for key, raw in checks.items():
        if key in _CHECKS and isinstance(raw, Mapping) and "value" in raw:
            extra = set(raw) - {"value", "severity"}
            if extra:
                raise InvalidInput(
                    f"check {key!r} of column {name!r} takes value and severity, not "
                    f"{', '.join(sorted(extra))}"
                )
            severities[key] = _check_severity(raw.get("severity", "error"), f"{name}.{key}")
            raw = raw["value"]
        values[key] = raw
    severity = _check_severity(values.get("severity", "error"), f"column {name!r}")
    type_name = values.get("type")
    if type_name is not None:
        type_name = _type_word(str(type_name), name)
    fraction = values.get("max_null_fraction")
    if values.get("nullable") is False:
        fraction = 0.0 if fraction is None else min(float(fraction), 0.0)
        if "nullable" in severities:
            severities["max_null_fraction"] = severities["nullable"]
    if fraction is not None:
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            raise InvalidInput(f"max_null_fraction of {name!r} must be a number in [0, 1]")
        if not 0.0 <= float(fraction) <= 1.0:
            raise InvalidInput(f"max_null_fraction of {name!r} must lie in [0, 1], not {fraction}")
        fraction = float(fraction)
    allowed = values.get("allowed")
    if allowed is not None:
        if isinstance(allowed, str | bytes) or not isinstance(allowed, Sequence) or not allowed:
            raise InvalidInput(f"'allowed' of column {name!r} must be a non-empty list of values")
        allowed = tuple(allowed)
    low, high = values.get("min"), values.get("max")
    if low is not None and high is not None:
        try:
            bad = low > high
        except TypeError:
            raise InvalidInput(f"min and max of column {name!r} are not comparable") from None
        if bad:
            raise InvalidInput(f"min ({low}) is above max ({high}) for column {name!r}")
    return ColumnExpectation(
        name=name,
        required=bool(values.get("required", True)),
        type=type_name,
        max_null_fraction=fraction,
        min=low,
        max=high,
        allowed=allowed,
        unique=bool(values.get("unique", False)),
        severity=severity,
        check_severity=severities,
    )


def _type_word(word: str, column: str) -> str:
    alias = _TYPE_ALIASES.get(word.lower())
    if alias is not None:
        return alias
    import pyarrow as pa

    try:
        pa.type_for_alias(word)
    except ValueError:
        raise InvalidInput(
            f"unknown type {word!r} for column {column!r}; use {', '.join(TYPE_NAMES)} or an "
            "Arrow type such as int64, double, string"
        ) from None
    return word
