"""An HTTP(S) API returning JSON or CSV, with retries, backoff and simple pagination.

Requests go through httpx; retries through tenacity: connection errors, timeouts and 5xx
answers are retried with exponential backoff, a 4xx answer fails at once (retrying cannot fix
a bad URL or a missing token). Pages are fetched until one comes back empty or short. The
records of all pages are held in memory before they are converted (API pages are small; export
bulk data to files and ingest those instead).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from modelward.datasets.sources.base import ReadContext, Source
from modelward.datasets.sources.records import find_records, records_to_table
from modelward.errors import InvalidInput, NotFound, PermissionDenied, Unavailable

if TYPE_CHECKING:
    import httpx
    import pyarrow as pa

__all__ = ["HttpSource", "Pagination"]

log = logging.getLogger(__name__)

_SECRET_WORDS = ("key", "token", "secret", "password", "auth", "signature", "sig", "session")


@dataclass(frozen=True, slots=True)
class Pagination:
    """How to ask an API for the next page.

    Attributes:
        style: ``page`` (a page number parameter) or ``offset`` (a row offset parameter).
        param: The page or offset parameter (default ``page`` / ``offset``).
        size_param: Parameter carrying the page size (e.g. ``per_page``, ``limit``), if any.
        size: Page size to ask for; a page with fewer records is the last one.
        start: First page number or offset (default 1 for pages, 0 for offsets).
        max_pages: Stop after this many pages (a guard against APIs that never end).
    """

    style: Literal["page", "offset"] = "page"
    param: str | None = None
    size_param: str | None = None
    size: int | None = None
    start: int | None = None
    max_pages: int = 10_000

    def __post_init__(self) -> None:
        if self.style not in ("page", "offset"):
            raise InvalidInput(f"pagination style must be 'page' or 'offset', not {self.style!r}")
        if self.style == "offset" and not self.size:
            raise InvalidInput("offset pagination needs a page size (size=, CLI --page-size)")
        if self.size is not None and self.size < 1:
            raise InvalidInput(f"the page size must be positive, not {self.size}")
        if self.max_pages < 1:
            raise InvalidInput(f"max_pages must be positive, not {self.max_pages}")


class _RetryableStatus(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class HttpSource(Source):
    """Records from an HTTP(S) API.

    Args:
        url: The endpoint.
        headers: Request headers (e.g. ``Authorization``); never recorded on the version.
        params: Query parameters; values of secret-looking names are not recorded.
        format: ``json`` or ``csv``; default: from the response's Content-Type.
        records_path: Dotted key path to the records in a JSON answer.
        pagination: How to fetch further pages; default: one request.
        timeout: Seconds per request (connect and read).
        retries: Further attempts after a failed one (connection error, timeout, 5xx).
        backoff: First wait between attempts in seconds, doubled each time (at most 30 s).
        transport: An httpx transport (tests use a mock transport).
    """

    kind = "http"

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        format: Literal["json", "csv"] | None = None,
        records_path: str | None = None,
        pagination: Pagination | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput(f"not an http(s) URL: {url!r}")
        if format not in (None, "json", "csv"):
            raise InvalidInput(f"HTTP format must be 'json' or 'csv', not {format!r}")
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise InvalidInput("timeout must be positive; retries and backoff not negative")
        self.url = url
        self.headers = dict(headers or {})
        self.params = dict(params or {})
        self.format = format
        self.records_path = records_path
        self.pagination = pagination
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._transport = transport

    def describe(self) -> dict[str, Any]:
        parts = urlsplit(self.url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return {
            "kind": self.kind,
            "url": urlunsplit((parts.scheme, netloc, parts.path, _redact_query(parts.query), "")),
            "params": {k: ("***" if _secret(k) else v) for k, v in sorted(self.params.items())},
            "headers": sorted(self.headers),
            "format": self.format,
            "records_path": self.records_path,
            "pagination": asdict(self.pagination) if self.pagination else None,
        }

    # -- fetching --------------------------------------------------------------------------
    def read(self, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        import httpx

        records: list[Any] = []
        tables: list[pa.Table] = []
        with httpx.Client(
            timeout=self.timeout,
            headers=self.headers,
            transport=self._transport,
            follow_redirects=True,
        ) as client:
            for page_no, params in enumerate(self._pages()):
                response = self._get(client, params)
                if ctx.on_bytes is not None:
                    ctx.on_bytes(len(response.content))
                count = self._decode(response, records, tables, ctx)
                log.debug("page %d of %s: %d records", page_no + 1, self.url, count)
                if not self._more(count, page_no):
                    break
        if records:
            tables.append(records_to_table(records, ctx.types, ctx.warnings, self.url))
        if not tables:
            return
        import pyarrow as pa

        table = pa.concat_tables(tables, promote_options="permissive")
        yield from table.to_batches(max_chunksize=65_536)

    def _pages(self) -> Iterator[dict[str, Any]]:
        pagination = self.pagination
        if pagination is None:
            yield dict(self.params)
            return
        default_param, default_start = ("page", 1) if pagination.style == "page" else ("offset", 0)
        param = pagination.param or default_param
        position = pagination.start if pagination.start is not None else default_start
        for _ in range(pagination.max_pages):
            params = dict(self.params)
            params[param] = position
            if pagination.size_param and pagination.size:
                params[pagination.size_param] = pagination.size
            yield params
            position += 1 if pagination.style == "page" else (pagination.size or 0)

    def _more(self, count: int, page_no: int) -> bool:
        pagination = self.pagination
        if pagination is None or count == 0:
            return False
        if pagination.size and count < pagination.size:
            return False
        if page_no + 1 >= pagination.max_pages:
            log.warning("stopped after max_pages=%d pages of %s", pagination.max_pages, self.url)
            return False
        return True

    def _get(self, client: httpx.Client, params: Mapping[str, Any]) -> httpx.Response:
        import httpx
        from tenacity import (
            RetryError,
            Retrying,
            retry_if_exception_type,
            stop_after_attempt,
            wait_exponential,
        )

        retrying = Retrying(
            retry=retry_if_exception_type((httpx.TransportError, _RetryableStatus)),
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=self.backoff, max=30),
            reraise=False,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = client.get(self.url, params=params)
                    if response.status_code >= 500:
                        raise _RetryableStatus(response)
        except RetryError as exc:
            cause = exc.last_attempt.exception()
            attempts = self.retries + 1
            if isinstance(cause, _RetryableStatus):
                reason = f"HTTP {cause.response.status_code} {cause.response.reason_phrase}"
            elif isinstance(cause, httpx.TimeoutException):
                reason = f"timed out after {self.timeout:g} s"
            else:
                reason = f"{type(cause).__name__}: {cause}"
            raise Unavailable(
                f"GET {self._public_url()} failed after {attempts} attempt(s): {reason}; check "
                "that the server is up, or raise timeout/retries",
                details={"url": self._public_url(), "attempts": attempts},
            ) from None
        if response.status_code >= 400:
            raise self._client_error(response)
        return response

    def _public_url(self) -> str:
        return str(self.describe()["url"])

    def _client_error(self, response: httpx.Response) -> Exception:
        status = response.status_code
        text = f"GET {self._public_url()} answered HTTP {status} {response.reason_phrase}"
        body = response.text[:200].strip().replace("\n", " ")
        if body:
            text += f" ({body})"
        if status == 404:
            return NotFound(text + "; check the URL", details={"status": status})
        if status in (401, 403):
            return PermissionDenied(
                text + "; check the credentials passed as headers", details={"status": status}
            )
        return InvalidInput(text + "; check the URL and parameters", details={"status": status})

    def _decode(
        self,
        response: httpx.Response,
        records: list[Any],
        tables: list[pa.Table],
        ctx: ReadContext,
    ) -> int:
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        fmt = self.format or ("csv" if content_type in ("text/csv", "application/csv") else "json")
        if fmt == "csv":
            return self._decode_csv(response, tables)
        try:
            document = response.json()
        except ValueError as exc:
            raise InvalidInput(
                f"GET {self._public_url()} did not return JSON ({content_type or 'no type'}: "
                f"{exc}); pass format='csv' if it returns CSV"
            ) from None
        page = find_records(document, self.records_path, f"the answer of {self._public_url()}")
        records.extend(page)
        return len(page)

    def _decode_csv(self, response: httpx.Response, tables: list[pa.Table]) -> int:
        if not response.content.strip():
            return 0
        import pyarrow as pa
        import pyarrow.csv as pacsv

        try:
            table = pacsv.read_csv(
                io.BytesIO(response.content),
                convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
            )
        except pa.ArrowInvalid as exc:
            raise InvalidInput(
                f"GET {self._public_url()} returned unreadable CSV: {str(exc).splitlines()[0]}"
            ) from None
        tables.append(table)
        return int(table.num_rows)


def _secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _redact_query(query: str) -> str:
    if not query:
        return ""
    from urllib.parse import parse_qsl, urlencode

    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, "***" if _secret(k) else v) for k, v in pairs])
