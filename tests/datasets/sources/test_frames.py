"""Ingesting DataFrames, pyarrow Tables and scikit-learn's bundled datasets."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from modelward.datasets import DatasetService
from modelward.errors import InvalidInput


def test_dataframe_and_table_with_the_same_data_are_one_version(service: DatasetService) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", None, "z"]})
    first = service.ingest(frame, name="t")
    second = service.ingest(pa.table({"a": [1, 2, 3], "b": ["x", None, "z"]}), name="t")
    assert first.created
    assert not second.created
    assert second.reused_by == "digest"
    assert second.version.id == first.version.id
    assert first.version.source == {"kind": "dataframe", "type": "DataFrame"}


def test_informative_index_is_kept_default_index_is_not(service: DatasetService) -> None:
    named = pd.DataFrame({"v": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="key"))
    assert service.ingest(named, name="n").version.columns == ("key", "v")
    filtered = pd.DataFrame({"v": [1.0, 2.0, 3.0]}).iloc[[0, 2]]
    assert service.ingest(filtered, name="f").version.columns == ("index", "v")
    plain = pd.DataFrame({"v": [1.0, 2.0]})
    assert service.ingest(plain, name="p").version.columns == ("v",)


def test_mixed_object_column_is_stored_as_text(service: DatasetService) -> None:
    frame = pd.DataFrame({"m": [1, "two", None, 3.5], 7: [1, 2, 3, 4]})
    result = service.ingest(frame, name="m")
    assert [(c.name, c.type) for c in result.version.schema] == [("m", "string"), ("7", "int64")]
    assert service.load(result.version)["m"].tolist()[:2] == ["1", "two"]
    assert result.warnings == ("DataFrame: column 'm' mixes value types; stored as text",)


def test_bad_frames_are_refused(service: DatasetService) -> None:
    dupes = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InvalidInput, match="repeats column names \\(a\\)"):
        service.ingest(dupes, name="d")
    with pytest.raises(InvalidInput, match="has no rows"):
        service.ingest(pd.DataFrame({"a": []}), name="d")
    with pytest.raises(InvalidInput, match="expected a pandas DataFrame or pyarrow Table, not int"):
        service.ingest(42, name="d")


@pytest.mark.parametrize(
    ("name", "rows", "columns"),
    [("wine", 178, 14), ("breast_cancer", 569, 31), ("diabetes", 442, 11), ("iris", 150, 5)],
)
def test_sklearn_bundled_datasets(
    service: DatasetService, name: str, rows: int, columns: int
) -> None:
    version = service.ingest(f"sklearn:{name}", name=name).version
    assert (version.rows, len(version.schema)) == (rows, columns)
    assert version.columns[-1] == "target"
    assert version.source["dataset"] == name


def test_unknown_sklearn_dataset_lists_the_bundled_ones(service: DatasetService) -> None:
    with pytest.raises(
        InvalidInput,
        match="unknown scikit-learn dataset 'california_housing'; "
        "bundled ones are: breast_cancer, diabetes, digits, iris, linnerud, wine",
    ):
        service.ingest("sklearn:california_housing", name="c")
