"""Long polls: probe, park on a wake-up, re-probe, until a result or the poll timeout.

Pollers never sleep on a fixed interval: a poller re-probes when woken, when the
earliest future ``available_at`` of its queue comes due, and gives up with
``None`` at the poll timeout (worker-protocol.md §11.6).

A task poll also watches its HTTP client: once the client has disconnected
the poll stops before its next probe (:class:`ClientGone`), so a task that
becomes ready is never leased to a poller nobody will answer for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any, TypeVar

from durable_workflow.server.matching.wakeups import Notifier, wait_for
from durable_workflow.server.store.tx import WakeKey

T = TypeVar("T")
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


async def long_poll(
    notifier: Notifier,
    key: WakeKey | list[WakeKey],
    probe: Callable[[], T | None],
    next_due: Callable[[], datetime | None],
    clock: Callable[[], datetime],
    timeout: float,
    receive: Receive | None = None,
) -> T | None:
    """Probe until a result, re-probing on wake-ups and due times, until ``timeout``.

    ``key`` may be a list: a wake-up of any of its keys re-probes.

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
    key: WakeKey | list[WakeKey],
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
            await wait_for(event, remaining)
        finally:
            notifier.unsubscribe(key, event)
