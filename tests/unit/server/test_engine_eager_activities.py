"""The ``eager_activity_dispatch`` extension in the engine: a completion asking for
activity tasks gets those it scheduled that its worker could poll, leased to it."""

from __future__ import annotations

from typing import Any

import pytest
from server_engine_helpers import start, worker

from durable_workflow.server.engine import activities, workflow_tasks
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.engine.errors import ValidationFailed


def _schedule(activity_type: str, queue: str = "q") -> dict[str, Any]:
    return {"type": "schedule_activity", "activity_type": activity_type, "queue": queue}


COMMANDS = [_schedule("a"), _schedule("a"), _schedule("b"), _schedule("a", "other")]


def _complete(engine: Engine, **extra: Any) -> tuple[int, dict[str, Any]]:
    start(engine)
    w = worker(engine, supported_activity_types=["a"])
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    body = {
        "lease_owner": task["lease_owner"],
        "workflow_task_attempt": task["workflow_task_attempt"],
        "commands": COMMANDS,
        **extra,
    }
    return engine.tx(workflow_tasks.complete, engine.config, "default", task["task_id"], body)


def _polled(engine: Engine, worker_id: str) -> list[dict[str, Any]]:
    """Every activity task a fresh worker (any type) of queue q can still poll."""
    w = worker(engine, worker_id)
    found = []
    while (task := engine.tx(activities.claim, engine.config, w)) is not None:
        found.append(task)
    return found


def test_only_the_workers_own_queue_and_types_are_leased_up_to_the_slots(engine: Engine) -> None:
    status, body = _complete(engine, eager_activity_slots=5)
    assert status == 200, body
    eager = body["eager_activity_tasks"]
    assert [t["activity_type"] for t in eager] == ["a", "a"]
    assert all(t["lease_owner"] == "w1" and t["attempt_number"] == 1 for t in eager)
    assert {t["task_id"] for t in eager} <= set(body["created_task_ids"])
    # The unsupported type stays for a poll; the other queue's task is not on q.
    assert [t["activity_type"] for t in _polled(engine, "w2")] == ["b"]


def test_no_more_than_the_slots_asked_for(engine: Engine) -> None:
    status, body = _complete(engine, eager_activity_slots=1)
    assert status == 200 and len(body["eager_activity_tasks"]) == 1
    assert [t["activity_type"] for t in _polled(engine, "w2")] == ["a", "b"]


def test_without_the_field_the_answer_and_the_queue_are_as_before(engine: Engine) -> None:
    status, body = _complete(engine)
    assert status == 200 and "eager_activity_tasks" not in body
    assert sorted(t["activity_type"] for t in _polled(engine, "w2")) == ["a", "a", "b"]


def test_zero_slots_lease_nothing(engine: Engine) -> None:
    status, body = _complete(engine, eager_activity_slots=0)
    assert status == 200 and body["eager_activity_tasks"] == []


@pytest.mark.parametrize("slots", ["2", -1, True, 1.5])
def test_a_bad_slot_count_is_named_and_nothing_is_applied(engine: Engine, slots: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _complete(engine, eager_activity_slots=slots)
    assert "eager_activity_slots" in caught.value.errors
    assert _polled(engine, "w2") == []
