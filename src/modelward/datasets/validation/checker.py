"""Checking data against :class:`~.expectations.Expectations`, batch by batch, in one pass.

Schema checks (required columns, types, unexpected columns) are decided on the first batch, so
an ingest whose data has the wrong shape stops at once. Value checks accumulate counts per
batch. ``unique`` keeps the checked column's values until the end (memory: one value per row
of that column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelward.datasets.validation.expectations import ColumnExpectation, Expectations, Severity
from modelward.errors import SchemaViolation

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["CheckResult", "ExpectationChecker", "ValidationReport", "check_table"]

_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check.

    Attributes:
        column: The column checked, or ``None`` for table checks (``rows``, ``columns``).
        check: ``required``, ``type``, ``max_null_fraction``, ``min``, ``max``, ``allowed``,
            ``unique``, ``rows`` or ``columns``.
        severity: ``error`` or ``warn``.
        passed: Whether the data met it.
        expected: What was expected, in words.
        observed: What was found, in words.
    """

    column: str | None
    check: str
    severity: Severity
    passed: bool
    expected: str
    observed: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {
            "column": self.column,
            "check": self.check,
            "severity": self.severity,
            "passed": self.passed,
            "expected": self.expected,
            "observed": self.observed,
        }

    def line(self) -> str:
        """One readable line, e.g. ``✗ alcohol: at most 14 (observed 3 values above)``."""
        mark = "ok" if self.passed else ("FAIL" if self.severity == "error" else "WARN")
        where = self.column if self.column is not None else "(table)"
        return f"{mark:4} {where} {self.check}: expected {self.expected}; observed {self.observed}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Every check's outcome.

    Attributes:
        results: One result per check, in the order declared.
        rows: Rows checked.
    """

    results: tuple[CheckResult, ...]
    rows: int

    @property
    def errors(self) -> list[CheckResult]:
        """Failed checks of severity ``error``."""
        return [r for r in self.results if not r.passed and r.severity == "error"]

    @property
    def warnings(self) -> list[CheckResult]:
        """Failed checks of severity ``warn``."""
        return [r for r in self.results if not r.passed and r.severity == "warn"]

    @property
    def passed(self) -> bool:
        """Whether no ``error`` check failed."""
        return not self.errors

    def summary(self) -> str:
        """One line: how many checks failed, and the first failures."""
        errors, warnings = self.errors, self.warnings
        if not errors and not warnings:
            return f"all {len(self.results)} expectation checks passed"
        shown = "; ".join(
            f"{r.column or 'rows'} {r.check} (expected {r.expected}, observed {r.observed})"
            for r in (errors or warnings)[:3]
        )
        more = len(errors or warnings) - 3
        tail = f"; and {more} more" if more > 0 else ""
        kind = f"{len(errors)} failed" if errors else f"{len(warnings)} warning(s)"
        return f"{kind} of {len(self.results)} expectation checks: {shown}{tail}"

    def to_text(self) -> str:
        """The whole report, one line per check."""
        return "\n".join([self.summary(), *(r.line() for r in self.results)])

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dictionary."""
        return {
            "passed": self.passed,
            "rows": self.rows,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "results": [r.to_dict() for r in self.results],
        }

    def raise_for_errors(self, what: str) -> None:
        """Raise :class:`~modelward.errors.SchemaViolation` if an ``error`` check failed.

        The exception's ``details["report"]`` holds :meth:`to_dict`.
        """
        if self.passed:
            return
        raise SchemaViolation(
            f"{what} does not meet its expectations, nothing was stored: {self.summary()}",
            details={"report": self.to_dict()},
        )


class _ColumnState:
    __slots__ = ("above", "below", "examples", "expectation", "nulls", "outside", "values")

    def __init__(self, expectation: ColumnExpectation) -> None:
        self.expectation = expectation
        self.nulls = 0
        self.below = 0
        self.above = 0
        self.outside = 0
        self.examples: list[Any] = []
        self.values: list[pa.Array] = []


class ExpectationChecker:
    """Evaluates expectations over batches: :meth:`update` each, then :meth:`finish`.

    Args:
        expectations: What to check.
    """

    def __init__(self, expectations: Expectations) -> None:
        self.expectations = expectations
        self._schema_results: list[CheckResult] | None = None
        self._states: dict[str, _ColumnState] = {}
        self._rows = 0
        self._min: dict[str, Any] = {}
        self._max: dict[str, Any] = {}

    @property
    def schema_failed(self) -> bool:
        """Whether a schema check of severity ``error`` failed (known after the first batch)."""
        return any(not r.passed and r.severity == "error" for r in (self._schema_results or []))

    def schema_report(self) -> ValidationReport:
        """The report of the schema checks alone (to stop early when they fail)."""
        return ValidationReport(tuple(self._schema_results or []), 0)

    def start(self, schema: pa.Schema) -> None:
        """Run the schema checks against the data's schema."""
        from modelward.datasets.identity import logical_type

        results: list[CheckResult] = []
        names = set(schema.names)
        for col in self.expectations.columns:
            if col.name not in names:
                if col.required:
                    results.append(
                        CheckResult(col.name, "required", col.severity, False, "present", "absent")
                    )
                continue
            if col.required:
                results.append(
                    CheckResult(col.name, "required", col.severity, True, "present", "present")
                )
            arrow_type = schema.field(col.name).type
            if col.type is not None:
                ok = _type_matches(col.type, arrow_type)
                results.append(
                    CheckResult(
                        col.name,
                        "type",
                        col.severity_of("type"),
                        ok,
                        col.type,
                        logical_type(arrow_type),
                    )
                )
            self._states[col.name] = _ColumnState(col)
        if self.expectations.strict_columns:
            declared = {c.name for c in self.expectations.columns}
            extra = [n for n in schema.names if n not in declared]
            results.append(
                CheckResult(
                    None,
                    "columns",
                    "error",
                    not extra,
                    "only the declared columns",
                    f"also {', '.join(extra)}" if extra else "only those",
                )
            )
        self._schema_results = results

    def count_rows(self, rows: int) -> None:
        """Count rows without checking their values (when no column check needs them)."""
        self._rows += rows

    def update(self, table: pa.Table | pa.RecordBatch) -> None:
        """Count one batch."""
        import pyarrow.compute as pc

        if self._schema_results is None:
            self.start(table.schema)
        self._rows += table.num_rows
        for name, state in self._states.items():
            column = table.column(name)
            col = state.expectation
            state.nulls += column.null_count
            if _is_float(column.type):
                state.nulls += int(pc.sum(pc.is_nan(column)).as_py() or 0)
            if col.min is not None or col.max is not None:
                self._update_range(name, state, column)
            if col.allowed is not None:
                self._update_allowed(state, column)
            if col.unique:
                state.values.extend(column.chunks if hasattr(column, "chunks") else [column])

    def _update_range(self, name: str, state: _ColumnState, column: Any) -> None:
        import pyarrow.compute as pc

        col = state.expectation
        try:
            if col.min is not None:
                state.below += int(
                    pc.sum(pc.less(column, _bound(col.min, column.type))).as_py() or 0
                )
            if col.max is not None:
                state.above += int(
                    pc.sum(pc.greater(column, _bound(col.max, column.type))).as_py() or 0
                )
            extremes = pc.min_max(column)
        except Exception:
            state.below = state.above = -1
            return
        low, high = extremes["min"].as_py(), extremes["max"].as_py()
        if low is not None:
            self._min[name] = low if name not in self._min else min(self._min[name], low)
            self._max[name] = high if name not in self._max else max(self._max[name], high)

    @staticmethod
    def _update_allowed(state: _ColumnState, column: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        allowed = state.expectation.allowed or ()
        try:
            values = pa.array(list(allowed)).cast(column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            values = pa.array([str(v) for v in allowed])
            column = column.cast(pa.string())
        inside = pc.is_in(column, value_set=values)
        outside = pc.and_(pc.invert(inside), pc.is_valid(column))
        count = int(pc.sum(outside).as_py() or 0)
        if count:
            state.outside += count
            if len(state.examples) < _EXAMPLES:
                found = pc.unique(pc.filter(column, outside)).to_pylist()
                for value in found:
                    if value not in state.examples and len(state.examples) < _EXAMPLES:
                        state.examples.append(value)

    def finish(self) -> ValidationReport:
        """Return the report of every check."""
        results = list(self._schema_results or [])
        rows = self._rows
        for name, state in self._states.items():
            results.extend(self._column_results(name, state, rows))
        exp = self.expectations
        if exp.min_rows is not None or exp.max_rows is not None:
            ok = (exp.min_rows is None or rows >= exp.min_rows) and (
                exp.max_rows is None or rows <= exp.max_rows
            )
            results.append(
                CheckResult(
                    None,
                    "rows",
                    exp.rows_severity,
                    ok,
                    _between(exp.min_rows, exp.max_rows),
                    f"{rows:,} rows",
                )
            )
        return ValidationReport(tuple(results), rows)

    def _column_results(self, name: str, state: _ColumnState, rows: int) -> list[CheckResult]:
        col = state.expectation
        out: list[CheckResult] = []
        if col.max_null_fraction is not None:
            share = state.nulls / rows if rows else 0.0
            out.append(
                CheckResult(
                    name,
                    "max_null_fraction",
                    col.severity_of("max_null_fraction"),
                    share <= col.max_null_fraction,
                    f"at most {col.max_null_fraction:.2%} missing",
                    f"{share:.2%} missing ({state.nulls:,} rows)",
                )
            )
        for check, bound, count, word in (
            ("min", col.min, state.below, "below"),
            ("max", col.max, state.above, "above"),
        ):
            if bound is None:
                continue
            if count < 0:
                observed = "values not comparable with the bound"
            else:
                low, high = self._min.get(name), self._max.get(name)
                observed = f"{count:,} value(s) {word} (range {low} .. {high})"
            out.append(
                CheckResult(
                    name,
                    check,
                    col.severity_of(check),
                    count == 0,
                    f"values {'>=' if check == 'min' else '<='} {bound}",
                    observed,
                )
            )
        if col.allowed is not None:
            shown = ", ".join(repr(v) for v in state.examples)
            out.append(
                CheckResult(
                    name,
                    "allowed",
                    col.severity_of("allowed"),
                    state.outside == 0,
                    f"one of {list(col.allowed)}",
                    f"{state.outside:,} other value(s): {shown}" if state.outside else "only those",
                )
            )
        if col.unique:
            out.append(self._unique_result(name, state))
        return out

    @staticmethod
    def _unique_result(name: str, state: _ColumnState) -> CheckResult:
        import pyarrow as pa
        import pyarrow.compute as pc

        col = state.expectation
        values = pa.chunked_array(state.values) if state.values else pa.chunked_array([], pa.null())
        state.values = []
        counts = pc.value_counts(values.drop_null())
        repeated = pc.filter(counts, pc.greater(counts.field("counts"), 1))
        examples = [str(v) for v in repeated.field("values").to_pylist()[:_EXAMPLES]]
        return CheckResult(
            name,
            "unique",
            col.severity_of("unique"),
            len(repeated) == 0,
            "no repeated values",
            f"{len(repeated):,} repeated value(s): {', '.join(examples)}"
            if len(repeated)
            else "none",
        )


def _between(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"{low:,} to {high:,} rows"
    if low is not None:
        return f"at least {low:,} rows"
    return f"at most {high:,} rows"


def _is_float(arrow_type: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_floating(arrow_type))


def _bound(value: Any, arrow_type: pa.DataType) -> Any:
    import pyarrow as pa

    if pa.types.is_temporal(arrow_type) and isinstance(value, str):
        return pa.scalar(value).cast(arrow_type)
    if pa.types.is_temporal(arrow_type):
        return pa.scalar(value, type=arrow_type)
    return value


def _type_matches(word: str, arrow_type: pa.DataType) -> bool:
    import pyarrow as pa

    from modelward.datasets.identity import logical_type

    t = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    checks = {
        "integer": pa.types.is_integer,
        "number": lambda x: (
            pa.types.is_integer(x) or pa.types.is_floating(x) or pa.types.is_decimal(x)
        ),
        "string": lambda x: (
            pa.types.is_string(x) or pa.types.is_large_string(x) or pa.types.is_string_view(x)
        ),
        "boolean": pa.types.is_boolean,
        "timestamp": pa.types.is_timestamp,
        "date": pa.types.is_date,
    }
    check = checks.get(word)
    if check is not None:
        return bool(check(t))
    return logical_type(t) == logical_type(pa.type_for_alias(word))


def check_table(table: Any, expectations: Expectations) -> ValidationReport:
    """Check a whole table (or a sequence of batches) at once."""
    checker = ExpectationChecker(expectations)
    batches: Sequence[Any] = table if isinstance(table, list | tuple) else [table]
    for batch in batches:
        checker.update(batch)
    return checker.finish()
