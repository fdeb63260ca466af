"""A first-come, first-served count of held resources, with a bounded wait for one.

Used for the connections one client lets its requests hold at once (``HttpTransport``)
and for the result long polls among them (``client._result_wait``). Unlike
``asyncio.Semaphore`` under ``asyncio.wait_for``, a slot handed over just as its
waiter gives up is passed on to the next waiter, never lost.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib

__all__ = ["Slots"]


class Slots:
    """``size`` slots: :meth:`take` one (waiting at most ``within`` s), :meth:`give` it back."""

    def __init__(self, size: int) -> None:
        self.free = size
        self.queue: collections.deque[asyncio.Future[None]] = collections.deque()

    async def take(self, within: float) -> bool:
        """A slot, or False when none came free within ``within`` seconds."""
        if self.free > 0 and not self.queue:
            self.free -= 1
            return True
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queue.append(handed)
        try:
            await asyncio.wait({handed}, timeout=max(within, 0.0))
        except BaseException:
            self._withdraw(handed)
            raise
        if handed.done():
            return True
        self._withdraw(handed)
        return False

    def _withdraw(self, handed: asyncio.Future[None]) -> None:
        if handed.done() and not handed.cancelled():
            self.give()  # handed over as the wait ended: pass it on
            return
        with contextlib.suppress(ValueError):
            self.queue.remove(handed)
        handed.cancel()

    def give(self) -> None:
        while self.queue:
            handed = self.queue.popleft()
            if not handed.done():
                handed.set_result(None)
                return
        self.free += 1
