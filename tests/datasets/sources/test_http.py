"""Ingesting from an HTTP API, against a real server on 127.0.0.1 in a thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from modelward.datasets import DatasetService
from modelward.datasets.sources.http import HttpSource, Pagination
from modelward.errors import InvalidInput, NotFound, PermissionDenied, Unavailable

ROWS = [{"id": i, "name": f"n{i}", "score": i / 2} for i in range(1, 8)]

Route = Callable[[dict[str, list[str]], dict[str, str]], tuple[int, str, bytes]]


@dataclass
class Api:
    """A local API: routes by path, and every request it saw."""

    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, list[str]], dict[str, str]]] = field(default_factory=list)

    def hits(self, path: str) -> int:
        return sum(1 for p, _, _ in self.seen if p == path)


@pytest.fixture
def api() -> Iterator[Api]:
    state = Api(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.seen.append((parts.path, query, headers))
            route = state.routes.get(parts.path)
            status, kind, body = route(query, headers) if route else (404, "text/plain", b"no")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _json(data: Any, status: int = 200) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(data).encode()


def test_json_list_headers_and_params(service: DatasetService, api: Api) -> None:
    api.routes["/rows"] = lambda q, h: _json(ROWS)
    result = service.ingest(
        f"{api.url}/rows?api_key=s3cret",
        name="api",
        headers={"Authorization": "Bearer TOKEN"},
        params={"region": "eu", "token": "hidden"},
    )
    version = result.version
    assert version.rows == 7
    assert version.columns == ("id", "name", "score")
    _, query, headers = api.seen[-1]
    assert headers["authorization"] == "Bearer TOKEN"
    assert query["region"] == ["eu"]
    # Secrets never reach the recorded source.
    text = json.dumps(dict(version.source))
    assert "TOKEN" not in text
    assert "s3cret" not in text
    assert "hidden" not in text
    assert version.source["params"] == {"region": "eu", "token": "***"}
    assert version.source["headers"] == ["Authorization"]


def test_records_path_and_csv_answers(service: DatasetService, api: Api) -> None:
    api.routes["/wrapped"] = lambda q, h: _json({"meta": {"n": 7}, "data": {"items": ROWS}})
    api.routes["/csv"] = lambda q, h: (200, "text/csv", b"id,name\n1,a\n2,b\n")
    wrapped = service.ingest(f"{api.url}/wrapped", name="w", records_path="data.items")
    assert wrapped.version.rows == 7
    csv = service.ingest(f"{api.url}/csv", name="c").version
    assert (csv.rows, csv.columns) == (2, ("id", "name"))


def test_page_pagination_stops_at_an_empty_page(service: DatasetService, api: Api) -> None:
    def pages(q: dict[str, list[str]], h: dict[str, str]) -> tuple[int, str, bytes]:
        page = int(q["page"][0])
        return _json({"results": ROWS[(page - 1) * 3 : page * 3]})

    api.routes["/pages"] = pages
    version = service.ingest(
        f"{api.url}/pages", name="p", pagination=Pagination("page"), records_path="results"
    ).version
    assert service.load(version)["id"].tolist() == list(range(1, 8))
    assert api.hits("/pages") == 4  # pages 1-3 hold rows, page 4 is empty


def test_offset_pagination_stops_at_a_short_page(service: DatasetService, api: Api) -> None:
    def rows(q: dict[str, list[str]], h: dict[str, str]) -> tuple[int, str, bytes]:
        offset, limit = int(q["offset"][0]), int(q["limit"][0])
        return _json(ROWS[offset : offset + limit])

    api.routes["/rows"] = rows
    version = service.ingest(
        f"{api.url}/rows",
        name="o",
        pagination={"style": "offset", "size": 3, "size_param": "limit"},
    ).version
    assert version.rows == 7
    assert api.hits("/rows") == 3  # 3 + 3 + 1 (short: the last)


def test_server_errors_are_retried_with_backoff(service: DatasetService, api: Api) -> None:
    calls = {"n": 0}

    def flaky(q: dict[str, list[str]], h: dict[str, str]) -> tuple[int, str, bytes]:
        calls["n"] += 1
        return _json({"error": "busy"}, 503) if calls["n"] < 3 else _json(ROWS)

    api.routes["/flaky"] = flaky
    started = time.monotonic()
    version = service.ingest(f"{api.url}/flaky", name="f", retries=3, backoff=0.05).version
    assert version.rows == 7
    assert calls["n"] == 3
    assert time.monotonic() - started >= 0.05 + 0.1  # waited 0.05 then 0.1


def test_persistent_500_fails_clearly_after_the_retries(service: DatasetService, api: Api) -> None:
    api.routes["/down"] = lambda q, h: _json({"error": "boom"}, 500)
    with pytest.raises(
        Unavailable,
        match=r"GET .*/down failed after 3 attempt\(s\): HTTP 500 Internal Server Error",
    ):
        service.ingest(f"{api.url}/down", name="d", retries=2, backoff=0.01)
    assert api.hits("/down") == 3
    assert service.list() == []


def test_client_errors_are_not_retried(service: DatasetService, api: Api) -> None:
    api.routes["/secret"] = lambda q, h: (401, "text/plain", b"who are you")
    with pytest.raises(NotFound, match="answered HTTP 404 Not Found \\(no\\); check the URL"):
        service.ingest(f"{api.url}/missing", name="m", retries=3, backoff=0.01)
    assert api.hits("/missing") == 1
    with pytest.raises(PermissionDenied, match=r"HTTP 401 .*check the credentials"):
        service.ingest(f"{api.url}/secret", name="m", retries=3, backoff=0.01)
    assert api.hits("/secret") == 1


def test_timeouts_are_retried_then_reported(service: DatasetService, api: Api) -> None:
    def slow(q: dict[str, list[str]], h: dict[str, str]) -> tuple[int, str, bytes]:
        time.sleep(0.5)
        return _json(ROWS)

    api.routes["/slow"] = slow
    with pytest.raises(Unavailable, match=r"failed after 2 attempt\(s\): timed out after 0.1 s"):
        service.ingest(f"{api.url}/slow", name="s", timeout=0.1, retries=1, backoff=0.01)
    assert api.hits("/slow") == 2


def test_unreachable_server_and_bad_answers(service: DatasetService, api: Api) -> None:
    api.routes["/html"] = lambda q, h: (200, "text/html", b"<html>not json</html>")
    api.routes["/empty"] = lambda q, h: _json([])
    with pytest.raises(Unavailable, match="failed after 1 attempt\\(s\\): ConnectError"):
        service.ingest("http://127.0.0.1:9/none", name="u", retries=0)
    with pytest.raises(InvalidInput, match="did not return JSON \\(text/html"):
        service.ingest(f"{api.url}/html", name="h")
    with pytest.raises(InvalidInput, match="has no rows; there is nothing to ingest"):
        service.ingest(f"{api.url}/empty", name="e")


def test_source_arguments_are_checked() -> None:
    with pytest.raises(InvalidInput, match="not an http\\(s\\) URL: 'ftp://x'"):
        HttpSource("ftp://x")
    with pytest.raises(InvalidInput, match="offset pagination needs a page size"):
        Pagination("offset")
    with pytest.raises(InvalidInput, match="pagination style must be 'page' or 'offset'"):
        Pagination("cursor")  # type: ignore[arg-type]
