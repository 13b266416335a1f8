"""In-memory tables (pandas DataFrames, pyarrow Tables) and scikit-learn's bundled datasets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from modelward.datasets.sources.base import ReadContext, Source
from modelward.datasets.sources.records import records_to_columns
from modelward.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SKLEARN_DATASETS", "FrameSource", "SklearnSource"]

#: Datasets shipped inside scikit-learn (no download): name -> loader function.
SKLEARN_DATASETS: dict[str, str] = {
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
    "digits": "load_digits",
    "iris": "load_iris",
    "linnerud": "load_linnerud",
    "wine": "load_wine",
}
_BATCH_ROWS = 65_536


class FrameSource(Source):
    """A pandas DataFrame or a pyarrow Table held by the caller.

    The index is kept as columns only when it carries information (it is named, or is not
    the default 0..n-1 range). Column names become strings. A column of mixed Python objects
    (numbers and text) is stored as text, with a warning.

    Args:
        data: The table.
        description: Free text recorded on the source (e.g. where the frame came from).
    """

    kind = "dataframe"

    def __init__(self, data: Any, description: str | None = None) -> None:
        import pyarrow as pa

        if not (isinstance(data, pa.Table | pa.RecordBatch) or _is_dataframe(data)):
            raise InvalidInput(
                f"expected a pandas DataFrame or pyarrow Table, not {type(data).__name__}"
            )
        self.data = data
        self.description = description

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"kind": self.kind, "type": type(self.data).__name__}
        if self.description:
            info["description"] = self.description
        return info

    def read(self, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        table = self.data if isinstance(self.data, pa.Table) else None
        if isinstance(self.data, pa.RecordBatch):
            table = pa.Table.from_batches([self.data])
        if table is None:
            table = _frame_to_table(self.data, ctx)
        yield from table.to_batches(max_chunksize=_BATCH_ROWS)


def _is_dataframe(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and type(data).__module__.startswith("pandas")


def _frame_to_table(frame: Any, ctx: ReadContext) -> pa.Table:
    import pandas as pd
    import pyarrow as pa

    index = frame.index
    keep_index = any(n is not None for n in index.names) or not (
        isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    )
    if keep_index:
        frame = frame.reset_index()
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInput(f"the DataFrame repeats column names ({', '.join(dupes)}); rename them")
    arrays = []
    for position, name in enumerate(names):
        series = frame.iloc[:, position]
        try:
            arrays.append(pa.Array.from_pandas(series, type=ctx.types.get(name)))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            values = [None if _missing(v) else v for v in series.tolist()]
            arrays.extend(
                records_to_columns([name], [values], ctx.types, ctx.warnings, "DataFrame")
            )
    return pa.table(dict(zip(names, arrays, strict=True)))


def _missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, list | tuple | dict) else False
    except (TypeError, ValueError):
        return False


class SklearnSource(Source):
    """A dataset bundled with scikit-learn, e.g. ``sklearn:wine``, as a table with ``target``.

    Args:
        name: One of :data:`SKLEARN_DATASETS`.
    """

    kind = "sklearn"

    def __init__(self, name: str) -> None:
        if name not in SKLEARN_DATASETS:
            raise InvalidInput(
                f"unknown scikit-learn dataset {name!r}; bundled ones are: "
                f"{', '.join(sorted(SKLEARN_DATASETS))} (datasets that need a download, such "
                "as california_housing, are not supported: fetch them and ingest the file)",
                details={"name": name},
            )
        self.name = name

    def describe(self) -> dict[str, Any]:
        import sklearn

        return {"kind": self.kind, "dataset": self.name, "sklearn_version": sklearn.__version__}

    def read(self, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        import sklearn.datasets

        loader = getattr(sklearn.datasets, SKLEARN_DATASETS[self.name])
        bunch = loader(as_frame=True)
        yield from FrameSource(bunch.frame).read(ctx)
