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
import weakref
from pathlib import Path


class DatabaseInUse(RuntimeError):
    """Another dev server holds the database file."""


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class OwnerLock:
    """Held from :meth:`acquire` until :meth:`release`, the owner being collected, or the
    process ending (a raw descriptor: closed by a finalizer, never left to warn)."""

    def __init__(self, fd: int, path: Path) -> None:
        self.path = path
        self._release = weakref.finalize(self, os.close, fd)

    @classmethod
    def acquire(cls, db_path: Path) -> OwnerLock:
        path = db_path.with_name(db_path.name + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            owner = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DatabaseInUse(
                f"database {db_path} is in use by another dev server (pid {owner}); stop it "
                "or start this one with another database file (--db)"
            )
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, str(os.getpid()).encode("ascii"))
        return cls(fd, path)

    def release(self) -> None:
        self._release()  # closing the descriptor drops the lock; later calls do nothing
