"""Sticky cache: resuming a cached instance with new events equals a full replay."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from durable_workflow import workflow
from durable_workflow.errors import ActivityFailed
from durable_workflow.workflow import (
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartTimer,
    UpsertSearchAttributes,
    WaitCondition,
    commands_to_server_commands,
)
from durable_workflow.workflow._replay.driver import ResumeNotPossible, WorkflowDriver
from durable_workflow.workflow._replay.sticky import WorkflowCache

OPS = ("act", "timer", "side", "upsert", "version", "patched", "group", "wait")


@workflow.defn(name="sticky.mixed")
class Mixed:
    """Touches every non-terminal command kind; its path depends on results and signals."""

    def __init__(self) -> None:
        self.signals: list[Any] = []

    @workflow.signal("poke")
    def poke(self, value: Any) -> None:
        self.signals.append(value)

    def run(self, ctx: workflow.WorkflowContext, plan: list[str]) -> Any:
        out: list[Any] = []
        for i, op in enumerate(plan):
            if op == "act":
                try:
                    out.append((yield ctx.schedule_activity("a", [i])))
                except ActivityFailed as exc:
                    out.append(f"failed:{exc}")
            elif op == "timer":
                yield ctx.start_timer(1)
            elif op == "side":
                out.append((yield ctx.side_effect(lambda i=i: i * 10)))
            elif op == "upsert":
                yield ctx.upsert_search_attributes({"step": i})
            elif op == "version":
                out.append((yield ctx.get_version(f"c{i}", 0, 2)))
            elif op == "patched":
                out.append((yield ctx.patched(f"p{i}")))
            elif op == "group":
                out.append(
                    (
                        yield [
                            ctx.schedule_activity("g", [i]),
                            ctx.schedule_activity("h", [i]),
                        ]
                    )
                )
            elif op == "wait":
                seen = len(self.signals)
                out.append(
                    (
                        yield ctx.wait_condition(
                            lambda seen=seen: len(self.signals) > seen, key=f"w{i}", timeout=5
                        )
                    )
                )
            out.append(len(self.signals))
        return [out, self.signals, str(ctx.uuid4())]


def _json(value: Any) -> dict[str, str]:
    return {"codec": "json", "blob": json.dumps(value)}


class _Server:
    """Turns emitted commands into history the way the server records them."""

    def __init__(self, plan: list[str]) -> None:
        self.plan = plan
        self.events: list[dict[str, Any]] = []
        self.pending: list[dict[str, Any]] = []  # resolution events not yet recorded
        self.open_wait: str | None = None
        self.open_key: str | None = None
        self._ids = 0
        self._steps = 0
        self.add("WorkflowStarted", workflow_type="sticky.mixed", timestamp="2026-01-02T03:04:05Z")

    def add(self, event_type: str, **payload: Any) -> None:
        n = len(self.events) + 1
        self.events.append(
            {
                "id": f"e{n}",
                "sequence": n,
                "event_type": event_type,
                "payload": payload,
                "recorded_at": "2026-01-02T03:04:05Z",
            }
        )

    def _id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def _step(self) -> int:
        self._steps += 1
        return self._steps

    def apply(self, commands: list[Any], data: st.DataObject) -> None:
        for command in commands:
            if isinstance(command, ScheduleActivity):
                exec_id, step = self._id("act"), self._step()
                self.add(
                    "ActivityScheduled",
                    activity_execution_id=exec_id,
                    activity_type=command.activity_type,
                    sequence=step,
                )
                if data.draw(st.booleans(), label="activity fails"):
                    resolution = (
                        "ActivityFailed",
                        {"message": "boom", "exception": {"type": "Boom", "message": "boom"}},
                    )
                else:
                    resolution = (
                        "ActivityCompleted",
                        {"result": _json([command.activity_type, command.arguments])},
                    )
                self.pending.append(
                    {
                        "type": resolution[0],
                        "activity_execution_id": exec_id,
                        "activity_type": command.activity_type,
                        "sequence": step,
                        **resolution[1],
                    }
                )
            elif isinstance(command, StartTimer):
                timer_id, step = self._id("t"), self._step()
                self.add("TimerScheduled", timer_id=timer_id, sequence=step)
                self.pending.append({"type": "TimerFired", "timer_id": timer_id, "sequence": step})
            elif isinstance(command, RecordSideEffect):
                self.add("SideEffectRecorded", sequence=self._step(), result=_json(command.result))
            elif isinstance(command, UpsertSearchAttributes):
                self.add(
                    "SearchAttributesUpserted", sequence=self._step(), attributes=command.attributes
                )
            elif isinstance(command, RecordVersionMarker):
                self.add(
                    "VersionMarkerRecorded",
                    sequence=self._step(),
                    change_id=command.change_id,
                    version=command.version,
                )
            elif isinstance(command, WaitCondition):
                if self.open_wait is not None and self.open_key == command.condition_key:
                    continue  # re-opened on replay: the same wait
                wait_id = self._id("w")
                self.open_wait, self.open_key = wait_id, command.condition_key
                self.add(
                    "ConditionWaitOpened",
                    condition_wait_id=wait_id,
                    condition_key=command.condition_key,
                    condition_definition_fingerprint=command.condition_definition_fingerprint,
                    sequence=self._step(),
                )
                self.pending.append({"type": "ConditionWaitTimedOut", "condition_wait_id": wait_id})

    def deliver(self, data: st.DataObject) -> None:
        """Record some resolutions (any order) and maybe a signal."""
        if self.pending:
            count = data.draw(st.integers(0, len(self.pending)), label="resolutions")
            for _ in range(count):
                at = data.draw(st.integers(0, len(self.pending) - 1), label="which")
                event = self.pending.pop(at)
                if event["type"] == "ConditionWaitTimedOut":
                    if event["condition_wait_id"] != self.open_wait:
                        continue
                    self.open_wait = None
                kind = event.pop("type")
                self.add(kind, **event)
        if data.draw(st.booleans(), label="signal"):
            self.add("SignalReceived", signal_name="poke", value=_json([len(self.events)]))
            self.open_wait = (
                None if data.draw(st.booleans(), label="wait moved") else self.open_wait
            )


def _wire(commands: list[Any]) -> list[dict[str, Any]]:
    return commands_to_server_commands(commands, "q", payload_codec="json")


def _full(events: list[dict[str, Any]], plan: list[str]) -> Any:
    try:
        outcome = workflow.replay(Mixed, events, [plan], run_id="run-1")
    except Exception as exc:  # compared by type and message
        return ("error", type(exc).__name__, str(exc))
    return ("ok", _wire(outcome.commands), outcome.waiting_on_recorded_step)


def _cached(cache: WorkflowCache, events: list[dict[str, Any]], plan: list[str]) -> Any:
    try:
        outcome = cache.get_or_replay("run-1", Mixed, events, [plan])
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", _wire(outcome.commands), outcome.waiting_on_recorded_step)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plan=st.lists(st.sampled_from(OPS), min_size=1, max_size=7), data=st.data())
def test_incremental_replay_equals_full_replay(plan: list[str], data: st.DataObject) -> None:
    server = _Server(plan)
    cache = WorkflowCache()
    for _task in range(40):
        full = _full(server.events, plan)
        assert _cached(cache, server.events, plan) == full
        if full[0] == "error":
            break
        commands = workflow.replay(Mixed, server.events, [plan], run_id="run-1").commands
        if any(c["type"] in ("complete_workflow", "fail_workflow") for c in full[1]):
            break
        server.apply(commands, data)
        # Sometimes the cache sees a task boundary, sometimes events pile up.
        server.deliver(data)
        if data.draw(st.booleans(), label="extra checkpoint"):
            assert _cached(cache, server.events, plan) == _full(server.events, plan)
            server.deliver(data)
        if not server.pending and not full[2] and not commands:
            break
    assert cache.stats.hits + cache.stats.misses + cache.stats.fallbacks > 0


def _sequential_history(n: int, completed: int) -> list[dict[str, Any]]:
    server = _Server(["act"] * n)
    for _ in range(completed):
        commands = workflow.replay(Mixed, server.events, [["act"] * n], run_id="run-1").commands
        server.apply(commands, _NeverFail())
        event = server.pending.pop()
        kind = event.pop("type")
        server.add(kind, **event)
    return server.events


class _NeverFail:
    """A stand-in for hypothesis data: activities complete."""

    def draw(self, strategy: Any, label: str | None = None) -> Any:
        return False


def test_sequential_activities_hit_the_cache_every_task() -> None:
    cache = WorkflowCache()
    plan = ["act"] * 5
    histories = [_sequential_history(5, k) for k in range(6)]
    for events in histories:
        assert _cached(cache, events, plan) == _full(events, plan)
    assert cache.stats.misses == 1
    assert cache.stats.hits == 5
    assert cache.stats.fallbacks == 0
    assert "run-1" not in cache  # completed: dropped


def test_history_that_does_not_continue_the_cached_one_replays_in_full() -> None:
    cache = WorkflowCache()
    plan = ["act"] * 3
    cache.get_or_replay("run-1", Mixed, _sequential_history(3, 1), [plan])
    other = _sequential_history(3, 2)
    other[2] = {**other[2], "payload": {**other[2]["payload"], "activity_type": "x"}}
    assert _cached(cache, other, plan) == _full(other, plan)
    assert cache.stats.fallbacks == 1


def test_cache_is_bounded_by_count_and_memory() -> None:
    plan = ["act"] * 3
    events = _sequential_history(3, 1)
    by_count = WorkflowCache(max_entries=2)
    for run in ("r1", "r2", "r3"):
        by_count.get_or_replay(run, Mixed, events, [plan])
    assert len(by_count) == 2 and "r1" not in by_count and by_count.stats.evictions == 1

    by_bytes = WorkflowCache(max_bytes=1)
    by_bytes.get_or_replay("r1", Mixed, events, [plan])
    assert len(by_bytes) == 0 and by_bytes.approximate_bytes == 0

    roomy = WorkflowCache()
    roomy.get_or_replay("r1", Mixed, events, [plan])
    assert roomy.approximate_bytes > 0
    assert roomy.evict("r1") and not roomy.evict("r1")
    assert roomy.approximate_bytes == 0
    with pytest.raises(ValueError):
        WorkflowCache(max_entries=0)


def test_resume_refuses_when_a_consumed_step_changes() -> None:
    plan = ["act", "act"]
    events = _sequential_history(2, 1)
    driver = WorkflowDriver(Mixed, events, [plan], run_id="run-1")
    driver.run()
    assert driver.suspended
    late_duplicate = {
        "id": "late",
        "event_type": "ActivityFailed",
        "payload": {"activity_execution_id": "act1", "sequence": 1, "message": "late"},
    }
    with pytest.raises(ResumeNotPossible):
        driver.resume([late_duplicate])
    assert not driver.suspended
