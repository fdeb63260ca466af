"""One dev server per database file: an exclusive lock on ``<db>.lock`` while it runs.

Two servers on one SQLite file would each run a scheduler, lease the same tasks
and keep their own in-memory wake-ups and query brokers; SQLite itself would not
stop them. The second one is refused at start with :class:`DatabaseInUse` naming
the file and the owner's pid. The operating system drops the lock when the
owner exits, SIGKILL included, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO


class DatabaseInUse(RuntimeError):
    """Another dev server holds the database file."""


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class OwnerLock:
    """Held from :meth:`acquire` until :meth:`release` (or the process ends)."""

    def __init__(self, handle: IO[str], path: Path) -> None:
        self._handle: IO[str] | None = handle
        self.path = path

    @classmethod
    def acquire(cls, db_path: Path) -> OwnerLock:
        path = db_path.with_name(db_path.name + ".lock")
        handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held while serving)
        if not _try_lock(handle):
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise DatabaseInUse(
                f"database {db_path} is in use by another dev server (pid {owner}); stop it "
                "or start this one with another database file (--db)"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return cls(handle, path)

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor drops the lock
            self._handle = None
