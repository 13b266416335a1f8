"""Artifact blobs in S3 or any S3-compatible store (MinIO, Ceph, rclone serve s3, …), via boto3.

Layout: ``s3://BUCKET/PREFIX/blobs/sha256/ab/abcd…`` (the first two hex digits fan out
the keys). Writes hash the bytes locally first and skip the upload when the object is
already there; uploads go through boto3's managed transfer (multipart past a threshold,
streamed from disk). Reads stream the response body through a verifying reader.

Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE``, ``~/.aws/credentials``, instance roles); pass ``session`` to choose
explicitly. botocore's standard retry mode handles throttling and transient failures.
Every botocore error is translated once, in :meth:`S3ArtifactStore._errors`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from modelward.entities import Blob
from modelward.errors import (
    IntegrityError,
    InvalidInput,
    ModelwardError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    StorageFull,
    Unavailable,
    require,
)
from modelward.store.artifacts.base import ArtifactStore, check_digest, sha256_file
from modelward.store.artifacts.streams import (
    CHUNK_SIZE,
    ByteSource,
    local_os_errors,
    open_reader,
    spool,
    translate_os_error,
)

__all__ = ["S3ArtifactStore", "parse_s3_location"]

logger = logging.getLogger(__name__)

_BUCKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]")
_KEY_DIGEST = re.compile(r"[0-9a-f]{64}")

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_DENIED = {
    "AccessDenied",
    "403",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "AllAccessDisabled",
    "AccountProblem",
}
_UNAVAILABLE = {"SlowDown", "ServiceUnavailable", "503", "InternalError", "500", "RequestTimeout"}
_FULL = {"XMinioStorageFull", "QuotaExceeded", "XMinioAdminBucketQuotaExceeded"}


def parse_s3_location(location: str) -> tuple[str, str]:
    """Split ``s3://BUCKET/PREFIX`` into the bucket and the prefix (no surrounding slashes).

    Raises:
        InvalidInput: When the location is not of that form.
    """
    if not location.startswith("s3://"):
        raise InvalidInput(f"{location!r} is not an S3 location; use s3://BUCKET/PREFIX")
    bucket, _, prefix = location[len("s3://") :].partition("/")
    if not _BUCKET.fullmatch(bucket):
        raise InvalidInput(
            f"{location!r} does not name a valid bucket: a bucket name has 3 to 63 letters, "
            "digits, dots or hyphens; use s3://BUCKET/PREFIX",
            details={"location": location},
        )
    prefix = prefix.strip("/")
    if prefix and any(part in {"", ".", ".."} for part in prefix.split("/")):
        raise InvalidInput(
            f"the prefix of {location!r} has an empty, '.' or '..' segment; write it as "
            "s3://BUCKET/a/b",
            details={"location": location},
        )
    return bucket, prefix


class _S3Body:
    """A response body whose read errors are translated like every other S3 error."""

    def __init__(self, store: S3ArtifactStore, body: Any, key: str) -> None:
        self._store = store
        self._body = body
        self._key = key

    def read(self, size: int = -1, /) -> bytes:
        with self._store._errors("reading", self._key):
            data: bytes = self._body.read(size if size >= 0 else None)
        return data

    def close(self) -> None:
        self._body.close()


class S3ArtifactStore(ArtifactStore):
    """Content-addressed blobs in an S3 bucket.

    Args:
        location: ``s3://BUCKET/PREFIX`` (the prefix may be empty).
        endpoint_url: Endpoint of an S3-compatible server (e.g. ``http://127.0.0.1:9000``);
            ``None`` for AWS. Setting: ``s3_endpoint_url``.
        session: A ``boto3.session.Session`` to take credentials and region from; default: a
            new session (boto3's usual credential chain).
        max_attempts: Attempts per request, retries included (botocore standard mode).
        connect_timeout: Seconds to wait for a connection.
        read_timeout: Seconds to wait for data on an open connection.
        multipart_threshold: Files at least this large are uploaded in parts.
        multipart_chunksize: Size of each part; memory per upload is about this times
            ``max_concurrency``.
        max_concurrency: Parts uploaded at once.
        spool_dir: Where :meth:`put_stream` spools bytes before uploading (default: the
            system's temporary folder).
    """

    def __init__(
        self,
        location: str,
        endpoint_url: str | None = None,
        *,
        session: Any | None = None,
        max_attempts: int = 5,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        multipart_threshold: int = 64 * 1024 * 1024,
        multipart_chunksize: int = 8 * 1024 * 1024,
        max_concurrency: int = 4,
        spool_dir: Path | None = None,
    ) -> None:
        self.bucket, self.prefix = parse_s3_location(location)
        self.uri = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        boto3 = require("boto3", "s3")
        self._exc = require("botocore.exceptions", "s3")
        self._boto3_exc = require("boto3.exceptions", "s3")
        config_mod = require("botocore.config", "s3")
        transfer = require("boto3.s3.transfer", "s3")
        config = config_mod.Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # Path-style addressing is what S3-compatible servers on one host name expect.
            s3={"addressing_style": "path"} if endpoint_url else {},
        )
        session = session if session is not None else boto3.session.Session()
        with self._errors("connecting to", None):
            self._client = session.client("s3", endpoint_url=endpoint_url, config=config)
        self.endpoint = str(self._client.meta.endpoint_url)
        self._transfer_config = transfer.TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
            max_concurrency=max_concurrency,
            io_chunksize=CHUNK_SIZE,
        )
        self._spool_dir = spool_dir

    def __repr__(self) -> str:
        return f"S3ArtifactStore({self.uri!r}, endpoint_url={self.endpoint!r})"

    def _key(self, digest: str) -> str:
        check_digest(digest)
        tail = f"blobs/sha256/{digest[:2]}/{digest}"
        return f"{self.prefix}/{tail}" if self.prefix else tail

    # -- error translation: the one boundary between botocore and modelward -----------------

    @contextlib.contextmanager
    def _errors(self, action: str, key: str | None) -> Iterator[None]:
        """Translate botocore/boto3 errors raised in the block into modelward errors."""
        try:
            yield
        except ModelwardError:
            raise
        except Exception as exc:
            translated = self._translate(exc, action, key)
            if translated is None:
                raise
            raise translated from exc

    def _translate(self, exc: BaseException, action: str, key: str | None) -> ModelwardError | None:
        e = self._exc
        if isinstance(exc, self._boto3_exc.S3UploadFailedError) and exc.__context__ is not None:
            # boto3 hides the ClientError of a managed upload behind this one; use the cause.
            return self._translate(exc.__context__, action, key)
        where = f"s3://{self.bucket}/{key}" if key else f"s3://{self.bucket}"
        details: dict[str, Any] = {"bucket": self.bucket, "key": key, "endpoint": self.endpoint}
        if isinstance(exc, e.ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            message = str(error.get("Message", "")) or code
            details["s3_code"] = code
            if code == "NoSuchBucket":
                return NotFound(
                    f"bucket {self.bucket!r} does not exist at {self.endpoint}; create it or "
                    "fix the artifact location (setting `artifacts`)",
                    details=details,
                )
            if code in _NOT_FOUND:
                return NotFound(f"{where} does not exist ({action})", details=details)
            if code in _DENIED:
                return PermissionDenied(
                    f"S3 refused {action} {where} ({code}: {message}). Check the credentials "
                    "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or "
                    "~/.aws/credentials) and that they may use this bucket",
                    details=details,
                )
            if code in _UNAVAILABLE:
                return Unavailable(
                    f"S3 at {self.endpoint} is unavailable ({code}) while {action} {where}, "
                    "even after retrying; try again later",
                    details=details,
                )
            if code in _FULL:
                return StorageFull(
                    f"the bucket {self.bucket!r} is full ({code}) while {action} {where}; free "
                    "space or raise its quota",
                    details=details,
                )
            if code == "EntityTooLarge":
                return PayloadTooLarge(
                    f"{where} is too large for this S3 store ({message})", details=details
                )
            if code in {"InvalidBucketName", "InvalidArgument", "KeyTooLongError"}:
                return InvalidInput(f"S3 rejected {action} {where}: {message}", details=details)
            return ModelwardError(
                f"S3 error {code} while {action} {where}: {message}", details=details
            )
        if isinstance(
            exc, e.NoCredentialsError | e.PartialCredentialsError | e.CredentialRetrievalError
        ):
            return PermissionDenied(
                f"no usable S3 credentials for {where} ({exc}); set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or configure ~/.aws/credentials",
                details=details,
            )
        if isinstance(exc, e.ConnectionError | e.HTTPClientError | e.IncompleteReadError):
            return Unavailable(
                f"cannot reach the S3 endpoint {self.endpoint} while {action} {where} ({exc}); "
                "check that the server is running and the endpoint (setting `s3_endpoint_url`) "
                "is right",
                details=details,
            )
        if isinstance(exc, e.FlexibleChecksumError):
            return IntegrityError(
                f"the bytes S3 sent for {where} failed their transfer checksum ({exc}); retry, "
                "and if it persists the stored object is damaged",
                details=details,
            )
        if isinstance(exc, e.ParamValidationError):
            return InvalidInput(
                f"invalid S3 request while {action} {where}: {exc}", details=details
            )
        if isinstance(exc, e.BotoCoreError):
            return ModelwardError(f"S3 client error while {action} {where}: {exc}", details=details)
        return None

    # -- writing ------------------------------------------------------------------------

    def _stored_size(self, key: str) -> int | None:
        with self._errors("checking", key):
            try:
                head = self._client.head_object(Bucket=self.bucket, Key=key)
            except self._exc.ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                    return None
                raise
        return int(head["ContentLength"])

    def put_file(self, path: Path) -> Blob:
        """Hash a local file, then upload it unless an object of that size is already there."""
        path = Path(path)
        with local_os_errors("source", path, "reading"):
            if path.is_dir():
                raise InvalidInput(f"{path} is a directory; store its files one by one")
            before = path.stat()
            blob = sha256_file(path)
        key = self._key(blob.digest)
        if self._stored_size(key) == blob.size:
            return blob
        self._upload(path, blob, key)
        with local_os_errors("source", path, "reading"):
            after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            # The object may not hold the bytes its name promises; never leave it for dedup.
            self.delete(blob.digest)
            raise ModelwardError(
                f"{path} changed while it was being stored; store it again once it is complete",
                details={"path": str(path)},
            )
        return blob

    def put_stream(self, stream: BinaryIO) -> Blob:
        """Spool ``stream`` to a temporary file while hashing, then store it like a file."""
        # The digest names the object, so it must be known before the upload: spool to disk.
        spool_dir = self._spool_dir or Path(tempfile.gettempdir())
        path, blob = spool(stream, spool_dir, "destination", prefix="modelward-s3-", fsync=False)
        try:
            key = self._key(blob.digest)
            if self._stored_size(key) != blob.size:
                self._upload(path, blob, key)
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
        return blob

    def _upload(self, path: Path, blob: Blob, key: str) -> None:
        logger.debug("uploading %s (%d bytes) to s3://%s/%s", path, blob.size, self.bucket, key)
        try:
            with self._errors("uploading to", key):
                self._client.upload_file(
                    str(path),
                    self.bucket,
                    key,
                    ExtraArgs={"Metadata": {"sha256": blob.digest}},
                    Config=self._transfer_config,
                )
        except OSError as exc:
            if isinstance(exc, ModelwardError):
                raise
            raise translate_os_error(exc, "source", path, "uploading") from exc

    # -- reading ------------------------------------------------------------------------

    def open(self, digest: str, *, verify: bool = True) -> BinaryIO:
        """Stream a blob's object, verified at the end unless ``verify=False``."""
        key = self._key(digest)
        try:
            with self._errors("reading", key):
                response = self._client.get_object(Bucket=self.bucket, Key=key)
        except NotFound as exc:
            if exc.details.get("s3_code") == "NoSuchBucket":
                raise
            raise self._missing(digest, key) from exc
        body: ByteSource = _S3Body(self, response["Body"], key)
        return open_reader(body, digest if verify else None, f"s3://{self.bucket}/{key}")

    def exists(self, digest: str) -> bool:
        """Whether the blob's object exists (one HEAD request)."""
        return self._stored_size(self._key(digest)) is not None

    def size(self, digest: str) -> int:
        """Size in bytes of a stored blob; :class:`~modelward.errors.NotFound` if absent."""
        key = self._key(digest)
        size = self._stored_size(key)
        if size is None:
            raise self._missing(digest, key)
        return size

    def iter_digests(self) -> Iterator[str]:
        """Yield the digest of every blob object under the prefix."""
        start = self._key("0" * 64).rsplit("/", 2)[0] + "/"
        paginator = self._client.get_paginator("list_objects_v2")
        previous = ""
        with self._errors("listing", start):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
                for obj in page.get("Contents", []):
                    name = str(obj["Key"]).rsplit("/", 1)[-1]
                    # Some S3-compatible servers (rclone) list a key twice while two uploads of
                    # it race; listings are sorted, so a repeat is always adjacent.
                    if _KEY_DIGEST.fullmatch(name) and name != previous:
                        previous = name
                        yield name

    # -- deleting -----------------------------------------------------------------------

    def delete(self, digest: str) -> None:
        """Delete a blob's object (no error if absent)."""
        key = self._key(digest)
        with self._errors("deleting", key):
            self._client.delete_object(Bucket=self.bucket, Key=key)

    def _missing(self, digest: str, key: str) -> NotFound:
        return NotFound(
            f"blob {digest} is not in the artifact store {self.uri} (key {key}); it was deleted "
            "or the store points at another bucket or prefix (setting `artifacts`)",
            details={"digest": digest, "store": self.uri, "key": key},
        )
