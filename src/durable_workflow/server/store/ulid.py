"""Tiny ULID generator: sortable ids so rows created later sort later.

Rows use lower-case ids, worker and attempt ids upper-case, as the protocol
does (worker-protocol.md §1). Within one millisecond the random part is
incremented, so ids made by this process are strictly increasing.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


# Every 10-bit value as its two characters: half the steps of a character at a time.
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]


def _encode(value: int, length: int) -> str:
    """``length`` (even) Crockford base-32 characters of ``value``, most significant first."""
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in range(5 * length - 10, -1, -10)])


def new_ulid(*, upper: bool = False) -> str:
    """Return a new 26-character ULID (lower-case unless ``upper``)."""
    global _last_ms, _last_rand
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            now_ms = _last_ms
            rand = (_last_rand + 1) & ((1 << 80) - 1)
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last_ms, _last_rand = now_ms, rand
    text = _encode(now_ms, 10) + _encode(rand, 16)
    return text if upper else text.lower()
