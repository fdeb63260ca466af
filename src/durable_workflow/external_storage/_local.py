"""Local filesystem driver: development, tests, and servers sharing a volume with workers."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from durable_workflow.external_storage._errors import (
    ExternalPayloadNotFoundError,
    ExternalStorageLocationError,
)
from durable_workflow.external_storage._keys import object_key


class LocalFilesystemExternalStorage:
    """Blobs under ``root/<codec>/<sha[:2]>/<sha>``, addressed by ``file://`` URIs.

    Reads accept both the SDK's ``Path.as_uri()`` spelling and the server's
    per-segment percent-encoding (payloads.md §5.4), and refuse any path that
    resolves outside ``root``.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        path = self.root / object_key("", sha256=sha256, codec=codec)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write-then-rename: a crash mid-write never leaves a truncated object
        # under the content-addressed name.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path.as_uri()

    def get(self, uri: str) -> bytes:
        path = self.path_for(uri)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise ExternalPayloadNotFoundError(uri) from exc

    def delete(self, uri: str) -> None:
        self.path_for(uri).unlink(missing_ok=True)

    def path_for(self, uri: str) -> Path:
        """The file a ``file://`` URI names, refusing anything outside ``root``."""
        parts = urlsplit(uri)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ExternalStorageLocationError(
                f"URI {uri!r} is not a local file:// URI; this driver reads only those"
            )
        raw = unquote(parts.path)
        if any(segment in (".", "..") for segment in raw.split("/")):
            raise ExternalStorageLocationError(
                f"URI {uri!r} has a '.' or '..' path segment; refusing to resolve it"
            )
        path = Path(raw).resolve()
        if path == self.root or not path.is_relative_to(self.root):
            raise ExternalStorageLocationError(
                f"URI {uri!r} is outside the storage root {self.root}"
            )
        return path
