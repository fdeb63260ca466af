"""Typed errors of external payload storage.

Each one is also a ``ValueError`` (or ``FileNotFoundError``) because upstream
raised those, so existing ``except ValueError`` handlers keep working; the
field-carrying ones name what was wrong so a caller can report it precisely.
"""

from __future__ import annotations

from durable_workflow.errors import DurableWorkflowError


class ExternalStorageError(DurableWorkflowError):
    """Base class of every external payload storage error."""


class ExternalPayloadIntegrityError(ExternalStorageError, ValueError):
    """Fetched bytes do not match the size or SHA-256 their reference promises.

    ``field`` names the reference field that did not hold (``size_bytes`` or
    ``sha256``), so a server can report it as a field error.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class ExternalPayloadReferenceError(ExternalStorageError, ValueError):
    """A reference (or external envelope) is malformed; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"external payload reference field {field!r}: {message}")


class ExternalStoragePolicyError(ExternalStorageError, ValueError):
    """A storage policy cannot be read or cannot produce a driver; ``field`` names why."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"external storage policy field {field!r}: {message}")


class ExternalStorageLocationError(ExternalStorageError, ValueError):
    """A URI or key lies outside what the driver is configured for (scheme, bucket, prefix)."""


class ExternalPayloadNotFoundError(ExternalStorageError, FileNotFoundError):
    """The referenced object does not exist (deleted, expired, or never stored)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(f"external payload not found: {uri}")


class MissingOptionalDependency(ExternalStorageError, ImportError):
    """A cloud SDK needed by a convenience constructor is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{module} is not installed; install it with pip install 'durable-workflow[{extra}]'"
        )
