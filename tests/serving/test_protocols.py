"""Each protocol end to end in-process: OIP v2, MLflow /invocations, /predict, health, metrics."""

from __future__ import annotations

import asyncio

import pytest

from tests.serving.helpers import FEATURES, make_state, record, running

pytestmark = pytest.mark.anyio

ROW = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}


async def test_predict_with_records_carries_version_and_request_id() -> None:
    async with running(make_state()) as client:
        r = await client.post("/predict", json=[ROW, record(5)], headers={"x-request-id": "abc-1"})
    assert r.status_code == 200
    body = r.json()
    assert body["predictions"] == [10.0, 5.0]
    assert body["model_version"] == 1
    assert body["request_id"] == "abc-1"
    assert r.headers["x-model-version"] == "1"
    assert r.headers["x-model-name"] == "m"
    assert r.headers["x-request-id"] == "abc-1"


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": FEATURES, "data": [[1, 2, 3, 4], [0, 0, 0, 1]]}},
        {
            "dataframe_split": {
                "columns": ["d", "c", "b", "a"],
                "data": [[4, 3, 2, 1], [1, 0, 0, 0]],
            }
        },
        {"dataframe_records": [ROW, record(1) | {"a": 0.0, "d": 1.0}]},
        {"instances": [ROW, {"a": 0, "b": 0, "c": 0, "d": 1}]},
        {"instances": [[1, 2, 3, 4], [0, 0, 0, 1]]},
        {"inputs": {"a": [1, 0], "b": [2, 0], "c": [3, 0], "d": [4, 1]}, "params": {"x": 1}},
    ],
)
async def test_invocations_accepts_every_mlflow_format(body: dict[str, object]) -> None:
    async with running(make_state()) as client:
        r = await client.post("/invocations", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": [10.0, 1.0]}
    assert r.headers["x-request-id"]


async def test_invocations_reads_csv() -> None:
    async with running(make_state()) as client:
        r = await client.post(
            "/invocations",
            content="a,b,c,d\n1,2,3,4\n0,0,0,1\n",
            headers={"content-type": "text/csv"},
        )
        bad = await client.post(
            "/invocations", content="a,b,c,d\n1,x,3,4\n", headers={"content-type": "text/csv"}
        )
    assert r.json() == {"predictions": [10.0, 1.0]}
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["field"] == "b"


async def test_invocations_refuses_an_unknown_format() -> None:
    async with running(make_state()) as client:
        r = await client.post("/invocations", json={"rows": [ROW]})
    assert r.status_code == 400
    assert "exactly one of dataframe_split" in r.json()["error"]["message"]


async def test_oip_infer_with_one_matrix_tensor_or_one_tensor_per_feature() -> None:
    async with running(make_state()) as client:
        matrix = await client.post(
            "/v2/models/m/infer",
            json={
                "id": "q1",
                "inputs": [
                    {
                        "name": "x",
                        "shape": [2, 4],
                        "datatype": "FP64",
                        "data": [[1, 2, 3, 4], [0, 0, 0, 1]],
                    }
                ],
            },
        )
        per_feature = await client.post(
            "/v2/models/m/infer",
            json={
                "inputs": [
                    {"name": n, "shape": [1], "datatype": "FP64", "data": [v]}
                    for n, v in ROW.items()
                ]
            },
        )
        versioned = await client.post(
            "/v2/models/m/versions/1/infer",
            json={
                "inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]
            },
        )
        wrong_version = await client.post(
            "/v2/models/m/versions/7/infer",
            json={
                "inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]
            },
        )
        wrong_model = await client.post("/v2/models/other/infer", json={"inputs": []})
    body = matrix.json()
    assert body["model_name"] == "m"
    assert body["model_version"] == "1"
    assert body["id"] == "q1"
    assert body["outputs"] == [
        {"name": "prediction", "shape": [2], "datatype": "FP64", "data": [10.0, 1.0]}
    ]
    assert per_feature.json()["outputs"][0]["data"] == [10.0]
    assert versioned.status_code == 200
    assert wrong_version.status_code == 404
    assert wrong_model.status_code == 404
    assert wrong_model.json()["error"]["code"] == "NOT_FOUND"


async def test_oip_health_and_metadata() -> None:
    async with running(make_state()) as client:
        live = await client.get("/v2/health/live")
        ready = await client.get("/v2/health/ready")
        meta = await client.get("/v2/models/m")
        model_ready = await client.get("/v2/models/m/ready")
        server = await client.get("/v2")
    assert live.json() == {"live": True}
    assert ready.json() == {"ready": True}
    assert model_ready.status_code == 200
    assert server.json()["name"] == "modelward"
    m = meta.json()
    assert m["name"] == "m"
    assert m["versions"] == ["1"]
    assert [i["name"] for i in m["inputs"]] == FEATURES
    assert m["inputs"][0] == {"name": "a", "datatype": "FP64", "shape": [-1]}
    assert m["outputs"] == [{"name": "prediction", "datatype": "FP64", "shape": [-1]}]


async def test_metrics_count_requests_batches_and_versions() -> None:
    async with running(make_state()) as client:
        await asyncio.gather(*(client.post("/predict", json=[record(i)]) for i in range(20)))
        await client.post("/predict", json=[{"a": "x"}])
        text = (await client.get("/metrics")).text
    assert 'modelward_requests_total{deployment="m",endpoint="predict",status="200"} 20.0' in text
    assert (
        'modelward_request_errors_total{code="SCHEMA_VIOLATION",deployment="m",endpoint="predict"}'
        " 1.0" in text
    )
    assert (
        'modelward_model_version{deployment="m",model="m",role="champion",version="1"} 1.0' in text
    )
    assert (
        'modelward_batch_rows_sum{deployment="m",model="m",role="champion",version="1"} 20.0'
        in text
    )
    assert (
        'modelward_prediction_value_count{deployment="m",model="m",role="champion",version="1"}'
        " 20.0" in text
    )
    assert "modelward_request_latency_seconds_bucket" in text
    assert "modelward_prediction_log_dropped_rows_total" in text


async def test_unknown_routes_and_methods_use_the_error_envelope() -> None:
    async with running(make_state()) as client:
        missing = await client.get("/nowhere")
        method = await client.get("/predict")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert method.status_code == 405
    assert method.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
