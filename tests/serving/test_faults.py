"""Bad input and faults: every case answered with the right status and the error envelope."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest

from tests.serving.helpers import Doubler, FakeSource, make_state, real_server, record, running

pytestmark = pytest.mark.anyio


def envelope(r: httpx.Response) -> dict[str, object]:
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "INVALID_INPUT"),
        (b"\xff\xfe", "application/json", 400, "INVALID_INPUT"),
        (b'[{"a": 1}]', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b'[{"a": 1}]', "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b'[{"a": NaN, "b": 0, "c": 0, "d": 0}]', "application/json", 422, "SCHEMA_VIOLATION"),
        (b'[{"a": Infinity, "b": 0, "c": 0, "d": 0}]', "application/json", 422, "SCHEMA_VIOLATION"),
        (b'[{"a": 1e999, "b": 0, "c": 0, "d": 0}]', "application/json", 422, "SCHEMA_VIOLATION"),
        (b'[{"a": "1", "b": 0, "c": 0, "d": 0}]', "application/json", 422, "SCHEMA_VIOLATION"),
        (
            b'[{"a": 1, "b": 0, "c": 0, "d": 0, "e": 1}]',
            "application/json",
            422,
            "SCHEMA_VIOLATION",
        ),
        (b'[{"a": 1, "b": 0, "c": 0}]', "application/json", 422, "SCHEMA_VIOLATION"),
        (b"[]", "application/json", 400, "INVALID_INPUT"),
        (b"", "application/json", 400, "INVALID_INPUT"),
        (b'"text"', "application/json", 400, "INVALID_INPUT"),
        (b"[1, 2, 3]", "application/json", 422, "SCHEMA_VIOLATION"),
        (
            b'[{"a": 99999999999999999999999999, "b": 0, "c": 0, "d": 0}]',
            "application/json",
            200,
            None,
        ),
        (b"[" * 100_000, "application/json", 400, "INVALID_INPUT"),
    ],
)
async def test_bad_bodies_get_a_clear_4xx(
    content: bytes, content_type: str, status: int, code: str | None
) -> None:
    async with running(make_state()) as client:
        r = await client.post("/predict", content=content, headers={"content-type": content_type})
    assert r.status_code == status, r.text
    if code is not None:
        assert envelope(r)["code"] == code
        assert r.headers["x-request-id"]


async def test_the_wrong_field_is_named() -> None:
    async with running(make_state()) as client:
        r = await client.post("/predict", json=[record(1), {"a": 1, "b": "two", "c": 0, "d": 0}])
    error = envelope(r)
    assert r.status_code == 422
    assert error["details"]["field"] == "b"  # type: ignore[index]
    assert "field 'b' of row 1" in str(error["message"])


async def test_too_many_rows_is_413() -> None:
    from modelward.entities.deployments import Limits
    from tests.serving.helpers import Wanted

    source = FakeSource("m", Wanted(("m", 1), limits=Limits(max_rows=5)))
    async with running(make_state(source)) as client:
        r = await client.post("/predict", json=[record(1)] * 6)
    assert r.status_code == 413
    assert envelope(r)["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_model_that_raises_gives_503_with_its_error_and_others_pass() -> None:
    state = make_state(loader=lambda name, version: Doubler(version, fail_on=13.0))
    async with running(state) as client:
        bad, good = await asyncio.gather(
            client.post("/predict", json=[record(13)]), client.post("/predict", json=[record(2)])
        )
    assert bad.status_code == 503
    error = envelope(bad)
    assert error["code"] == "MODEL_FAILED"
    assert "RuntimeError: cannot handle a=13.0" in str(error["message"])
    assert good.status_code == 200
    assert good.json()["predictions"] == [2.0]


async def test_not_ready_is_503_not_500() -> None:
    def never(name: str, version: int) -> Doubler:
        raise OSError("disk gone")

    state = make_state(loader=never)
    async with running(state) as client:
        ready = await client.get("/v2/health/ready")
        r = await client.post("/predict", json=[record(1)])
    assert ready.status_code == 503
    assert r.status_code == 503
    assert "disk gone" in str(envelope(r)["message"])


def _read_all(sock: socket.socket) -> str:
    """What the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data.decode()


def test_a_100_mb_body_is_refused_without_being_read() -> None:
    with real_server(make_state()) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 104857600\r\n\r\n" + b"[" * 65536
            )
            reply = _read_all(sock)
        assert reply.startswith("HTTP/1.1 413")
        assert "PAYLOAD_TOO_LARGE" in reply
        assert "connection: close" in reply.lower()

        # A chunked body of unknown size is counted as it arrives and cut off at the limit.
        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(200):
                yield b" " * (1024 * 1024)

        r = httpx.post(
            base + "/predict",
            content=chunks(),
            headers={"content-type": "application/json"},
            timeout=30,
        )
        assert r.status_code == 413
        assert httpx.post(base + "/predict", json=[record(1)]).status_code == 200


def test_a_slow_client_times_out_and_does_not_block_others() -> None:
    with real_server(make_state(body_timeout=0.5)) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
            slow.sendall(
                b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n2\r\n[{\r\n"
            )
            started = time.monotonic()
            fast = httpx.post(base + "/predict", json=[record(3)], timeout=5)
            assert fast.status_code == 200
            assert time.monotonic() - started < 0.4
            reply = _read_all(slow)
        assert reply.startswith("HTTP/1.1 408")
        assert "REQUEST_TIMEOUT" in reply


async def test_store_unreachable_keeps_serving_the_loaded_version() -> None:
    source = FakeSource("m")
    state = make_state(source)
    async with running(state) as client:
        source.down = True
        await asyncio.sleep(0.3)  # several failed polls
        r = await client.post("/predict", json=[record(2)])
        metrics = (await client.get("/metrics")).text
    assert r.status_code == 200
    assert r.json()["predictions"] == [2.0]
    line = next(x for x in metrics.splitlines() if x.startswith("modelward_store_errors_total"))
    assert float(line.split()[-1]) >= 2
