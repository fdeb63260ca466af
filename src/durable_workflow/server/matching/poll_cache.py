"""Workflow-task poll idempotency by ``poll_request_id`` (worker-protocol.md §9.2).

An entry remembers only what redelivery needs (task id, lease owner,
attempt), not the delivered task with its history: a duplicate poll
rebuilds the task from the database anyway. An entry whose task was
completed or failed is dropped at once (a duplicate poll would find the task
no longer leased and poll afresh, exactly as with the entry kept), so the
cache holds in-flight work, not the last five minutes of throughput.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

# What redelivery reads from a delivered task (a 2.x multiplexed poll may deliver an
# update-validation task, identified by its own id and attempt).
_REDELIVERY_FIELDS = (
    "task_id", "lease_owner", "workflow_task_attempt",
    "task_kind", "update_validation_task_id", "update_validation_attempt",
)  # fmt: skip
_PRUNE_EVERY_SECONDS = 1.0


@dataclass
class _PollEntry:
    future: asyncio.Future[Any]
    expires: float
    task_id: str | None = None


class PollCache:
    """Runs a poll once per key; duplicates share or replay its result."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, ...], _PollEntry] = {}
        self._by_task: dict[str, tuple[str, ...]] = {}
        self._next_prune = 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: tuple[str, ...]) -> None:
        entry = self._entries.pop(key, None)
        task_id = None if entry is None else entry.task_id
        if task_id is not None and self._by_task.get(task_id) == key:
            del self._by_task[task_id]

    def _prune(self) -> None:
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + _PRUNE_EVERY_SECONDS
        for key in [k for k, e in self._entries.items() if e.expires < now and e.future.done()]:
            self._drop(key)

    def forget_task(self, task_id: str) -> None:
        """The task was completed or failed: its cached delivery can never be replayed."""
        key = self._by_task.get(task_id)
        if key is not None:
            entry = self._entries.get(key)
            if entry is not None and entry.future.done():
                self._drop(key)

    async def run(
        self,
        key: tuple[str, ...],
        poll: Callable[[], Awaitable[dict[str, Any] | None]],
        still_valid: Callable[[dict[str, Any]], dict[str, Any] | None],
        timeout: float,
    ) -> dict[str, Any] | None:
        """Run ``poll`` once per key; duplicates share or replay its result."""
        self._prune()
        for _ in range(3):
            entry = self._entries.get(key)
            if entry is None:
                break
            if not entry.future.done():
                try:
                    await asyncio.wait_for(asyncio.shield(entry.future), timeout + 0.25)
                except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                    continue
            if entry.future.cancelled() or entry.future.exception() is not None:
                self._drop(key)
                break
            result = entry.future.result()
            if result is None:
                return None
            refreshed = still_valid(result)
            if refreshed is not None:
                return refreshed
            self._drop(key)
            break
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._entries[key] = _PollEntry(future, time.monotonic() + timeout + 5)
        try:
            result = await poll()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved
            raise
        if result is None:
            future.set_result(None)
            self._entries[key] = _PollEntry(future, time.monotonic() + 35.0)
            return None
        delivered = {field: result[field] for field in _REDELIVERY_FIELDS if field in result}
        future.set_result(delivered)
        task_id = str(delivered.get("task_id") or delivered.get("update_validation_task_id"))
        self._entries[key] = _PollEntry(future, time.monotonic() + 305.0, task_id)
        self._by_task[task_id] = key
        return result
