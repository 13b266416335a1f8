"""Expectations on datasets and the checker that evaluates them while data streams past."""

from modelward.datasets.validation.checker import (
    CheckResult,
    ExpectationChecker,
    ValidationReport,
    check_table,
)
from modelward.datasets.validation.expectations import ColumnExpectation, Expectations

__all__ = [
    "CheckResult",
    "ColumnExpectation",
    "ExpectationChecker",
    "Expectations",
    "ValidationReport",
    "check_table",
]
