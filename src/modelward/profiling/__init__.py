"""Dataset profiles: compact, mergeable summaries that drift and quality checks run against.

Build one with :func:`profile_table` (a whole table) or :class:`ProfileBuilder` (batch by batch,
bounded memory); store it with ``profile.to_dict()`` and read it back with
:meth:`DatasetProfile.from_dict`. What a profile holds and how accurate each field is:
``docs/profiles.md``.

pyarrow (and pandas, for DataFrames) is imported only when data is profiled.
"""

from modelward.profiling.builder import (
    DEFAULT_HISTOGRAM_BINS,
    DEFAULT_MAX_CATEGORIES,
    DEFAULT_SAMPLE_SIZE,
    ProfileBuilder,
    profile_table,
)
from modelward.profiling.entities import (
    DEFAULT_QUANTILES,
    PROFILE_FORMAT,
    CategoricalSummary,
    ColumnKind,
    ColumnProfile,
    DatasetProfile,
    Histogram,
    NumericSummary,
)
from modelward.profiling.merge import merge_profiles

__all__ = [
    "DEFAULT_HISTOGRAM_BINS",
    "DEFAULT_MAX_CATEGORIES",
    "DEFAULT_QUANTILES",
    "DEFAULT_SAMPLE_SIZE",
    "PROFILE_FORMAT",
    "CategoricalSummary",
    "ColumnKind",
    "ColumnProfile",
    "DatasetProfile",
    "Histogram",
    "NumericSummary",
    "ProfileBuilder",
    "merge_profiles",
    "profile_table",
]
