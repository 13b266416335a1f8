"""The predictor contract: input shapes, fast paths, chunking of huge batches, limits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from modelward.client import Client
from modelward.errors import InvalidInput, PayloadTooLarge, SchemaViolation
from modelward.models import Predictor


@pytest.fixture
def numeric_model(client: Client, run_id: str, numeric_xy: tuple[np.ndarray, np.ndarray]) -> Any:
    from sklearn.linear_model import LogisticRegression

    x, y = numeric_xy
    model = LogisticRegression().fit(x, y)
    logged = client.models.log_model(model, "clf", run_id=run_id, input_example=x[:5])
    return model, logged


def test_all_input_shapes_give_the_same_answer(
    client: Client, run_id: str, pipeline: Any, frame: Any
) -> None:
    logged = client.models.log_model(pipeline, "m", run_id=run_id, input_example=frame.head())
    predictor = client.models.load_model(logged.uri)
    expected = pipeline.predict(frame)
    records = frame.to_dict("records")
    columns = {k: frame[k].to_list() for k in frame.columns}
    rows = frame.to_numpy(dtype=object)
    for data in (frame, records, columns, rows):
        np.testing.assert_array_equal(predictor.predict(data), expected)
    assert predictor.signature is not None
    assert predictor.flavor == "sklearn"
    assert predictor.has_predict_proba


def test_validate_once_then_predict(numeric_model: Any, client: Client) -> None:
    model, logged = numeric_model
    predictor = client.models.load_model(logged.uri)
    x = np.random.default_rng(1).normal(size=(10, 4))
    batch = predictor.validate(x)
    np.testing.assert_array_equal(predictor.predict_validated(batch), model.predict(x))
    np.testing.assert_array_equal(predictor.predict_array(x), model.predict(x))
    np.testing.assert_allclose(predictor.predict_proba_array(x), model.predict_proba(x))


def test_model_without_proba(client: Client, run_id: str, numeric_xy: Any) -> None:
    from sklearn.linear_model import Ridge

    x, y = numeric_xy
    logged = client.models.log_model(Ridge().fit(x, y), "r", run_id=run_id, input_example=x[:3])
    predictor = client.models.load_model(logged.uri)
    assert not predictor.has_predict_proba
    with pytest.raises(InvalidInput, match="has no predict_proba; use predict"):
        predictor.predict_proba(x)


def test_wrong_input_is_a_schema_violation(numeric_model: Any, client: Client) -> None:
    _, logged = numeric_model
    predictor = client.models.load_model(logged.uri)
    with pytest.raises(SchemaViolation, match="the array has 3 columns but the model takes 4"):
        predictor.predict(np.ones((2, 3)))
    with pytest.raises(SchemaViolation, match="must be float64 but got"):
        predictor.predict(np.array([["a", "b", "c", "d"]]))
    with pytest.raises(InvalidInput, match="the batch is empty"):
        predictor.predict(np.ones((0, 4)))


def test_million_row_batch_is_chunked(numeric_model: Any, client: Client) -> None:
    model, logged = numeric_model
    predictor = client.models.load_model(logged.uri, chunk_rows=250_000)
    calls: list[int] = []
    native = predictor._predict

    def counting(batch: Any) -> Any:
        calls.append(batch.n_rows)
        return native(batch)

    predictor._predict = counting
    x = np.random.default_rng(2).normal(size=(1_000_000, 4))
    out = predictor.predict(x)
    assert out.shape == (1_000_000,)
    assert calls == [250_000] * 4
    np.testing.assert_array_equal(out[-5:], model.predict(x[-5:]))
    chunks = list(predictor.predict_iter(x[:1000], chunk_rows=300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]


def test_max_rows_refuses_clearly(numeric_model: Any, client: Client) -> None:
    _, logged = numeric_model
    predictor = client.models.load_model(logged.uri, max_rows=1000)
    with pytest.raises(PayloadTooLarge, match=r"1,001 rows.*at most 1,000.*predict_iter"):
        predictor.predict(np.ones((1001, 4)))
    with pytest.raises(InvalidInput, match="chunk_rows must be at least 1"):
        client.models.load_model(logged.uri, chunk_rows=0)


def test_model_without_signature_takes_data_as_given(
    client: Client, run_id: str, numeric_xy: Any
) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = numeric_xy
    model = LogisticRegression().fit(x, y)
    logged = client.models.log_model(model, "nosig", run_id=run_id)
    predictor = client.models.load_model(logged.uri)
    assert predictor.signature is None
    np.testing.assert_array_equal(predictor.predict(x), model.predict(x))
    np.testing.assert_array_equal(predictor.predict(x.tolist()), model.predict(x))
    assert isinstance(predictor, Predictor)
    assert "nosig" in repr(predictor)
