"""The modelward exception tree.

Every error modelward raises on purpose derives from :class:`ModelwardError`. Each class has a
stable ``code`` (used in the REST error envelope and by the CLI) and the HTTP status the
server answers with. Where a built-in exception fits, the class subclasses it too, so plain
``except LookupError`` or ``except ValueError`` keeps working::

    ModelwardError
    ├── NotFound            (LookupError)      404  NOT_FOUND
    ├── AlreadyExists                           409  ALREADY_EXISTS
    ├── InvalidInput        (ValueError)       400  INVALID_INPUT
    │   ├── FilterSyntaxError                   400  INVALID_FILTER
    │   ├── SchemaViolation                     422  SCHEMA_VIOLATION
    │   └── UnsupportedMediaType                415  UNSUPPORTED_MEDIA_TYPE
    ├── Conflict                                409  CONFLICT
    ├── PermissionDenied    (PermissionError)  403  PERMISSION_DENIED
    ├── PayloadTooLarge                         413  PAYLOAD_TOO_LARGE
    ├── RequestTimeout      (TimeoutError)     408  REQUEST_TIMEOUT
    ├── Unavailable         (ConnectionError)  503  UNAVAILABLE
    │   └── ModelFailed                         503  MODEL_FAILED
    ├── IntegrityError                          500  INTEGRITY_ERROR
    ├── SchemaOutOfDate                         503  SCHEMA_OUT_OF_DATE
    ├── StorageFull         (OSError)           507  STORAGE_FULL
    ├── ReadOnlyStore       (PermissionError)  503  READ_ONLY
    ├── MissingDependency   (ImportError)      501  MISSING_DEPENDENCY
    └── UnsafeModel                             403  UNSAFE_MODEL

Messages say what was wrong and what to do about it. ``details`` carries machine-readable
context (the offending key, token position, …) and is echoed in the REST envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "AlreadyExists",
    "Conflict",
    "FilterSyntaxError",
    "IntegrityError",
    "InvalidInput",
    "MissingDependency",
    "ModelFailed",
    "ModelwardError",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "ReadOnlyStore",
    "RequestTimeout",
    "SchemaOutOfDate",
    "SchemaViolation",
    "StorageFull",
    "Unavailable",
    "UnsafeModel",
    "UnsupportedMediaType",
    "error_class_for_code",
]


class ModelwardError(Exception):
    """Root of every error modelward raises on purpose.

    Args:
        message: What went wrong and what to do about it, in one sentence or two.
        details: Machine-readable context, serialisable as JSON.
    """

    code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """Return the REST error envelope for this error."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class NotFound(ModelwardError, LookupError):
    """A named object (run, experiment, model, dataset, …) does not exist."""

    code = "NOT_FOUND"
    http_status = 404


class AlreadyExists(ModelwardError):
    """An object with that name or key already exists."""

    code = "ALREADY_EXISTS"
    http_status = 409


class InvalidInput(ModelwardError, ValueError):
    """The caller passed a value that can never be accepted; fix the input and retry."""

    code = "INVALID_INPUT"
    http_status = 400


class FilterSyntaxError(InvalidInput):
    """A search filter or order-by clause could not be parsed; ``details`` has the position."""

    code = "INVALID_FILTER"
    http_status = 400


class SchemaViolation(InvalidInput):
    """Input data does not match a model's or dataset's declared schema."""

    code = "SCHEMA_VIOLATION"
    http_status = 422


class UnsupportedMediaType(InvalidInput):
    """A request body's content type is not one the endpoint reads (send application/json)."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class Conflict(ModelwardError):
    """The request contradicts stored state (e.g. re-logging a param with another value)."""

    code = "CONFLICT"
    http_status = 409


class PermissionDenied(ModelwardError, PermissionError):
    """The caller may not perform this action, or a path escapes its allowed root."""

    code = "PERMISSION_DENIED"
    http_status = 403


class PayloadTooLarge(ModelwardError):
    """A request body or batch is over the configured limit."""

    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class Unavailable(ModelwardError, ConnectionError):
    """A backend (database, object store, cluster) cannot be reached or is overloaded."""

    code = "UNAVAILABLE"
    http_status = 503


class ModelFailed(Unavailable):
    """A model raised an error while predicting; the message carries the model's own error."""

    code = "MODEL_FAILED"
    http_status = 503


class RequestTimeout(ModelwardError, TimeoutError):
    """A client sent its request too slowly (the body did not arrive within the limit)."""

    code = "REQUEST_TIMEOUT"
    http_status = 408


class IntegrityError(ModelwardError):
    """Stored bytes or records are not what they claim to be (digest mismatch, corruption)."""

    code = "INTEGRITY_ERROR"
    http_status = 500


class SchemaOutOfDate(ModelwardError):
    """The metadata database schema is older than this modelward; run ``modelward db upgrade``."""

    code = "SCHEMA_OUT_OF_DATE"
    http_status = 503


class StorageFull(ModelwardError, OSError):
    """The disk or bucket holding the store has no space left."""

    code = "STORAGE_FULL"
    http_status = 507


class ReadOnlyStore(ModelwardError, PermissionError):
    """The store is read-only (file permissions or a read-only database)."""

    code = "READ_ONLY"
    http_status = 503


class MissingDependency(ModelwardError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    code = "MISSING_DEPENDENCY"
    http_status = 501


class UnsafeModel(ModelwardError):
    """Loading this model could execute untrusted code; pass ``trust=True`` if you trust it."""

    code = "UNSAFE_MODEL"
    http_status = 403


def _all_error_classes() -> list[type[ModelwardError]]:
    found: list[type[ModelwardError]] = []
    stack: list[type[ModelwardError]] = [ModelwardError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def error_class_for_code(code: str) -> type[ModelwardError]:
    """Return the exception class for a stable error code (used by REST clients).

    Unknown codes map to :class:`ModelwardError` so a newer server never crashes an older client.
    """
    for cls in _all_error_classes():
        if cls.code == code:
            return cls
    return ModelwardError


def require(module: str, extra: str) -> Any:
    """Import an optional dependency or raise :class:`MissingDependency` naming the extra.

    Args:
        module: The module to import, e.g. ``"boto3"``.
        extra: The modelward extra that installs it, e.g. ``"s3"``.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(
            f"{module} is not installed; install it with: pip install 'modelward[{extra}]'",
            details={"module": module, "extra": extra},
        ) from exc
