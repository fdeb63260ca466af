"""One client's result waits, multiplexed over a few held closed-runs requests.

Where the dev server advertises ``closed_runs_wait`` (docs/compat.md), a waiter
registers its run here instead of holding a history long poll of its own: runs
registered in the same moment go out in one ``POST /api/dev/closed-runs`` (up to
:data:`RUNS_PER_REQUEST`, or an even share of the awaited runs) held until one of
them closes; at most :data:`HELD_REQUESTS` such requests are held at once, and a
request that returns is sent again with its runs still open merged with the ones
registered meanwhile. Runs waiting while every held slot is taken are checked
without holding once per ``poll_interval``, so none waits longer than the per-run
fallback would. Each request answers many runs, which is where the client's CPU
per awaited workflow goes down.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from dataclasses import dataclass, field
from typing import Any

from durable_workflow._dev_operations import CLOSED_RUNS, CLOSED_RUNS_MAX
from durable_workflow.client import _client

__all__ = ["Closed", "ClosedRunsHub", "hub_of"]

# Closed-runs requests one client holds at once (each one pooled connection, well inside
# the transport's 100 in flight).
HELD_REQUESTS = 16
# Runs one held request carries, at least: a request goes out again with its open runs
# each time one of them closes, so many small requests cost less than one large one.
# Past HELD_REQUESTS of them, the awaited runs are shared out evenly instead.
RUNS_PER_REQUEST = 32


@dataclass(frozen=True)
class Closed:
    """A closed run as the server reported it: status, codec, its terminal event (if any)."""

    status: str
    payload_codec: str | None
    events: list[dict[str, Any]]


@dataclass(eq=False)
class _Entry:
    """One awaited run: its waiters and the held request that carries it (None: pending)."""

    workflow_id: str
    run_id: str
    poll_interval: float
    waiters: set[asyncio.Future[Closed | None]] = field(default_factory=set)
    request: asyncio.Task[Any] | None = None


_hubs: weakref.WeakKeyDictionary[Any, ClosedRunsHub] = weakref.WeakKeyDictionary()


def hub_of(client: _client.Client) -> ClosedRunsHub:
    """The client's hub on the running loop."""
    hub = _hubs.get(client)
    if hub is None or hub.loop is not asyncio.get_running_loop():
        hub = _hubs[client] = ClosedRunsHub(client)
    return hub


class ClosedRunsHub:
    """Awaited runs of one client and the closed-runs requests that watch them."""

    def __init__(self, client: _client.Client) -> None:
        # The transport, not the client: the client stays collectable (``_hubs`` is weak).
        self.transport = client._transport
        self.loop = asyncio.get_running_loop()
        self.entries: dict[str, _Entry] = {}  # by run id
        self.pending: dict[str, None] = {}  # run ids in no held request, oldest first
        self.held: dict[asyncio.Task[Any], list[str]] = {}
        self._scheduled = False
        self._checker: asyncio.Task[None] | None = None

    async def wait(self, workflow_id: str, run_id: str, poll_interval: float) -> Closed | None:
        """The run once closed; None when the server does not know it (in the namespace)."""
        entry = self.entries.get(run_id)
        if entry is None:
            entry = self.entries[run_id] = _Entry(workflow_id, run_id, poll_interval)
            self.pending[run_id] = None
            self._schedule()
        entry.poll_interval = min(entry.poll_interval, poll_interval)
        waiter: asyncio.Future[Closed | None] = self.loop.create_future()
        entry.waiters.add(waiter)
        try:
            return await waiter
        finally:
            entry.waiters.discard(waiter)
            if not entry.waiters and self.entries.get(run_id) is entry:
                self._drop(entry)  # its last waiter was cancelled or timed out

    # -- requests -----------------------------------------------------------------------

    def _schedule(self) -> None:
        """Send soon: registrations of the same moment go out in one request."""
        if not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self._issue)

    def _issue(self) -> None:
        self._scheduled = False
        size = min(max(RUNS_PER_REQUEST, -(-len(self.entries) // HELD_REQUESTS)), CLOSED_RUNS_MAX)
        while self.pending and len(self.held) < HELD_REQUESTS:
            batch = list(itertools.islice(self.pending, size))
            request = self.loop.create_task(self._hold(batch))
            self.held[request] = batch
            for run_id in batch:
                del self.pending[run_id]
                self.entries[run_id].request = request
        if self.pending and self._checker is None:
            self._checker = self.loop.create_task(self._check_pending())

    async def _send(self, run_ids: list[str], *, wait: bool) -> dict[str, Any]:
        runs = [
            {"workflow_id": self.entries[r].workflow_id, "run_id": r}
            for r in run_ids
            if r in self.entries
        ]
        answer = await self.transport.call(
            CLOSED_RUNS, path_params={}, query=None, body={"runs": runs, "wait": wait}
        )
        return answer if isinstance(answer, dict) else {}

    async def _hold(self, batch: list[str]) -> None:
        """One held request; then its runs still open go out again with the pending ones."""
        request = asyncio.current_task()
        assert request is not None
        answer: dict[str, Any] | None = None
        try:
            answer = await self._send(batch, wait=True)
        except Exception as exc:  # the waiters it carried get the error (as a read would raise)
            self._fail([r for r in batch if self._carries(r, request)], exc)
        finally:
            self.held.pop(request, None)
        if answer is not None:
            self._settle(answer)
        reissue = {r: None for r in batch if self._carries(r, request)}
        for run_id in reissue:
            self.entries[run_id].request = None
        self.pending = {**reissue, **self.pending}
        self._schedule()

    async def _check_pending(self) -> None:
        """While every held slot is taken: read the pending runs without holding, per interval."""
        try:
            while self.pending:
                interval = min(self.entries[r].poll_interval for r in self.pending)
                await asyncio.sleep(interval)
                if len(self.held) < HELD_REQUESTS:
                    self._issue()
                    continue
                pending = list(self.pending)
                for start in range(0, len(pending), CLOSED_RUNS_MAX):
                    chunk = [
                        r for r in pending[start : start + CLOSED_RUNS_MAX] if r in self.pending
                    ]
                    if not chunk:
                        continue
                    try:
                        answer = await self._send(chunk, wait=False)
                    except Exception as exc:
                        self._fail([r for r in chunk if r in self.pending], exc)
                        continue
                    self._settle(answer)
        finally:
            self._checker = None

    # -- answers ------------------------------------------------------------------------

    def _carries(self, run_id: str, request: asyncio.Task[Any] | None) -> bool:
        entry = self.entries.get(run_id)
        return entry is not None and entry.request is request

    def _settle(self, answer: dict[str, Any]) -> None:
        closed = answer.get("closed")
        for item in closed if isinstance(closed, list) else ():
            if not isinstance(item, dict):
                continue
            entry = self.entries.get(str(item.get("run_id")))
            if entry is None or entry.workflow_id != item.get("workflow_id"):
                continue
            events = item.get("events")
            codec = item.get("payload_codec")
            self._finish(
                entry,
                Closed(
                    status=str(item.get("status") or ""),
                    payload_codec=codec if isinstance(codec, str) and codec else None,
                    events=[e for e in events if isinstance(e, dict)]
                    if isinstance(events, list)
                    else [],
                ),
            )
        unknown = answer.get("unknown")
        for run_id in unknown if isinstance(unknown, list) else ():
            entry = self.entries.get(str(run_id))
            if entry is not None:
                self._finish(entry, None)

    def _finish(self, entry: _Entry, closed: Closed | None) -> None:
        self._forget(entry)
        for waiter in entry.waiters:
            if not waiter.done():
                waiter.set_result(closed)

    def _fail(self, run_ids: list[str], exc: Exception) -> None:
        for run_id in run_ids:
            entry = self.entries[run_id]
            self._forget(entry)
            for waiter in entry.waiters:
                if not waiter.done():
                    waiter.set_exception(exc)

    def _forget(self, entry: _Entry) -> None:
        del self.entries[entry.run_id]
        self.pending.pop(entry.run_id, None)

    def _drop(self, entry: _Entry) -> None:
        """No one awaits the run any more; a held request left carrying nobody ends."""
        self._forget(entry)
        request = entry.request
        if request is not None and not any(
            self._carries(r, request) for r in self.held.get(request, ())
        ):
            request.cancel()  # its slot is free at once: the pending runs may take it
            self.held.pop(request, None)
            if self.pending:
                self._schedule()
        if not self.pending and self._checker is not None:
            checker, self._checker = self._checker, None
            checker.cancel()
