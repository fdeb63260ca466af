"""Activity deadlines enforced by the scheduler sweep (engine-semantics.md §6.3)."""

from __future__ import annotations

from typing import Any

from server_engine_helpers import FakeClock, complete, owner, start, worker

from durable_workflow.server.engine import (
    activities,
    activity_heartbeats,
    activity_outcomes,
    run_views,
    timers,
    workflow_tasks,
)
from durable_workflow.server.engine.engine import Engine


def _schedule(engine: Engine, **command: Any) -> dict[str, Any]:
    start(engine)
    w = worker(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    status, body = complete(
        engine, task, {"type": "schedule_activity", "activity_type": "slow", **command}
    )
    assert status == 200, body
    return w


def _types(engine: Engine) -> list[str]:
    run_id = engine.tx(run_views.describe_workflow, "default", "wf-1")["run_id"]
    events = engine.tx(
        run_views.history_page, engine.config, "default", "wf-1", run_id, page_size=1000
    )["events"]
    return [e["event_type"] for e in events]


def test_start_to_close_timeout_retries_then_times_out(engine: Engine, clock: FakeClock) -> None:
    w = _schedule(
        engine, start_to_close_timeout=10, retry_policy={"max_attempts": 2, "backoff_seconds": [1]}
    )
    first = engine.tx(activities.claim, engine.config, w)
    assert first is not None
    due = engine.tx(timers.next_due_at)
    assert due is not None and (due - clock.now).total_seconds() == 10
    clock.advance(10)
    assert engine.tx(timers.run_due_work) == 1
    assert _types(engine)[-1] == "ActivityRetryScheduled"
    late = engine.tx(activity_outcomes.complete, "default", first["task_id"], owner(first))
    assert late[0] == 409 and late[1]["reason"] == "stale_attempt"
    clock.advance(1)
    second = engine.tx(activities.claim, engine.config, w)
    assert second is not None and second["attempt_number"] == 2
    clock.advance(10)
    engine.tx(timers.run_due_work)
    assert _types(engine)[-1] == "ActivityTimedOut"
    resumed = engine.tx(workflow_tasks.claim, engine.config, w)
    assert resumed is not None and resumed["workflow_wait_kind"] is None
    timed_out = resumed["history_events"][-1]["payload"]
    assert timed_out["timeout_kind"] == "start_to_close"
    assert timed_out["failure_category"] == "timeout"


def test_schedule_to_close_is_terminal_even_with_attempts_left(
    engine: Engine, clock: FakeClock
) -> None:
    w = _schedule(engine, schedule_to_close_timeout=30, retry_policy={"max_attempts": 5})
    assert engine.tx(activities.claim, engine.config, w) is not None
    clock.advance(30)
    engine.tx(timers.run_due_work)
    assert _types(engine)[-1] == "ActivityTimedOut"


def test_heartbeat_timeout_is_not_extended_by_heartbeats(engine: Engine, clock: FakeClock) -> None:
    w = _schedule(engine, heartbeat_timeout=5, start_to_close_timeout=60)
    act = engine.tx(activities.claim, engine.config, w)
    assert act is not None
    clock.advance(4)
    assert (
        engine.tx(
            activity_heartbeats.heartbeat, engine.config, "default", act["task_id"], owner(act)
        )[0]
        == 200
    )
    clock.advance(1)
    engine.tx(timers.run_due_work)
    assert _types(engine)[-1] == "ActivityTimedOut"


def test_schedule_to_start_timeout_of_an_unclaimed_activity(
    engine: Engine, clock: FakeClock
) -> None:
    _schedule(engine, schedule_to_start_timeout=3)
    clock.advance(3)
    engine.tx(timers.run_due_work)
    assert _types(engine)[-1] == "ActivityTimedOut"
