"""The ``eager_workflow_tasks`` extension in the engine: a recorded completion (workflow
task, activity complete or fail) asking for workflow tasks gets those its worker's poll
would get, leased to that worker, claimed in the completion's transaction."""

from __future__ import annotations

from typing import Any

import pytest
from server_engine_helpers import owner, start, worker

from durable_workflow.server.engine import (
    activities,
    activity_outcomes,
    eager_workflow_tasks,
    workflow_tasks,
)
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.engine.errors import Outcome, ValidationFailed
from durable_workflow.server.store.tx import Tx

FINISH = {"type": "complete_workflow", "result": None}
SCHEDULE = {"type": "schedule_activity", "activity_type": "a", "queue": "q"}


def _first_task(engine: Engine) -> dict[str, Any]:
    """wf-1's first workflow task, leased to w1 (which runs greetings and activity a)."""
    start(engine, "wf-1")
    w1 = worker(engine, "w1", supported_workflow_types=["greeting"], supported_activity_types=["a"])
    task = engine.tx(workflow_tasks.claim, engine.config, w1)
    assert task is not None and task["workflow_id"] == "wf-1"
    return task


def _complete(
    engine: Engine, task: dict[str, Any], *commands: dict[str, Any], **extra: Any
) -> Outcome:
    body = {
        "lease_owner": task["lease_owner"],
        "workflow_task_attempt": task["workflow_task_attempt"],
        "commands": list(commands),
        **extra,
    }

    def record(tx: Tx) -> Outcome:
        return workflow_tasks.complete(tx, engine.config, "default", task["task_id"], body)

    return engine.tx(eager_workflow_tasks.record_then_claim, engine.config, "default", body, record)


def _activity_outcome(engine: Engine, outcome: str, **extra: Any) -> Outcome:
    """wf-1 schedules activity a; w1 runs it and reports ``outcome`` with ``extra``."""
    status, _ = _complete(engine, _first_task(engine), SCHEDULE)
    assert status == 200
    leased = engine.tx(activities.claim, engine.config, worker(engine, "w1"))
    assert leased is not None
    body: dict[str, Any] = {**owner(leased), **extra}
    if outcome == "fail":
        body["failure"] = {"message": "boom", "non_retryable": True}
    record = activity_outcomes.complete if outcome == "complete" else activity_outcomes.fail

    def apply(tx: Tx) -> Outcome:
        return record(tx, "default", leased["task_id"], body)

    return engine.tx(eager_workflow_tasks.record_then_claim, engine.config, "default", body, apply)


def _polled(engine: Engine, worker_id: str = "w2") -> list[str]:
    """The workflow ids of every workflow task a fresh worker of queue q can still poll."""
    w = worker(engine, worker_id)
    found = []
    while (task := engine.tx(workflow_tasks.claim, engine.config, w)) is not None:
        found.append(task["workflow_id"])
    return found


def test_a_completion_gets_another_runs_ready_task_leased_to_its_worker(engine: Engine) -> None:
    task = _first_task(engine)
    start(engine, "wf-2")
    status, body = _complete(engine, task, FINISH, workflow_task_slots=1, history_page_size=1)
    assert status == 200 and body["recorded"] is True, body
    (eager,) = body["workflow_tasks"]
    assert eager["workflow_id"] == "wf-2" and eager["lease_owner"] == "w1"
    assert eager["workflow_task_attempt"] == 1 and eager["task_queue"] == "q"
    # The poll's task shape, with the page size asked for like a poll's.
    assert len(eager["history_events"]) == 1 and eager["next_history_page_token"]
    assert _polled(engine) == []
    # The eager task is the worker's to complete, as a polled one would be.
    status, done = _complete(engine, eager, FINISH)
    assert status == 200 and done["run_status"] == "completed"


def test_only_the_workers_queue_and_types_and_no_more_than_asked(engine: Engine) -> None:
    task = _first_task(engine)
    start(engine, "wf-other-type", workflow_type="other")
    start(engine, "wf-other-queue", task_queue="elsewhere")
    start(engine, "wf-2")
    start(engine, "wf-3")
    status, body = _complete(engine, task, FINISH, workflow_task_slots=5)
    assert status == 200
    assert sorted(t["workflow_id"] for t in body["workflow_tasks"]) == ["wf-2", "wf-3"]
    assert _polled(engine) == ["wf-other-type"]


def test_the_slot_count_bounds_the_claims(engine: Engine) -> None:
    task = _first_task(engine)
    start(engine, "wf-2")
    start(engine, "wf-3")
    status, body = _complete(engine, task, FINISH, workflow_task_slots=1)
    assert status == 200 and len(body["workflow_tasks"]) == 1
    assert len(_polled(engine)) == 1


def test_zero_slots_and_no_field_claim_nothing(engine: Engine) -> None:
    task = _first_task(engine)
    start(engine, "wf-2")
    status, body = _complete(engine, task, SCHEDULE, workflow_task_slots=0)
    assert status == 200 and body["workflow_tasks"] == []
    status, plain = _complete(engine, _only_task(engine, "wf-2"), FINISH)
    assert status == 200 and "workflow_tasks" not in plain


def _only_task(engine: Engine, workflow_id: str) -> dict[str, Any]:
    task = engine.tx(workflow_tasks.claim, engine.config, worker(engine, "w1"))
    assert task is not None and task["workflow_id"] == workflow_id
    return task


@pytest.mark.parametrize("slots", ["2", -1, True, 1.5, None])
def test_a_bad_slot_count_is_named_and_nothing_is_applied(engine: Engine, slots: Any) -> None:
    task = _first_task(engine)
    start(engine, "wf-2")
    with pytest.raises(ValidationFailed) as caught:
        _complete(engine, task, FINISH, workflow_task_slots=slots)
    assert list(caught.value.errors) == ["workflow_task_slots"]
    # The completion was not applied (the same one is accepted now) and nothing leased.
    status, body = _complete(engine, task, FINISH)
    assert status == 200 and body["run_status"] == "completed"
    assert _polled(engine) == ["wf-2"]


def test_a_rejected_completion_claims_nothing(engine: Engine) -> None:
    task = _first_task(engine)
    start(engine, "wf-2")
    stale = {**task, "workflow_task_attempt": 2}
    status, body = _complete(engine, stale, FINISH, workflow_task_slots=1)
    assert status == 409 and "workflow_tasks" not in body
    assert _polled(engine) == ["wf-2"]


def test_a_run_with_a_leased_task_is_not_handed_out(engine: Engine) -> None:
    task = _first_task(engine)
    start(engine, "wf-2")
    held = engine.tx(workflow_tasks.claim, engine.config, worker(engine, "w2"))
    assert held is not None and held["workflow_id"] == "wf-2"
    status, body = _complete(engine, task, FINISH, workflow_task_slots=1)
    assert status == 200 and body["workflow_tasks"] == []


@pytest.mark.parametrize("outcome", ["complete", "fail"])
def test_an_activity_outcome_gets_the_workflow_task_it_resumed(
    engine: Engine, outcome: str
) -> None:
    status, body = _activity_outcome(engine, outcome, workflow_task_slots=1)
    assert status == 200 and body["recorded"] is True, body
    (eager,) = body["workflow_tasks"]
    assert eager["workflow_id"] == "wf-1" and eager["lease_owner"] == "w1"
    assert eager["task_id"] == body["next_task_id"]
    kinds = [e["event_type"] for e in eager["history_events"]]
    assert kinds[-1] == ("ActivityCompleted" if outcome == "complete" else "ActivityFailed")
    assert _polled(engine) == []


def test_an_activity_outcome_without_the_field_is_unchanged(engine: Engine) -> None:
    status, body = _activity_outcome(engine, "complete")
    assert status == 200 and "workflow_tasks" not in body
    assert _polled(engine) == ["wf-1"]


def test_a_bad_slot_count_on_an_activity_outcome_applies_nothing(engine: Engine) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _activity_outcome(engine, "complete", workflow_task_slots=-2)
    assert list(caught.value.errors) == ["workflow_task_slots"]
    assert _polled(engine) == []  # the activity result was not recorded: no resume task
