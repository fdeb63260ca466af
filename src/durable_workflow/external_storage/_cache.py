"""Bounded LRU of verified payload bytes, so replays do not refetch large blobs.

Only :func:`fetch_external_payload` inserts, after verification, so a hit
carries the same integrity guarantee as a fresh fetch. A lock makes one cache
safe to share between a worker's event loop and its activity threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from durable_workflow.external_storage._reference import ExternalPayloadReference

DEFAULT_MAX_ENTRIES = 128
DEFAULT_MAX_BYTES = 16 * 1024 * 1024

_Key = tuple[str, str, int, str]


class ExternalPayloadCache:
    """LRU keyed by (uri, sha256, size_bytes, codec), bounded by entry count and bytes."""

    def __init__(
        self, *, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        if max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.current_bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[_Key, bytes] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(reference: ExternalPayloadReference) -> _Key:
        return (reference.uri, reference.sha256.lower(), reference.size_bytes, reference.codec)

    def get(self, reference: ExternalPayloadReference) -> bytes | None:
        """The cached bytes (marking them most recently used), or ``None``."""
        key = self._key(reference)
        with self._lock:
            data = self._entries.get(key)
            if data is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return data

    def put(self, reference: ExternalPayloadReference, data: bytes) -> None:
        """Insert verified bytes; a value larger than ``max_bytes`` is not cached at all."""
        if len(data) > self.max_bytes:
            return
        key = self._key(reference)
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self.current_bytes -= len(previous)
            self._entries[key] = data
            self.current_bytes += len(data)
            while len(self._entries) > self.max_entries or self.current_bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.current_bytes -= len(evicted)

    def discard(self, reference: ExternalPayloadReference) -> None:
        """Forget one reference (after its object was deleted)."""
        with self._lock:
            data = self._entries.pop(self._key(reference), None)
            if data is not None:
                self.current_bytes -= len(data)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.current_bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, reference: object) -> bool:
        if not isinstance(reference, ExternalPayloadReference):
            return False
        return self._key(reference) in self._entries
