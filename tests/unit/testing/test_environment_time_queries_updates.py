"""WorkflowEnvironment: skipped time, real ids on ctx, queries and updates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from durable_workflow import workflow
from durable_workflow.errors import QueryFailed, UpdateRejected
from durable_workflow.testing import WorkflowEnvironment, replay_history
from durable_workflow.workflow import CompleteWorkflow

START = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
DAY = 86400


@workflow.defn(name="env-sleeper")
class Sleeper:
    def run(self, ctx: Any) -> Any:
        times = [ctx.now().isoformat()]
        yield ctx.sleep(DAY)
        times.append(ctx.now().isoformat())
        yield [ctx.sleep(60), ctx.sleep(30)]  # both fire; time is the later one
        times.append(ctx.now().isoformat())
        ok = yield ctx.wait_condition(lambda: False, timeout=3600)
        times.append(ctx.now().isoformat())
        return {"times": times, "waited": ok, "ids": [ctx.workflow_id, ctx.run_id]}


def test_a_day_of_sleep_finishes_at_once_and_now_reads_the_skipped_time() -> None:
    env = WorkflowEnvironment()
    result = env.execute_workflow(Sleeper, workflow_id="order-7", run_id="run-7", start_time=START)
    assert result == {
        "times": [
            "2030-01-01T12:00:00+00:00",
            "2030-01-02T12:00:00+00:00",
            "2030-01-02T12:01:00+00:00",
            "2030-01-02T13:01:00+00:00",
        ],
        "waited": False,
        "ids": ["order-7", "run-7"],
    }
    # The recorded history is a real one: replaying it gives the same result.
    (run,) = env.runs
    outcome = replay_history(Sleeper, run.history, [], run_id="run-7")
    assert outcome.commands == [CompleteWorkflow({**result, "ids": [None, "run-7"]})]


def test_start_time_must_be_aware() -> None:
    with pytest.raises(ValueError, match="start_time must be timezone-aware"):
        WorkflowEnvironment().execute_workflow(Sleeper, start_time=dt.datetime(2030, 1, 1))


@workflow.defn(name="env-cart")
class Cart:
    def __init__(self) -> None:
        self.items: dict[str, int] = {}
        self.closed = False

    def run(self, ctx: Any) -> Any:
        yield ctx.wait_condition(lambda: self.closed)
        return dict(self.items)

    @workflow.update("add")
    def add(self, item: str, quantity: int) -> int:
        self.items[item] = self.items.get(item, 0) + quantity
        return sum(self.items.values())

    @add.validator
    def check_add(self, item: str, quantity: int) -> None:
        if quantity < 1:
            raise ValueError(f"quantity must be at least 1, got {quantity}")

    @workflow.signal("close")
    def close(self) -> None:
        self.closed = True

    @workflow.query("count")
    def count(self, item: str) -> int:
        return self.items.get(item, 0)


def test_updates_run_validator_and_handler_in_order_with_signals() -> None:
    env = WorkflowEnvironment()
    first = env.update("add", ["pen", 2])
    rejected = env.update("add", ["ink", 0])
    second = env.update("add", ["ink", 1])
    env.signal("close")
    late = env.update("add", ["pad", 1])  # queued after the close: never delivered
    assert env.execute_workflow(Cart) == {"pen": 2, "ink": 1}
    assert env.update_result(first) == 2
    assert env.update_result(second) == 3
    with pytest.raises(UpdateRejected, match="quantity must be at least 1, got 0"):
        env.update_result(rejected)
    with pytest.raises(KeyError, match="was not delivered"):
        env.update_result(late)
    events = [e["event_type"] for e in env.runs[0].history]
    assert events.count("UpdateAccepted") == 3 and events.count("UpdateApplied") == 2


def test_queries_read_the_state_at_the_end_of_a_run() -> None:
    env = WorkflowEnvironment()
    with pytest.raises(RuntimeError, match="needs a workflow executed first"):
        env.query("count", ["pen"])
    env.update("add", ["pen", 5])
    env.signal("close")
    env.execute_workflow(Cart)
    assert env.query("count", ["pen"]) == 5
    assert env.query("count", ["ink"]) == 0
    with pytest.raises(QueryFailed, match="no query named 'nope'"):
        env.query("nope")
    with pytest.raises(ValueError, match="run 2 does not exist"):
        env.query("count", ["pen"], run=2)
