"""In-process wake-ups: one asyncio event set per wake key, signalled after commit.

A waiter subscribes to its key (a namespace + task queue, a run, the scheduler)
*before* it looks at the database, so a commit between look and wait is never
missed; the engine's listener calls :meth:`Notifier.notify` once the transaction
that produced the keys has committed.
"""

from __future__ import annotations

import asyncio
import contextlib

from durable_workflow.server.store.tx import WakeKey


class Notifier:
    """asyncio events keyed by wake key; :meth:`notify` may be called from any thread."""

    def __init__(self) -> None:
        self._waiters: dict[WakeKey, set[asyncio.Event]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, key: WakeKey | list[WakeKey]) -> asyncio.Event:
        """One event set by a wake-up of ``key`` (or of any key of a list)."""
        event = asyncio.Event()
        for one in key if isinstance(key, list) else (key,):
            self._waiters.setdefault(one, set()).add(event)
        return event

    def unsubscribe(self, key: WakeKey | list[WakeKey], event: asyncio.Event) -> None:
        for one in key if isinstance(key, list) else (key,):
            waiters = self._waiters.get(one)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[one]

    def close(self) -> None:
        """Release every waiter for good (server shutdown): polls answer ``None`` now."""

        def release() -> None:
            self.closed = True
            for waiters in self._waiters.values():
                for event in waiters:
                    event.set()

        loop = self._loop
        if loop is None or loop.is_closed():
            release()
        else:
            loop.call_soon_threadsafe(release)

    def _set(self, keys: set[WakeKey]) -> None:
        for key in keys:
            for event in self._waiters.get(key, ()):
                event.set()

    def notify(self, keys: set[WakeKey]) -> None:
        """Wake every waiter of ``keys`` (engine listener, called after commit)."""
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            self._set(set(keys))
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._set, set(keys))


async def wait_for(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=max(seconds, 0.0))
