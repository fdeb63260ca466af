"""Task matching: long-poll wake-ups and the scheduler loop.

Pollers never sleep on a fixed interval. A poller subscribes to the wake-up
for its (namespace, task queue) *before* probing the database, so a commit
between probe and wait cannot be missed; it re-probes when woken, when the
earliest future ``available_at`` of its queue comes due, and gives up with
``None`` at the poll timeout (worker-protocol.md §11.6).

A task poll also watches its HTTP client: once the client has disconnected
the poll stops before its next probe (:class:`ClientGone`), so a task that
becomes ready is never leased to a poller nobody will answer for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.store.timefmt import fmt_z
from durable_workflow.server.store.tx import SCHEDULER_KEY, WakeKey

T = TypeVar("T")
log = logging.getLogger(__name__)
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class ClientGone(Exception):
    """The HTTP client of a long poll disconnected while it waited."""


class _ClientWatch:
    """Reads the request's ASGI receive channel (body already consumed) for
    ``http.disconnect`` and then wakes the poll's current wait."""

    def __init__(self, receive: Receive) -> None:
        self.gone = False
        self.wake: asyncio.Event | None = None
        self._task = asyncio.ensure_future(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.gone = True
        if self.wake is not None:
            self.wake.set()

    def close(self) -> None:
        self._task.cancel()


class Notifier:
    """asyncio events keyed by wake key; :meth:`notify` may be called from any thread."""

    def __init__(self) -> None:
        self._waiters: dict[WakeKey, set[asyncio.Event]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def subscribe(self, key: WakeKey) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters.setdefault(key, set()).add(event)
        return event

    def unsubscribe(self, key: WakeKey, event: asyncio.Event) -> None:
        waiters = self._waiters.get(key)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                del self._waiters[key]

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


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=max(seconds, 0.0))


async def long_poll(
    notifier: Notifier,
    key: WakeKey,
    probe: Callable[[], T | None],
    next_due: Callable[[], datetime | None],
    clock: Callable[[], datetime],
    timeout: float,
    receive: Receive | None = None,
) -> T | None:
    """Probe until a result, re-probing on wake-ups and due times, until ``timeout``.

    With ``receive`` (the request's ASGI channel) a disconnected client ends the
    poll with :class:`ClientGone` instead of another probe.
    """
    deadline = time.monotonic() + timeout
    watch = None if receive is None else _ClientWatch(receive)
    try:
        return await _poll_loop(notifier, key, probe, next_due, clock, deadline, watch)
    finally:
        if watch is not None:
            watch.close()


async def _poll_loop(
    notifier: Notifier,
    key: WakeKey,
    probe: Callable[[], T | None],
    next_due: Callable[[], datetime | None],
    clock: Callable[[], datetime],
    deadline: float,
    watch: _ClientWatch | None,
) -> T | None:
    while True:
        event = notifier.subscribe(key)
        try:
            if watch is not None:
                if watch.gone:
                    raise ClientGone
                watch.wake = event
            found = probe()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0 or notifier.closed:
                return None
            due = next_due()
            if due is not None:
                remaining = min(remaining, (due - clock()).total_seconds() + 0.001)
            await _wait(event, remaining)
        finally:
            notifier.unsubscribe(key, event)


class Scheduler:
    """One loop that fires timers and expires leases, sleeping until the next due time."""

    def __init__(self, engine: Engine, notifier: Notifier) -> None:
        self.engine = engine
        self.notifier = notifier
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            event = self.notifier.subscribe(SCHEDULER_KEY)
            try:
                try:
                    while self.engine.run_due_work():
                        await asyncio.sleep(0)
                    due = self.engine.next_due_at()
                except Exception:  # keep the loop alive; the next wake retries
                    log.exception("scheduler pass failed")
                    due = None
                    await asyncio.sleep(1.0)
                now = self.engine.clock()
                wait = 3600.0 if due is None else (due - now).total_seconds()
                if wait <= 0:
                    # Due work that a pass could not handle: back off instead of spinning.
                    wait = 1.0
                self.engine.scheduler_asleep_until = fmt_z(now + timedelta(seconds=wait))
                await _wait(event, wait + 0.001)
            finally:
                self.engine.scheduler_asleep_until = None
                self.notifier.unsubscribe(SCHEDULER_KEY, event)
