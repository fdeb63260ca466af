"""Tail-only history reads for cached runs (worker._history), against a MockTransport server.

The fake server pages history exactly as worker-protocol.md §9.3/§9.4 describe
(token = base64 of the last sequence on the page; events after it; 400
``invalid_page_token`` for a malformed token), with switches for the ways a
real server may differ: refusing tokens it did not issue, or serving a tail
that does not continue where the cache stopped.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import httpx
import pytest

from durable_workflow import errors, serializer, workflow
from durable_workflow.client import Client
from durable_workflow.metrics import CLIENT_REQUESTS, InMemoryMetrics
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow.worker import Worker
from durable_workflow.worker._history import (
    FIRST_PAGE_SIZE,
    PAGE_SIZE,
    HistoryReader,
    page_token_after,
)
from durable_workflow.worker._workflow_tasks import WorkflowTaskRunner
from durable_workflow.workflow._replay.history_view import HistoryView
from durable_workflow.workflow._replay.sticky import WorkflowCache

HISTORY_PATH = "/api/worker/workflow-tasks/wt-1/history"


@workflow.defn(name="unit-steps")
class Steps:
    def run(self, ctx: Any, steps: int) -> Any:
        total = 0
        for i in range(steps):
            total += yield ctx.schedule_activity("unit-echo", [i])
        return total


def steps_history(done: int) -> list[dict[str, Any]]:
    """WorkflowStarted, then ``done`` scheduled+completed activities (sequences 1..2*done+1)."""
    events: list[dict[str, Any]] = [
        {"sequence": 1, "event_type": "WorkflowStarted", "payload": {"workflow_type": "unit-steps"}}
    ]
    for i in range(done):
        ids = {"activity_type": "unit-echo", "sequence": i + 1, "activity_execution_id": f"ae-{i}"}
        events.append(
            {"sequence": len(events) + 1, "event_type": "ActivityScheduled", "payload": dict(ids)}
        )
        events.append(
            {
                "sequence": len(events) + 1,
                "event_type": "ActivityCompleted",
                "payload": {**ids, "result": serializer.encode(i), "payload_codec": "avro"},
            }
        )
    return events


class HistoryServer:
    """Serves one run's history pages; records every request body."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.bodies: list[dict[str, Any]] = []
        self.issued: set[str] = set()
        self.refuse_unissued = False
        self.skip_in_tail = 0  # after a token it did not issue, skip this many events
        self.answer: httpx.Response | None = None

    def first_page(self, size: int = FIRST_PAGE_SIZE) -> tuple[list[dict[str, Any]], str | None]:
        page = self.events[:size]
        return page, self._token_after(page)

    def _token_after(self, page: list[dict[str, Any]]) -> str | None:
        if not page or page[-1]["sequence"] >= self.events[-1]["sequence"]:
            return None
        token = page_token_after(page[-1]["sequence"])
        self.issued.add(token)
        return token

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == HISTORY_PATH, request.url.path
        body = json.loads(request.content)
        self.bodies.append(body)
        if self.answer is not None:
            return self.answer
        token = body["next_history_page_token"]
        invalid = httpx.Response(
            400, json={"reason": "invalid_page_token", "error": "bad token", "task_id": "wt-1"}
        )
        if self.refuse_unissued and token not in self.issued:
            return invalid
        try:
            after = base64.b64decode(token, validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            return invalid
        if not after.isdigit():
            return invalid
        size = int(body.get("history_page_size") or 500)
        rest = [e for e in self.events if e["sequence"] > int(after)]
        skip = self.skip_in_tail if token not in self.issued else 0
        page = rest[skip : skip + size]
        return httpx.Response(
            200,
            json={
                "task_id": "wt-1",
                "workflow_task_attempt": 1,
                "history_events": page,
                "total_history_events": self.events[-1]["sequence"],
                "next_history_page_token": self._token_after(page),
            },
        )

    def tokens(self) -> list[str]:
        return [body["next_history_page_token"] for body in self.bodies]


def make_client(handler: Any, **kw: Any) -> Client:
    return Client(
        "http://dw.test",
        retry_policy=TransportRetryPolicy(max_attempts=1),
        transport=httpx.MockTransport(handler),
        **kw,
    )


def task_for(server: HistoryServer) -> dict[str, Any]:
    page, token = server.first_page()
    return {
        "task_id": "wt-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_task_attempt": 1,
        "workflow_type": "unit-steps",
        "payload_codec": "avro",
        "arguments": serializer.envelope([10_000]),
        "history_events": page,
        "next_history_page_token": token,
        "last_history_sequence": server.events[-1]["sequence"],
        "total_history_events": server.events[-1]["sequence"],
        "lease_owner": "w-1",
        "workflow_update_id": None,
    }


def cache_seen_through(done: int) -> WorkflowCache:
    """A cache holding run-1 after replaying ``done`` activities."""
    cache = WorkflowCache()
    cache.get_or_replay(
        "run-1", Steps, steps_history(done), [10_000], workflow_id="wf-1", payload_codec="avro"
    )
    assert "run-1" in cache
    return cache


async def read(
    server: HistoryServer, cache: WorkflowCache | None, **task_overrides: Any
) -> tuple[Any, HistoryReader]:
    async with make_client(server) as client:
        reader = HistoryReader(client, cache)
        return await reader.read({**task_for(server), **task_overrides}), reader


def test_page_token_matches_the_protocol_example() -> None:
    assert page_token_after(500) == "NTAw"


def test_seen_history_is_the_consumed_events_or_none() -> None:
    cache = cache_seen_through(3)
    assert cache.seen_history("run-1") == steps_history(3)
    assert cache.seen_history("run-other") is None
    seen = cache.seen_history("run-1")
    assert isinstance(seen, HistoryView)
    assert not hasattr(seen, "clear") and not hasattr(seen, "append")  # read-only


def test_a_cache_hit_extends_the_cached_events_without_copying_them() -> None:
    """The quadratic copy is gone: each task adds only its tail to one list."""
    cache = cache_seen_through(3)
    first = cache.seen_history("run-1")
    assert first is not None
    full = steps_history(5)
    outcome = cache.get_or_replay(
        "run-1", Steps, first.with_tail(full[len(first) :]), [10_000],
        workflow_id="wf-1", payload_codec="avro",
    )  # fmt: skip
    assert not outcome.is_terminal and cache.stats.hits == 1
    second = cache.seen_history("run-1")
    assert second is not None and second.base is first.base  # the same list, extended
    assert second == full and len(first) == len(steps_history(3))  # old view unchanged


def test_history_view_reads_like_the_list_it_stands_for() -> None:
    base = [{"n": i} for i in range(5)]
    view = HistoryView(base, 3).with_tail([{"n": 3}, {"n": 9}])
    whole = [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}, {"n": 9}]
    base.append({"n": 99})  # the cache's list grows; the view keeps its items
    assert list(view) == whole and view == whole and len(view) == 5
    assert view[-1] == {"n": 9} and view[2] == {"n": 2}
    assert view[3:] == whole[3:] and view[1:4] == whole[1:4] and view[::2] == whole[::2]
    assert view.with_tail([{"n": 10}]) == [*whole, {"n": 10}]
    with pytest.raises(IndexError):
        view[5]
    with pytest.raises(ValueError):
        HistoryView(base, 7)


async def test_cached_run_fetches_only_the_tail() -> None:
    server = HistoryServer(steps_history(800))  # 1601 events
    events, reader = await read(server, cache_seen_through(700))  # seen through 1401
    assert events == server.events
    assert server.tokens() == [page_token_after(1401)]
    assert server.bodies[0]["history_page_size"] == PAGE_SIZE
    assert (reader.tail_reads, reader.tail_fallbacks) == (1, 0)


async def test_long_tail_is_paged_to_its_end() -> None:
    server = HistoryServer(steps_history(1200))  # 2401 events
    events, reader = await read(server, cache_seen_through(100))  # seen through 201
    assert events == server.events
    assert server.tokens() == [
        page_token_after(201),
        page_token_after(1201),
        page_token_after(2201),
    ]
    assert reader.tail_reads == 1


async def test_refused_crafted_token_falls_back_to_paging_from_the_poll_token() -> None:
    server = HistoryServer(steps_history(800))
    server.refuse_unissued = True
    events, reader = await read(server, cache_seen_through(700))
    assert events == server.events
    assert server.tokens() == [
        page_token_after(1401),
        page_token_after(FIRST_PAGE_SIZE),
        page_token_after(FIRST_PAGE_SIZE + PAGE_SIZE),
    ]
    assert (reader.tail_reads, reader.tail_fallbacks) == (0, 1)


@pytest.mark.parametrize("reported", [True, False], ids=["with-last-seq", "without-last-seq"])
async def test_tail_not_starting_after_the_cache_falls_back(reported: bool) -> None:
    server = HistoryServer(steps_history(800))
    server.skip_in_tail = 1
    overrides = {} if reported else {"last_history_sequence": None}
    events, reader = await read(server, cache_seen_through(700), **overrides)
    assert events == server.events
    assert server.tokens() == [
        page_token_after(1401),
        page_token_after(FIRST_PAGE_SIZE),
        page_token_after(FIRST_PAGE_SIZE + PAGE_SIZE),
    ]
    assert (reader.tail_reads, reader.tail_fallbacks) == (0, 1)


async def test_tail_that_ends_before_the_reported_last_sequence_falls_back() -> None:
    server = HistoryServer(steps_history(800))
    task = task_for(server)
    task["last_history_sequence"] = server.events[-1]["sequence"] + 5
    async with make_client(server) as client:
        reader = HistoryReader(client, cache_seen_through(700))
        events = await reader.read(task)
    assert events == server.events
    assert server.tokens()[:2] == [page_token_after(1401), page_token_after(FIRST_PAGE_SIZE)]
    assert reader.tail_fallbacks == 1


async def test_cache_miss_pages_from_the_poll_token_with_large_pages() -> None:
    server = HistoryServer(steps_history(800))
    events, reader = await read(server, WorkflowCache())
    assert events == server.events
    assert server.tokens() == [
        page_token_after(FIRST_PAGE_SIZE),
        page_token_after(FIRST_PAGE_SIZE + PAGE_SIZE),
    ]
    assert all(body["history_page_size"] == PAGE_SIZE for body in server.bodies)
    assert reader.tail_reads == 0


async def test_no_cache_pages_normally() -> None:
    server = HistoryServer(steps_history(100))
    events, _ = await read(server, None)
    assert events == server.events
    assert server.tokens() == [page_token_after(FIRST_PAGE_SIZE)]


async def test_first_page_beyond_the_cached_events_uses_the_poll_token() -> None:
    server = HistoryServer(steps_history(300))
    events, reader = await read(server, cache_seen_through(5))  # seen through 11 < 20
    assert events == server.events
    assert server.tokens() == [page_token_after(FIRST_PAGE_SIZE)]
    assert reader.tail_reads == 0


async def test_cache_that_disagrees_with_the_first_page_is_not_trusted() -> None:
    server = HistoryServer(steps_history(300))
    server.events[FIRST_PAGE_SIZE - 1]["payload"]["activity_execution_id"] = "ae-other"
    events, reader = await read(server, cache_seen_through(200))
    assert events == server.events
    assert server.tokens() == [page_token_after(FIRST_PAGE_SIZE)]
    assert reader.tail_reads == 0


async def test_no_new_events_after_the_cache_is_an_empty_tail() -> None:
    server = HistoryServer(steps_history(300))
    events, reader = await read(server, cache_seen_through(300))
    assert events == server.events
    assert server.tokens() == [page_token_after(601)]
    assert reader.tail_reads == 1


async def test_whole_history_in_the_first_page_needs_no_call() -> None:
    server = HistoryServer(steps_history(8))  # 17 events, within FIRST_PAGE_SIZE
    events, _ = await read(server, cache_seen_through(5))
    assert events == server.events
    assert server.bodies == []


async def test_ownership_errors_on_the_tail_are_not_swallowed() -> None:
    server = HistoryServer(steps_history(800))
    server.answer = httpx.Response(409, json={"reason": "lease_expired", "error": "expired"})
    with pytest.raises(errors.DurableWorkflowError):
        await read(server, cache_seen_through(700))
    assert len(server.bodies) == 1


class Completions:
    """History pages from a HistoryServer, plus recorded workflow-task completions."""

    def __init__(self, history: HistoryServer) -> None:
        self.history = history
        self.completed: list[list[dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/complete"):
            self.completed.append(json.loads(request.content)["commands"])
            return httpx.Response(200, json={"outcome": "completed"})
        return self.history(request)


async def test_runner_with_tail_reads_sends_what_an_uncached_runner_sends() -> None:
    cache = WorkflowCache()
    cached_reads = 0
    for done in (0, 150, 151, 700, 701, 702):
        history = HistoryServer(steps_history(done))
        plain = Completions(HistoryServer(steps_history(done)))
        cached = Completions(history)
        async with make_client(cached) as client:
            runner = WorkflowTaskRunner(client, "q", {"unit-steps": Steps}, cache=cache)
            await runner.handle(task_for(history))
            cached_reads += runner._history.tail_reads
        async with make_client(plain) as client:
            uncached = WorkflowTaskRunner(client, "q", {"unit-steps": Steps}, cache=None)
            await uncached.handle(task_for(plain.history))
        assert cached.completed == plain.completed
        (commands,) = cached.completed
        assert commands[0]["type"] == "schedule_activity"
        assert serializer.decode_envelope(commands[0]["arguments"]) == [done]
    # 150 was cached only through sequence 1 (inside the first page); the rest read tails.
    assert cached_reads == 4
    assert cache.stats.fallbacks == 0


async def test_worker_polls_with_a_small_first_page_only_when_caching() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"task": None})

    async with make_client(handler) as client:
        await Worker(client, task_queue="q")._poll_workflow()
        await Worker(client, task_queue="q", max_cached_workflows=0)._poll_workflow()
    assert bodies[0]["history_page_size"] == FIRST_PAGE_SIZE
    assert "history_page_size" not in bodies[1]


async def test_client_metrics_reach_the_transport_without_the_worker() -> None:
    recorder = InMemoryMetrics()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"task": None})

    async with make_client(handler, metrics=recorder) as client:
        assert client._transport.metrics is recorder  # no Worker was built
        await client.poll_workflow_task(worker_id="w-1", task_queue="q", history_page_size=5)
        worker = Worker(client, task_queue="q")
        await worker._poll_workflow()
        assert client._transport.metrics is recorder
    assert recorder.counter_value(CLIENT_REQUESTS, {"plane": "worker"}) == 2
