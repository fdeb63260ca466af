"""A private event loop on its own thread, so blocking calls work inside a running loop.

Upstream's ``sync.Client`` ran every call with ``asyncio.run`` and therefore
failed inside Jupyter or an async web app. Here each blocking client owns one
loop thread; calls are submitted to it and the caller's thread waits, whether
or not the caller's thread itself runs an event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

__all__ = ["LoopThread", "shared_loop"]

T = TypeVar("T")


class LoopThread:
    """One daemon thread running one event loop until ``close()``."""

    def __init__(self, name: str = "durable-workflow-sync") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._closed = False
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the private loop and block until it finishes."""
        if self._closed:
            coro.close()
            raise RuntimeError("this client is closed")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a blocking client call cannot be made from its own loop")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def iterate(self, iterator: AsyncIterator[T]) -> Iterator[T]:
        """Drive an async iterator from the private loop, one item per step."""

        async def step() -> tuple[bool, T | None]:
            try:
                return True, await iterator.__anext__()
            except StopAsyncIteration:
                return False, None

        while True:
            more, item = self.run(step())
            if not more:
                return
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Stop the loop and join the thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


_shared: LoopThread | None = None
_shared_lock = threading.Lock()


def shared_loop() -> LoopThread:
    """One process-wide loop thread, started on first use and never closed.

    For sync handles built by hand around an async handle (upstream's
    one-argument constructors), which have no owning client loop to use.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LoopThread("durable-workflow-sync-shared")
        return _shared
