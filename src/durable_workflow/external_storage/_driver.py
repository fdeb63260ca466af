"""The driver protocol every storage backend implements (sdk-surface.md §15)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class ExternalStorageDriver(Protocol):
    """Stores encoded blob bytes by content hash and hands back a URI to read them by.

    ``put`` must be idempotent (the key is derived from the hash), ``get`` must
    refuse URIs outside the driver's configured location, and ``delete`` of a
    missing object is not an error.
    """

    def put(self, data: bytes, *, sha256: str, codec: str) -> str: ...

    def get(self, uri: str) -> bytes: ...

    def delete(self, uri: str) -> None: ...
