"""long_poll with the request's receive channel: a disconnect ends the wait, no more probes."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from datetime import datetime, timezone
from typing import Any

import pytest

from durable_workflow.server.matching.long_poll import ClientGone, long_poll
from durable_workflow.server.matching.wakeups import Notifier

KEY = ("queue", "default", "q")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Channel:
    """An ASGI receive channel that yields ``http.disconnect`` once ``leave`` is set."""

    def __init__(self) -> None:
        self.leave = asyncio.Event()
        self.reader: asyncio.Task[Any] | None = None

    async def receive(self) -> MutableMapping[str, Any]:
        self.reader = asyncio.current_task()
        await self.leave.wait()
        return {"type": "http.disconnect"}


async def test_a_disconnect_ends_the_wait_without_another_probe() -> None:
    notifier, channel = Notifier(), Channel()
    notifier.bind(asyncio.get_running_loop())
    probes: list[int] = []

    def probe() -> str | None:
        probes.append(1)
        return None

    poll = asyncio.ensure_future(
        long_poll(notifier, KEY, probe, lambda: None, _now, 30.0, channel.receive)
    )
    await asyncio.sleep(0.05)
    assert probes == [1] and not poll.done()
    channel.leave.set()
    with pytest.raises(ClientGone):
        await asyncio.wait_for(poll, 5)
    notifier.notify({KEY})  # a task becoming ready now reaches nobody
    assert probes == [1]
    assert notifier._waiters == {}


async def test_a_present_client_gets_the_result_and_the_watch_stops() -> None:
    notifier, channel = Notifier(), Channel()
    notifier.bind(asyncio.get_running_loop())
    ready: list[str] = []
    poll = asyncio.ensure_future(
        long_poll(
            notifier,
            KEY,
            lambda: ready[0] if ready else None,
            lambda: None,
            _now,
            30.0,
            channel.receive,
        )
    )
    await asyncio.sleep(0.05)
    ready.append("task")
    notifier.notify({KEY})
    assert await asyncio.wait_for(poll, 5) == "task"
    # The watch was cancelled with the poll: it ends although the client never left.
    reader = channel.reader
    assert reader is not None
    await asyncio.wait_for(asyncio.gather(reader, return_exceptions=True), 5)
    assert reader.cancelled()
