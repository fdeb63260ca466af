"""One test per command type: the wire command it emits, then replay of what history records.

Each workflow yields one command. The first replay (history = start only)
must emit the exact wire command of worker-protocol.md §9.5; a second replay
with the events the server records for that command must feed the recorded
value back (not recompute it) and reach completion.
"""

from __future__ import annotations

import json
from typing import Any

from durable_workflow import workflow
from durable_workflow.workflow import (
    ActivityRetryPolicy,
    ChildWorkflowRetryPolicy,
    CompleteUpdate,
    CompleteWorkflow,
    FailUpdate,
    commands_to_server_commands,
)


def ev(event_type: str, **payload: Any) -> dict[str, Any]:
    return {"event_type": event_type, "payload": payload}


def env(value: Any) -> dict[str, str]:
    return {"codec": "json", "blob": json.dumps(value, separators=(",", ":"))}


START = [ev("WorkflowStarted", workflow_type="cmd", timestamp="2026-03-01T00:00:00Z")]


def first_wire(cls: type, args: list[Any] | None = None) -> list[dict[str, Any]]:
    outcome = workflow.replay(cls, START, args or [], run_id="r")
    return commands_to_server_commands(outcome.commands, "q", payload_codec="json")


def replayed(cls: type, events: list[dict[str, Any]], args: list[Any] | None = None) -> Any:
    return workflow.replay(cls, START + events, args or [], run_id="r").commands


@workflow.defn(name="cmd.activity")
class Activity:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        return (
            yield ctx.schedule_activity(
                "charge",
                [10, "EUR"],
                queue="payments",
                retry_policy=ActivityRetryPolicy(max_attempts=3, initial_interval_seconds=2),
                start_to_close_timeout=30,
                schedule_to_start_timeout=10,
                schedule_to_close_timeout=60,
                heartbeat_timeout=5,
            )
        )


def test_schedule_activity() -> None:
    assert first_wire(Activity) == [
        {
            "type": "schedule_activity",
            "activity_type": "charge",
            "queue": "payments",
            "arguments": env([10, "EUR"]),
            "retry_policy": {
                "max_attempts": 3,
                "backoff_seconds": [2, 4],
                "non_retryable_error_types": [],
            },
            "start_to_close_timeout": 30,
            "schedule_to_start_timeout": 10,
            "schedule_to_close_timeout": 60,
            "heartbeat_timeout": 5,
        }
    ]
    common = {"activity_execution_id": "a1", "activity_type": "charge", "sequence": 1}
    assert replayed(Activity, [ev("ActivityScheduled", **common)]) == []
    done = [ev("ActivityScheduled", **common), ev("ActivityCompleted", **common, result=env("ok"))]
    assert replayed(Activity, done) == [CompleteWorkflow("ok")]


@workflow.defn(name="cmd.timer")
class Timer:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        yield ctx.sleep(4.2)
        return "woke"


def test_start_timer() -> None:
    assert first_wire(Timer) == [{"type": "start_timer", "delay_seconds": 5}]
    scheduled = ev("TimerScheduled", timer_id="t1", sequence=1, delay_seconds=5)
    assert replayed(Timer, [scheduled]) == []
    fired = ev("TimerFired", timer_id="t1", sequence=1, delay_seconds=5)
    assert replayed(Timer, [scheduled, fired]) == [CompleteWorkflow("woke")]


@workflow.defn(name="cmd.child")
class Child:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        return (
            yield ctx.start_child_workflow(
                "invoice",
                ["o-1"],
                task_queue="billing",
                parent_close_policy="terminate",
                retry_policy=ChildWorkflowRetryPolicy(max_attempts=2, backoff_seconds=[7]),
                execution_timeout_seconds=600,
                run_timeout_seconds=300,
            )
        )


def test_start_child_workflow() -> None:
    assert first_wire(Child) == [
        {
            "type": "start_child_workflow",
            "workflow_type": "invoice",
            "queue": "billing",
            "arguments": env(["o-1"]),
            "parent_close_policy": "terminate",
            "retry_policy": {
                "max_attempts": 2,
                "backoff_seconds": [7],
                "non_retryable_error_types": [],
            },
            "execution_timeout_seconds": 600,
            "run_timeout_seconds": 300,
        }
    ]
    common = {"child_call_id": "c1", "child_workflow_type": "invoice", "sequence": 1}
    events = [
        ev("ChildWorkflowScheduled", **common),
        ev("ChildRunStarted", **common),
        ev("ChildRunCompleted", **common, output=env({"total": 3})),
    ]
    assert replayed(Child, events[:2]) == []
    assert replayed(Child, events) == [CompleteWorkflow({"total": 3})]


@workflow.defn(name="cmd.side-effect")
class SideEffect:
    calls = 0

    def run(self, ctx: workflow.WorkflowContext) -> Any:
        def draw() -> int:
            SideEffect.calls += 1
            return 7

        value = yield ctx.side_effect(draw)
        yield ctx.start_timer(1)
        return value


def test_record_side_effect() -> None:
    assert first_wire(SideEffect) == [
        {"type": "record_side_effect", "result": "7"},
        {"type": "start_timer", "delay_seconds": 1},
    ]
    SideEffect.calls = 0
    events = [
        ev("SideEffectRecorded", sequence=1, result=env(99)),
        ev("TimerScheduled", timer_id="t", sequence=2),
        ev("TimerFired", timer_id="t", sequence=2),
    ]
    assert replayed(SideEffect, events) == [CompleteWorkflow(99)]
    assert SideEffect.calls == 0  # recorded value used, function not re-run


@workflow.defn(name="cmd.version")
class Version:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        version = yield ctx.get_version("fee-change", 1, 3)
        patched = yield ctx.patched("rounding")
        yield ctx.deprecate_patch("legacy")
        return [version, patched]


def test_record_version_marker() -> None:
    assert first_wire(Version) == [
        {
            "type": "record_version_marker",
            "change_id": "fee-change",
            "version": 3,
            "min_supported": 1,
            "max_supported": 3,
        },
        {
            "type": "record_version_marker",
            "change_id": "rounding",
            "version": 1,
            "min_supported": -1,
            "max_supported": 1,
        },
        {
            "type": "record_version_marker",
            "change_id": "legacy",
            "version": 1,
            "min_supported": -1,
            "max_supported": 1,
        },
        {"type": "complete_workflow", "result": env([3, True])},
    ]
    old_run = [
        ev("VersionMarkerRecorded", sequence=1, change_id="fee-change", version=1),
        ev("VersionMarkerRecorded", sequence=2, change_id="legacy", version=1),
    ]
    assert replayed(Version, old_run) == [CompleteWorkflow([1, False])]


@workflow.defn(name="cmd.upsert")
class Upsert:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        yield ctx.upsert_search_attributes({"customer": "ada", "tier": 2})
        yield ctx.start_timer(1)
        return "done"


def test_upsert_search_attributes() -> None:
    assert first_wire(Upsert)[0] == {
        "type": "upsert_search_attributes",
        "attributes": {"customer": "ada", "tier": 2},
    }
    events = [
        ev("SearchAttributesUpserted", sequence=1, attributes={"customer": "ada", "tier": 2}),
        ev("TimerScheduled", timer_id="t", sequence=2),
        ev("TimerFired", timer_id="t", sequence=2),
    ]
    assert replayed(Upsert, events) == [CompleteWorkflow("done")]


@workflow.defn(name="cmd.wait")
class Wait:
    def __init__(self) -> None:
        self.ready = False

    @workflow.signal("ready")
    def mark(self) -> None:
        self.ready = True

    def run(self, ctx: workflow.WorkflowContext) -> Any:
        return (yield ctx.wait_condition(lambda: self.ready, key="ready", timeout=2.5))


def test_open_condition_wait_and_its_resolutions() -> None:
    (wire,) = first_wire(Wait)
    assert wire["type"] == "open_condition_wait"
    assert wire["condition_key"] == "ready" and wire["timeout_seconds"] == 3
    assert wire["condition_definition_fingerprint"].startswith("sha256:")
    opened = ev(
        "ConditionWaitOpened",
        condition_wait_id="w1",
        sequence=1,
        condition_key="ready",
        condition_definition_fingerprint=wire["condition_definition_fingerprint"],
    )
    timed_out = ev("TimerFired", timer_kind="condition_timeout", condition_wait_id="w1")
    assert replayed(Wait, [opened, timed_out]) == [CompleteWorkflow(False)]
    signal = ev("SignalReceived", signal_name="ready", arguments=env([]))
    assert replayed(Wait, [opened, signal]) == [CompleteWorkflow(True)]


@workflow.defn(name="cmd.terminal")
class Terminal:
    def run(self, ctx: workflow.WorkflowContext, mode: str) -> Any:
        yield ctx.start_timer(1)
        if mode == "fail":
            raise LookupError("missing order")
        if mode == "continue":
            return ctx.continue_as_new("again", workflow_type="cmd.terminal", task_queue="q2")
        return mode


def test_complete_fail_and_continue_as_new() -> None:
    timer = [ev("TimerScheduled", timer_id="t", sequence=1), ev("TimerFired", timer_id="t")]
    for mode, expected in (
        ("done", {"type": "complete_workflow", "result": env("done")}),
        (
            "fail",
            {"type": "fail_workflow", "message": "missing order", "exception_type": "LookupError"},
        ),
        (
            "continue",
            {
                "type": "continue_as_new",
                "arguments": env(["again"]),
                "queue": "q2",
                "workflow_type": "cmd.terminal",
            },
        ),
    ):
        commands = replayed(Terminal, timer, [mode])
        assert commands_to_server_commands(commands, "q", payload_codec="json") == [expected]
    # The terminal event in history does not change what the code decides.
    closed = [*timer, ev("WorkflowCompleted", output=env("done"))]
    assert replayed(Terminal, closed, ["done"]) == [CompleteWorkflow("done")]


@workflow.defn(name="cmd.update")
class Update:
    def __init__(self) -> None:
        self.items: list[str] = []

    @workflow.update("add")
    def add(self, item: str) -> int:
        self.items.append(item)
        return len(self.items)

    @add.validator
    def check(self, item: str) -> None:
        if not item:
            raise ValueError("empty item")

    @workflow.query("items")
    def list_items(self) -> list[str]:
        return list(self.items)

    def run(self, ctx: workflow.WorkflowContext) -> Any:
        yield ctx.wait_condition(lambda: len(self.items) >= 2, key="two")
        return self.items


def test_complete_update_fail_update_and_applied_update_replay() -> None:
    accepted = [
        ev("UpdateAccepted", update_id="u1", update_name="add", arguments=env(["pen"])),
        ev("UpdateAccepted", update_id="u2", update_name="add", arguments=env([""])),
    ]
    result = workflow.apply_update(Update, START + accepted, [], "u1")
    assert result == CompleteUpdate("u1", 1)
    rejected = workflow.apply_update(Update, START + accepted, [], "u2")
    assert isinstance(rejected, FailUpdate) and rejected.exception_type == "ValueError"
    assert commands_to_server_commands([result, rejected], "q", payload_codec="json") == [
        {"type": "complete_update", "update_id": "u1", "result": env(1)},
        {
            "type": "fail_update",
            "update_id": "u2",
            "message": "empty item",
            "non_retryable": True,
            "exception_type": "ValueError",
        },
    ]
    applied = [
        ev("UpdateApplied", update_id="u1", update_name="add", arguments=env(["pen"]), sequence=1),
        ev("UpdateApplied", update_id="u3", update_name="add", arguments=env(["ink"]), sequence=1),
    ]
    assert replayed(Update, applied) == [CompleteWorkflow(["pen", "ink"])]
    assert workflow.query_state(Update, START + applied[:1], [], "items") == ["pen"]
