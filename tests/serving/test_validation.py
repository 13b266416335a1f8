"""Input checks against a signature: typed arrays out, 4xx naming the field for bad input."""

from __future__ import annotations

import numpy as np
import pytest

from modelward.entities.models import ColumnSpec, ModelSignature, SignatureKind
from modelward.errors import InvalidInput, PayloadTooLarge, SchemaViolation
from modelward.serving.validation import InputSpec, batch_rows, concat, take


def numeric(**kwargs: object) -> InputSpec:
    sig = ModelSignature((ColumnSpec("x", "float64"), ColumnSpec("y", "float64")))
    return InputSpec(sig, **kwargs)  # type: ignore[arg-type]


def mixed() -> InputSpec:
    sig = ModelSignature(
        (ColumnSpec("age", "int64"), ColumnSpec("plan", "str"), ColumnSpec("score", "float32"))
    )
    return InputSpec(sig)


def test_numeric_records_become_one_float_matrix_in_signature_order() -> None:
    batch = numeric().from_records([{"y": 2, "x": 1.5}, {"x": 3, "y": True}])
    assert isinstance(batch, np.ndarray)
    assert batch.dtype == np.float64
    assert batch.tolist() == [[1.5, 2.0], [3.0, 1.0]]


def test_one_object_is_one_row() -> None:
    assert numeric().from_records({"x": 1, "y": 2}).tolist() == [[1.0, 2.0]]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"x": "1.5", "y": 2}, r"field 'x' of row 0 must be a number \(float64\), got a string"),
        ({"x": None, "y": 2}, r"field 'x' of row 0 must be a number \(float64\), got null"),
        ({"x": [1], "y": 2}, r"field 'x' of row 0 must be a number \(float64\), got a list"),
        ({"y": 2}, r"missing field\(s\) 'x' in record 0"),
        ({"x": 1, "y": 2, "z": 3}, r"unknown field\(s\) 'z' in record 0"),
        ({"x": 1, "z": 2}, r"missing field\(s\) 'y' and unknown field\(s\) 'z'"),
        ({"x": float("nan"), "y": 2}, r"field 'x' of row 0 is nan; the model needs finite"),
        ({"x": 1, "y": float("inf")}, r"field 'y' of row 0 is inf"),
    ],
)
def test_bad_fields_are_named(record: dict[str, object], message: str) -> None:
    with pytest.raises(SchemaViolation, match=message) as info:
        numeric().from_records([{"x": 0, "y": 0}, record][1:])
    assert info.value.http_status == 422
    assert info.value.details["field"] in {"x", "y", "z"}


def test_allow_nan_turns_null_into_nan() -> None:
    batch = numeric(allow_nan=True).from_records([{"x": None, "y": float("inf")}])
    assert np.isnan(batch[0, 0])
    assert np.isinf(batch[0, 1])


def test_empty_and_oversized_requests() -> None:
    with pytest.raises(InvalidInput, match="the request has no rows"):
        numeric().from_records([])
    with pytest.raises(
        PayloadTooLarge, match="the request has 3 rows; this endpoint accepts at most 2"
    ):
        numeric(max_rows=2).from_records([{"x": 1, "y": 1}] * 3)


def test_not_a_list_of_records() -> None:
    with pytest.raises(InvalidInput, match="expected a list of records"):
        numeric().from_records("x")
    with pytest.raises(SchemaViolation, match="record 1 must be an object of fields"):
        numeric().from_records([{"x": 1, "y": 1}, [1, 2]])


def test_mixed_signature_gives_typed_columns() -> None:
    batch = mixed().from_records([{"age": 30, "plan": "pro", "score": 0.5}])
    assert isinstance(batch, dict)
    assert batch["age"].dtype == np.int64
    assert batch["plan"].tolist() == ["pro"]
    assert batch["score"].dtype == np.float32
    with pytest.raises(
        SchemaViolation, match=r"field 'plan' of row 0 must be a string, got a number"
    ):
        mixed().from_records([{"age": 30, "plan": 3, "score": 0.5}])
    with pytest.raises(SchemaViolation, match=r"field 'age' of row 0 must be an integer"):
        mixed().from_records([{"age": 30.5, "plan": "a", "score": 0.5}])


def test_rows_in_column_order_are_reordered_to_the_signature() -> None:
    batch = numeric().from_rows([[1, 2]], ["y", "x"])
    assert batch.tolist() == [[2.0, 1.0]]
    with pytest.raises(SchemaViolation, match=r"missing field\(s\) 'y'"):
        numeric().from_rows([[1]], ["x"])


def test_columns_object() -> None:
    assert numeric().from_columns({"x": [1, 2], "y": [3, 4]}).tolist() == [[1.0, 3.0], [2.0, 4.0]]
    with pytest.raises(SchemaViolation, match="the columns have different lengths: x=2, y=1"):
        numeric().from_columns({"x": [1, 2], "y": [3]})


def test_tensor_shape_must_match_the_signature_width() -> None:
    spec = numeric()
    assert spec.from_tensor("t", [1, 2, 3, 4], [2, 2]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(SchemaViolation, match=r"input 't' has 3 values but shape \[2, 2\] needs 4"):
        spec.from_tensor("t", [1, 2, 3], [2, 2])
    with pytest.raises(
        SchemaViolation, match=r"input 't' has shape \[1, 3\] but the model takes \[N, 2\]"
    ):
        spec.from_tensor("t", [1, 2, 3], [1, 3])


def test_tensor_signatures_check_shapes() -> None:
    sig = ModelSignature((ColumnSpec("img", "float32", (-1, 2, 2)),), kind=SignatureKind.TENSOR)
    spec = InputSpec(sig)
    batch = spec.from_tensors({"img": ([0.0] * 8, [2, 2, 2])})
    assert batch["img"].shape == (2, 2, 2)
    with pytest.raises(SchemaViolation, match="input 'img' must have size 2 on axis 1"):
        spec.from_tensors({"img": ([0.0] * 6, [2, 3, 1])})


def test_batches_concatenate_and_slice_back() -> None:
    a = numeric().from_records([{"x": 1, "y": 1}])
    b = numeric().from_records([{"x": 2, "y": 2}, {"x": 3, "y": 3}])
    merged = concat([a, b])
    assert batch_rows(merged) == 3
    assert take(merged, 1, 3).tolist() == b.tolist()
    cols = concat([mixed().from_records([{"age": 1, "plan": "a", "score": 1.0}])] * 2)
    assert batch_rows(cols) == 2
