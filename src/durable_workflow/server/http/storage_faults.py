"""Storage that refuses writes (disk full, read-only, I/O errors) as a typed 503.

SQLite reports these as ``sqlite3.OperationalError``/``DatabaseError``; they are not
the client's fault and not a server bug, so instead of a 500 the caller gets the
2.x protocol's storage-admission refusal: 503 with ``reason``
(``storage_pressure`` when the disk is full, ``storage_admission_unavailable``
otherwise), ``storage_state``, ``retryable: true``, ``retry_after_seconds`` and a
``Retry-After`` header. Reads keep working while writes are refused, and the
next transaction after the fault clears succeeds (the store rolls back the failed
one). SQLite rolls back a statement that hits a full disk, so the file stays
consistent.
"""

from __future__ import annotations

import sqlite3
from typing import Any

RETRY_AFTER_SECONDS = 1

# Primary result codes (https://sqlite.org/rescode.html) and what each means here.
_FULL = 13
_CODES = {
    5: "the database is locked by another process",  # SQLITE_BUSY
    6: "a table is locked",  # SQLITE_LOCKED
    8: "the database is read-only",  # SQLITE_READONLY
    10: "a disk I/O error occurred",  # SQLITE_IOERR
    _FULL: "the database or disk is full",  # SQLITE_FULL
    14: "the database file cannot be opened",  # SQLITE_CANTOPEN
}
# Python < 3.11 has no sqlite_errorcode: the messages SQLite gives for the same codes.
_MESSAGES = {
    "database is locked": 5,
    "database table is locked": 6,
    "readonly database": 8,
    "disk i/o error": 10,
    "database or disk is full": _FULL,
    "unable to open database file": 14,
}


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF
    text = str(exc).lower()
    return next((c for fragment, c in _MESSAGES.items() if fragment in text), None)


def storage_refusal(exc: BaseException) -> dict[str, Any] | None:
    """The 503 body for a storage fault, or None when ``exc`` is something else."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = _code(exc)
    if code not in _CODES:
        return None
    full = code == _FULL
    return {
        "reason": "storage_pressure" if full else "storage_admission_unavailable",
        "message": f"Storage refused the request: {_CODES[code]}. Nothing was recorded; "
        "retry after the advertised delay.",
        "storage_state": "draining" if full else "fenced",
        "retryable": True,
        "retry_after_seconds": RETRY_AFTER_SECONDS,
    }
