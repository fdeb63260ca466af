"""Waiting for a workflow's result by following its history (``Client.get_result``).

The history endpoint's ``wait_new_event`` long poll holds a request until the run
records a new event, so a result arrives one round trip after the workflow
closes instead of up to ``poll_interval`` later. A server that answers the long
poll at once with nothing new (one without it) or refuses the parameter is read
every ``poll_interval`` instead, which is the drop-in behaviour of upstream.
A history longer than one page is read page by page, and a continue-as-new
chain is followed to its last run.

Where the dev server advertises ``closed_runs_wait``, the waits of one client share
a few held requests instead (``_closed_runs``); a run that server does not know
takes the path above.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from durable_workflow import errors
from durable_workflow._dev_extensions import CLOSED_RUNS_WAIT, HISTORY_WAIT_FOR_CLOSE
from durable_workflow._transport._slots import Slots
from durable_workflow.client import _client
from durable_workflow.client._closed_runs import hub_of
from durable_workflow.client._history import TerminalOutcome, terminal_outcome
from durable_workflow.client._results import TERMINAL_STATUSES, WorkflowRun
from durable_workflow.client._results._parse import as_list, as_str

__all__ = ["wait_for_result"]

# History page size for the result reader (the server's maximum).
PAGE_SIZE = 1000

# Result long polls one client holds at once. Each holds a pooled connection until
# its run moves (or closes, on the dev server) or the server's poll timeout; past this
# many (well inside the transport's 100 requests in flight, which the client's other
# calls and an in-process worker share) further waiters queue for a slot, reading once every
# poll_interval while they wait, rather than queue for the pool behind held requests.
HELD_LONG_POLLS = 64


_held: weakref.WeakKeyDictionary[Any, Slots] = weakref.WeakKeyDictionary()


def _slots(client: _client.Client) -> Slots:
    slots = _held.get(client)
    if slots is None:
        slots = _held[client] = Slots(HELD_LONG_POLLS)
    return slots


async def _held_read(
    client: _client.Client, reader: _RunReader, deadline: _Deadline, within: float
) -> int | None:
    """A long-poll read under one of the client's slots; None when no slot came in time."""
    slots = _slots(client)
    if not await slots.take(min(within, deadline.remaining())):
        return None
    try:
        return await deadline.run(reader.read(wait=True))
    finally:
        slots.give()


T = TypeVar("T")

# The dev server's extension and its query parameter (docs/compat.md).
WAIT_FOR_CLOSE = "wait_for_close"


def page_token(sequence: int) -> str:
    """The protocol's history page token: base64 of the last sequence already read."""
    return base64.b64encode(str(sequence).encode("ascii")).decode("ascii")


class _Deadline:
    """The caller's ``timeout``, applied to every request (a long poll may outlast it)."""

    def __init__(self, timeout: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.at = self.loop.time() + timeout

    def remaining(self) -> float:
        return self.at - self.loop.time()

    async def run(self, call: Awaitable[T]) -> T:
        remaining = self.remaining()
        if remaining <= 0:
            if asyncio.iscoroutine(call):
                call.close()
            raise asyncio.TimeoutError
        return await asyncio.wait_for(call, remaining)


class _RunReader:
    """Reads one run's history from the last event seen, long-polling at its end."""

    def __init__(
        self, client: _client.Client, workflow_id: str, run_id: str, *, until_closed: bool = False
    ) -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.run_id = run_id
        # The server holds a long poll until the run closes (its advertised extension).
        self.until_closed = until_closed
        self.payload_codec: str | None = None  # sent along by such a server
        self.last_sequence = 0
        self.next_token: str | None = None
        self.outcome: TerminalOutcome | None = None

    async def read(self, *, wait: bool) -> int:
        """One history page after the last event seen; returns how many events it held.

        ``next_token`` is the server's token when it says more pages follow.
        """
        token = self.next_token or (page_token(self.last_sequence) if self.last_sequence else None)
        if wait and self.until_closed:
            query: dict[str, Any] = {"page_size": PAGE_SIZE, "wait_new_event": 1, WAIT_FOR_CLOSE: 1}
            if token:
                query["next_page_token"] = token
            answer = await self.client._call(
                "workflow.history",
                path_params={"workflowId": self.workflow_id, "runId": self.run_id},
                query=query,
            )
            page = answer if isinstance(answer, dict) else {}
            codec = page.get("payload_codec")
            self.payload_codec = codec if isinstance(codec, str) and codec else None
        else:
            page = await self.client.get_history_page(
                self.workflow_id,
                self.run_id,
                page_size=PAGE_SIZE,
                next_page_token=token,
                wait_new_event=True if wait else None,
            )
        events = [e for e in as_list(page.get("events")) if isinstance(e, dict)]
        for event in events:
            sequence = event.get("sequence")
            if isinstance(sequence, int) and sequence > self.last_sequence:
                self.last_sequence = sequence
        more = page.get("next_page_token")
        self.next_token = more if isinstance(more, str) and more and more != token else None
        found = terminal_outcome(events)
        if found is not None:
            self.outcome = found
        return len(events)


async def wait_for_result(
    self: _client.Client,
    workflow_id: str,
    run_id: str | None,
    *,
    poll_interval: float,
    timeout: float,
    resolve: Callable[[TerminalOutcome, str | None], Any],
    timeout_message: Callable[[str | None, str | None], Awaitable[str]] | None = None,
) -> Any:
    """Follow the run (and its continue-as-new successors) until one closes for good.

    ``timeout_message(run_id, last_status)`` words the ``TimeoutError`` (default: the
    workflow, the timeout and its current status).
    """
    deadline = _Deadline(timeout)
    status: str | None = None
    codecs: dict[str, str | None] = {}  # run id -> payload codec, when already described
    codecs_pending: dict[str, asyncio.Future[WorkflowRun]] = {}
    prefetched: list[asyncio.Future[WorkflowRun]] = []
    try:
        if run_id is None:
            execution = await deadline.run(self.describe_workflow(workflow_id))
            status, run_id = execution.status, execution.run_id
            if run_id:
                codecs[run_id] = execution.payload_codec
        if not run_id:
            return await _closed_without_run(self, workflow_id, deadline, poll_interval, resolve)
        profile = await self.server_profile()
        while profile.dev_extension(CLOSED_RUNS_WAIT):
            closed = await deadline.run(hub_of(self).wait(workflow_id, run_id, poll_interval))
            if closed is None:
                break  # a run the server does not know: the history path answers for it
            found = terminal_outcome(closed.events)
            if found is None:
                return _closed_without_event(workflow_id, closed.status)
            if found.continued_to_run_id:
                run_id = found.continued_to_run_id
                continue
            codec = closed.payload_codec
            if codec is None:
                codec = await _run_codec(self, workflow_id, run_id, found, deadline, None)
            return resolve(found, codec)
        long_poll = True
        until_closed = profile.dev_extension(HISTORY_WAIT_FOR_CLOSE)
        while True:
            reader = _RunReader(self, workflow_id, run_id, until_closed=until_closed)
            # The history so far, page after page, before waiting for anything new (a
            # server holding until the run closes answers the first request with it all).
            if not until_closed or await _held_read(self, reader, deadline, poll_interval) is None:
                await deadline.run(reader.read(wait=False))
            while reader.next_token:
                await deadline.run(reader.read(wait=False))
            if reader.payload_codec is not None:
                codecs[run_id] = reader.payload_codec
            if reader.outcome is None and run_id not in codecs:
                # The run's codec, needed for a bare output blob, read while the run works
                # instead of after it closes.
                described = asyncio.ensure_future(self.describe_workflow_run(workflow_id, run_id))
                prefetched.append(described)
                codecs_pending[run_id] = described
            while reader.outcome is None:
                long_poll, status = await _wait_for_events(
                    self, reader, deadline, poll_interval, long_poll
                )
                if status is not None and status.lower() in TERMINAL_STATUSES:
                    # Closed without a terminal event in its history (a pruned history).
                    await deadline.run(reader.read(wait=False))
                    if reader.outcome is None:
                        return _closed_without_event(workflow_id, status)
            if reader.outcome.continued_to_run_id:
                run_id = reader.outcome.continued_to_run_id
                continue
            if reader.payload_codec is not None:
                codecs[run_id] = reader.payload_codec
            if reader.run_id not in codecs:
                codecs[reader.run_id] = await _run_codec(
                    self,
                    workflow_id,
                    reader.run_id,
                    reader.outcome,
                    deadline,
                    codecs_pending.get(reader.run_id),
                )
            return resolve(reader.outcome, codecs[reader.run_id])
    except asyncio.TimeoutError:
        status = await _last_status(self, workflow_id, status)
        if timeout_message is not None:
            raise TimeoutError(await timeout_message(run_id, status)) from None
        raise TimeoutError(
            f"workflow {workflow_id} did not finish within {timeout:g}s (last status: {status})"
        ) from None
    finally:
        for task in prefetched:
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()  # retrieved: a failed prefetch is not an unhandled error


async def _wait_for_events(
    self: _client.Client,
    reader: _RunReader,
    deadline: _Deadline,
    poll_interval: float,
    long_poll: bool,
) -> tuple[bool, str | None]:
    """Read until the run has new events; returns (long poll still usable, run status).

    The status is read only when a wait ends with nothing new: a long poll the server
    held to its own timeout, or one poll interval of the fallback.
    """
    started = deadline.loop.time()
    held: int | None = None
    try:
        if long_poll:
            held = await _held_read(self, reader, deadline, poll_interval)
        count = held if held is not None else await deadline.run(reader.read(wait=False))
    except errors.InvalidArgument as exc:
        if not long_poll or "wait_new_event" not in (exc.errors or {}):
            raise
        return False, None  # a server that does not know the parameter
    while reader.next_token:
        count += await deadline.run(reader.read(wait=False))
    if count:
        return long_poll, None
    if long_poll and held is None:
        return long_poll, None  # waited poll_interval for a slot, then read once: go again
    idle = poll_interval - (deadline.loop.time() - started)
    if idle > 0:
        # Answered at once with nothing new: this server does not hold the request.
        await deadline.run(asyncio.sleep(idle))
    run = await deadline.run(self.describe_workflow_run(reader.workflow_id, reader.run_id))
    return long_poll, run.status


async def _run_codec(
    self: _client.Client,
    workflow_id: str,
    run_id: str,
    outcome: TerminalOutcome,
    deadline: _Deadline,
    described: asyncio.Future[WorkflowRun] | None,
) -> str | None:
    """The run's payload codec, read only for a bare (codec-less) output blob.

    ``described`` is the run's description requested while it was open, if any.
    """
    if outcome.event_type != "WorkflowCompleted":
        return None
    output = outcome.payload.get("output")
    if output is None or outcome.payload.get("payload_codec"):
        return None
    if isinstance(output, Mapping) and output.get("codec"):
        return None
    if described is not None:
        with contextlib.suppress(Exception):
            return (await deadline.run(asyncio.shield(described))).payload_codec
    run = await deadline.run(self.describe_workflow_run(workflow_id, run_id))
    return run.payload_codec


async def _closed_without_run(
    self: _client.Client,
    workflow_id: str,
    deadline: _Deadline,
    poll_interval: float,
    resolve: Callable[[TerminalOutcome, str | None], Any],
) -> Any:
    """A describe without a run id (an odd server): poll it until a run id appears."""
    while True:
        await deadline.run(asyncio.sleep(poll_interval))
        execution = await deadline.run(self.describe_workflow(workflow_id))
        if execution.run_id:
            return await wait_for_result(
                self,
                workflow_id,
                execution.run_id,
                poll_interval=poll_interval,
                timeout=max(deadline.remaining(), 0.0),
                resolve=resolve,
            )


def _closed_without_event(workflow_id: str, status: str) -> Any:
    if status.lower() != "completed":
        raise errors.WorkflowFailed(f"workflow {workflow_id} closed with status {status}")
    return None


async def _last_status(self: _client.Client, workflow_id: str, known: str | None) -> str | None:
    """The workflow's status for the timeout message (best effort, briefly)."""
    with contextlib.suppress(Exception):
        execution = await asyncio.wait_for(self.describe_workflow(workflow_id), 5.0)
        return as_str(execution.status) or known
    return known
