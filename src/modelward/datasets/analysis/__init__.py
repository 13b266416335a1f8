"""Looking at dataset versions: SQL queries over them and differences between them."""

from modelward.datasets.analysis.diff import ColumnChange, DatasetDiff, diff_versions
from modelward.datasets.analysis.query import QueryPlan, find_refs, plan_query

__all__ = ["ColumnChange", "DatasetDiff", "QueryPlan", "diff_versions", "find_refs", "plan_query"]
