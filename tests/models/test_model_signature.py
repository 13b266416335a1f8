"""Signatures: inference from examples, enforcement on every input shape, safe casts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelward.entities.models import ColumnSpec, ModelSignature, SignatureKind
from modelward.errors import InvalidInput, SchemaViolation
from modelward.models.signature import coerce_tensors, infer_signature, to_table

SIG = ModelSignature(
    (
        ColumnSpec("age", "int64"),
        ColumnSpec("income", "float64"),
        ColumnSpec("plan", "str"),
    )
)
NUMERIC = ModelSignature((ColumnSpec("a", "float64"), ColumnSpec("b", "float64")))


def test_infer_from_frame_records_and_dict(frame: Any) -> None:
    sig = infer_signature(frame, np.array([0, 1]))
    assert sig.inputs == SIG.inputs
    assert sig.outputs == (ColumnSpec("prediction", "int64"),)
    assert infer_signature(frame.head(2).to_dict("records")).inputs == SIG.inputs
    assert infer_signature({"x": [1.5, 2.5]}).inputs == (ColumnSpec("x", "float64"),)


def test_infer_from_array_names_columns_in_order() -> None:
    sig = infer_signature(np.zeros((3, 2), dtype=np.float32))
    assert sig.inputs == (ColumnSpec("f0", "float32"), ColumnSpec("f1", "float32"))


def test_infer_tensor_keeps_shape_with_free_batch() -> None:
    sig = infer_signature(
        np.zeros((5, 3, 2), dtype=np.float32), np.zeros((5, 4)), kind=SignatureKind.TENSOR
    )
    assert sig.inputs == (ColumnSpec("input", "float32", (-1, 3, 2)),)
    assert sig.outputs == (ColumnSpec("output", "float64", (-1, 4)),)


def test_signature_round_trips_through_dict() -> None:
    assert ModelSignature.from_dict(SIG.to_dict()) == SIG


def test_frame_with_extra_columns_and_safe_casts(frame: Any) -> None:
    data = frame.assign(extra=1, income=frame["income"].astype(np.float32))
    table = to_table(data, SIG)
    assert table.names == ["age", "income", "plan"]
    assert table.column(1).dtype == np.float64
    assert list(table.frame().columns) == ["age", "income", "plan"]


def test_records_and_dict_of_scalars_become_rows() -> None:
    records = [{"age": 30, "income": 1.0, "plan": "pro"}, {"age": 40, "income": 2, "plan": "x"}]
    table = to_table(records, SIG)
    assert table.n_rows == 2
    assert table.column(1).dtype == np.float64
    one = to_table({"age": 30, "income": 1.5, "plan": "pro"}, SIG)
    assert one.n_rows == 1


def test_numeric_array_takes_the_fast_path_without_copy() -> None:
    x = np.ones((4, 2))
    table = to_table(x, NUMERIC)
    assert table.array() is x


def test_int_array_is_cast_to_float() -> None:
    table = to_table(np.ones((2, 2), dtype=np.int32), NUMERIC)
    assert table.array().dtype == np.float64


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (lambda f: f.drop(columns=["plan"]), r"missing column\(s\) 'plan'"),
        (lambda f: f.assign(age=f["income"]), "column 'age' must be int64 but got float64"),
        (lambda f: f.assign(income=f["plan"]), "column 'income' must be float64 but got string"),
        (lambda f: f.assign(plan=f["age"]), "column 'plan' must be text"),
        (lambda f: [{"age": 1, "income": 2.0}], r"record 0 has no 'plan'"),
        (lambda f: np.ones((2, 5)), "the array has 5 columns but the model takes 3"),
        (lambda f: np.ones(3), "pass a 2-D array"),
    ],
)
def test_violations_say_what_is_wrong(frame: Any, data: Any, message: str) -> None:
    with pytest.raises(SchemaViolation, match=message):
        to_table(data(frame), SIG)


@pytest.mark.parametrize("empty", [pd.DataFrame(), [], np.zeros((0, 2)), {"a": [], "b": []}])
def test_empty_batches_are_invalid(empty: Any) -> None:
    sig = NUMERIC
    if isinstance(empty, pd.DataFrame):
        empty = pd.DataFrame({"a": [], "b": []})
    with pytest.raises(InvalidInput, match="the batch is empty"):
        to_table(empty, sig)


def test_unsupported_input_type() -> None:
    with pytest.raises(InvalidInput, match="cannot predict on a str"):
        to_table("a,b", NUMERIC)


def test_tensor_shape_and_dtype_checks() -> None:
    sig = ModelSignature((ColumnSpec("x", "float32", (-1, 3)),), kind=SignatureKind.TENSOR)
    out = coerce_tensors(np.ones((2, 3)), sig)
    assert out["x"].dtype == np.float32
    with pytest.raises(SchemaViolation, match="size 3 on axis 1"):
        coerce_tensors(np.ones((2, 4)), sig)
    with pytest.raises(SchemaViolation, match="must have 2 dimensions"):
        coerce_tensors(np.ones(3), sig)
    with pytest.raises(SchemaViolation, match="must be float32 but got"):
        coerce_tensors(np.array([["a", "b", "c"]], dtype=object), sig)
    with pytest.raises(InvalidInput, match="the batch is empty"):
        coerce_tensors(np.ones((0, 3)), sig)
