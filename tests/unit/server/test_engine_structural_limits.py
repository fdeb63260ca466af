"""Every advertised structural limit is enforced (cluster-info.md §3.6, worker-protocol.md §9.5)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_engine_helpers import FakeClock, complete, start, worker

from durable_workflow.server.config import ServerConfig, StructuralLimits
from durable_workflow.server.engine import run_views, signals, updates, workflow_tasks
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.http.app import DevServer
from durable_workflow.server.store.database import Store

SMALL = StructuralLimits(
    pending_activity_count=2,
    pending_child_count=1,
    pending_timer_count=2,
    pending_update_count=1,
    command_batch_size=3,
)


@pytest.fixture
def small(tmp_path: Path, clock: FakeClock) -> Iterator[Engine]:
    db = tmp_path / "small.sqlite"
    store = Store(db)
    yield Engine(store, ServerConfig(db_path=db, structural_limits=SMALL), clock=clock)
    store.close()


def _leased(engine: Engine) -> dict[str, Any]:
    task = engine.tx(workflow_tasks.claim, engine.config, worker(engine))
    assert task is not None
    return task


def _activity(n: int) -> dict[str, Any]:
    return {"type": "schedule_activity", "activity_type": f"a{n}", "queue": "q"}


def _timer() -> dict[str, Any]:
    return {"type": "start_timer", "delay_seconds": 60}


def _child() -> dict[str, Any]:
    return {
        "type": "start_child_workflow",
        "workflow_type": "kid",
        "queue": "kids",  # the children's own tasks stay off this test's queue
    }


def _assert_rejected(
    result: tuple[int, dict[str, Any]], kind: str, current: int, limit: int
) -> None:
    status, body = result
    assert status == 422, body
    assert (body["outcome"], body["recorded"], body["reason"]) == (
        "rejected",
        False,
        "structural_limit_exceeded",
    )
    assert (body["limit_kind"], body["current_value"], body["configured_limit"]) == (
        kind,
        current,
        limit,
    )
    assert body["error"] and body["created_task_ids"] == []


def _event_types(engine: Engine, run_id: str) -> list[str]:
    page = engine.tx(run_views.history_page, engine.config, "default", "wf-1", run_id)
    return [e["event_type"] for e in page["events"]]


def test_command_batch_over_the_limit_is_refused_whole(small: Engine) -> None:
    _, started = start(small)
    task = _leased(small)
    before = _event_types(small, started["run_id"])
    side = {"type": "record_side_effect", "result": "x"}
    _assert_rejected(complete(small, task, side, side, side, side), "command_batch_size", 4, 3)
    assert _event_types(small, started["run_id"]) == before
    status, body = complete(small, task, side, side, side)
    assert (status, body["recorded"]) == (200, True)


@pytest.mark.parametrize(
    ("first", "then", "kind", "limit"),
    [
        ([_activity(1)], [_activity(2), _activity(3)], "pending_activity_count", 2),
        ([_timer()], [_timer(), _timer()], "pending_timer_count", 2),
        ([_child()], [_child()], "pending_child_count", 1),
    ],
)
def test_pending_counts_include_what_the_run_already_has(
    small: Engine,
    first: list[dict[str, Any]],
    then: list[dict[str, Any]],
    kind: str,
    limit: int,
) -> None:
    start(small)
    start(small, workflow_id="other")  # another run's open rows never count
    for _ in ("wf-1", "other"):
        status, body = complete(small, _leased(small), *first)
        assert status == 200, body
    small.tx(signals.signal, "default", "wf-1", "poke", {})  # a new workflow task
    _assert_rejected(complete(small, _leased(small), *then), kind, len(first) + len(then), limit)


def test_limits_at_the_defaults_leave_ordinary_completions_alone(engine: Engine) -> None:
    start(engine)
    status, body = complete(engine, _leased(engine), _activity(1), _timer(), _child())
    assert (status, body["recorded"], len(body["created_task_ids"])) == (200, True, 3)


def test_update_beyond_pending_update_count_is_refused_at_admission(small: Engine) -> None:
    start(small)
    first = small.tx(updates.submit, small.config, "default", "wf-1", "bump", {}, None)
    assert first[0] == 202 and first[2] is not None
    status, body, update_id = small.tx(
        updates.submit, small.config, "default", "wf-1", "bump", {}, None
    )
    assert (status, update_id) == (409, None)
    assert (body["reason"], body["rejection_reason"], body["command_status"]) == (
        "structural_limit_exceeded",
        "structural_limit_exceeded",
        "rejected",
    )
    assert (body["limit_kind"], body["current_value"], body["configured_limit"]) == (
        "pending_update_count",
        2,
        1,
    )
    assert body["update_status"] == "rejected" and body["message"]


async def test_cluster_info_advertises_exactly_the_configured_limits(tmp_path: Path) -> None:
    config = ServerConfig(
        db_path=tmp_path / "dev.sqlite",
        max_payload_bytes=1_000_000,
        max_memo_bytes=4096,
        structural_limits=SMALL,
    )
    server = DevServer(config)
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dev") as client:
        info = (await client.get("/api/cluster/info")).json()
    server.store.close()
    assert info["structural_limits"] == {
        **asdict(SMALL),
        "payload_size_bytes": 1_000_000,
        "memo_size_bytes": 4096,
    }
    assert info["limits"]["max_payload_bytes"] == 1_000_000
