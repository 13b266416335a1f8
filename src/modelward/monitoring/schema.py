"""Schema differences between a reference and a current window (missing, extra, retyped)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from modelward.monitoring.columns import Window

__all__ = ["IssueKind", "SchemaIssue", "compare_schemas"]


class IssueKind(enum.StrEnum):
    """What is wrong with a column's presence or type."""

    #: In the reference, absent from the current window.
    MISSING = "missing"
    #: In the current window, absent from the reference.
    UNEXPECTED = "unexpected"
    #: Another kind of type (e.g. strings where the reference had numbers).
    TYPE_MISMATCH = "type_mismatch"
    #: Same kind, another Arrow type (e.g. int64 became double).
    DTYPE_CHANGED = "dtype_changed"


#: Issues that make a column impossible to compare.
ERRORS = frozenset({IssueKind.MISSING, IssueKind.TYPE_MISMATCH})


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One schema difference.

    Attributes:
        column: Column name.
        issue: What is wrong.
        expected: Reference type (``None`` for an unexpected column).
        found: Current type (``None`` for a missing column).
        message: One sentence for a person.
    """

    column: str
    issue: IssueKind
    expected: str | None
    found: str | None
    message: str

    @property
    def severity(self) -> str:
        """``"error"`` when the column cannot be compared, else ``"warning"``."""
        return "error" if self.issue in ERRORS else "warning"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "column": self.column,
            "issue": self.issue.value,
            "severity": self.severity,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
        }


def compare_schemas(
    reference: Window, current: Window, columns: Iterable[str]
) -> list[SchemaIssue]:
    """List schema issues for ``columns`` (reference names) and for extra current columns.

    A current column whose Arrow type is ``null`` (every value missing, as pandas produces for an
    all-``None`` column) is not a type mismatch: it has no values to type.
    """
    wanted = list(columns)
    issues: list[SchemaIssue] = []
    for name in wanted:
        ref = reference.column(name)
        if ref is None:
            continue
        if name not in current.dtypes:
            issues.append(
                SchemaIssue(
                    name,
                    IssueKind.MISSING,
                    ref.dtype,
                    None,
                    f"column {name!r} ({ref.dtype}) is missing from the current data",
                )
            )
            continue
        found = current.dtypes[name]
        cur_kind = current.kinds[name]
        if found == "null" or ref.dtype == "null":
            continue  # one side has no typed value at all: nothing to compare, not a mismatch
        if cur_kind is not ref.kind:
            issues.append(
                SchemaIssue(
                    name,
                    IssueKind.TYPE_MISMATCH,
                    ref.dtype,
                    found,
                    f"column {name!r} was {ref.kind.value} ({ref.dtype}) in the reference but is "
                    f"{cur_kind.value} ({found}) now",
                )
            )
        elif found != ref.dtype and not _same_family(ref.dtype, found):
            issues.append(
                SchemaIssue(
                    name,
                    IssueKind.DTYPE_CHANGED,
                    ref.dtype,
                    found,
                    f"column {name!r} changed type from {ref.dtype} to {found}",
                )
            )
    known = set(reference.dtypes) | set(wanted)
    for name, found in current.dtypes.items():
        if name not in known:
            issues.append(
                SchemaIssue(
                    name,
                    IssueKind.UNEXPECTED,
                    None,
                    found,
                    f"column {name!r} ({found}) is not in the reference",
                )
            )
    return issues


def _same_family(a: str, b: str) -> bool:
    """Whether two Arrow type names differ only in representation (string vs large_string)."""
    strings = {"string", "large_string", "utf8", "large_utf8", "string_view"}
    if a in strings and b in strings:
        return True
    return (a.startswith("dictionary<values=string") and b in strings) or (
        b.startswith("dictionary<values=string") and a in strings
    )
