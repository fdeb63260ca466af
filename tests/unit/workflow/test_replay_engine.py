"""Replay semantics on real-server-shaped histories (history-events.md §2, §5.2)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from durable_workflow import serializer, workflow
from durable_workflow.errors import (
    ActivityFailed,
    ChildWorkflowFailed,
    NonDeterministicReplayError,
    WorkflowPayloadDecodeError,
)
from durable_workflow.workflow import (
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    WaitCondition,
)
from durable_workflow.workflow._replay.driver import WorkflowDriver


def ev(seq: int, event_type: str, **payload: Any) -> dict[str, Any]:
    return {
        "id": f"ev-{seq}",
        "sequence": seq,
        "event_type": event_type,
        "payload": payload,
        "recorded_at": f"2026-04-25T07:28:{seq:02d}.000000Z",
    }


def started() -> list[dict[str, Any]]:
    return [
        ev(
            1,
            "StartAccepted",
            workflow_instance_id="wf-1",
            workflow_run_id="run-1",
            workflow_type="greeting",
            outcome="started_new",
            command={"type": "start", "payload_codec": "avro", "payload": "AA5bIkFkYSJdAg=="},
        ),
        ev(2, "WorkflowStarted", workflow_type="greeting", workflow_run_id="run-1"),
    ]


def scheduled(seq: int, step: int, activity_type: str, exec_id: str) -> dict[str, Any]:
    return ev(
        seq,
        "ActivityScheduled",
        activity_execution_id=exec_id,
        activity_type=activity_type,
        activity_class=activity_type,
        sequence=step,
    )


def completed(seq: int, step: int, activity_type: str, exec_id: str, value: Any) -> dict[str, Any]:
    return ev(
        seq,
        "ActivityCompleted",
        activity_execution_id=exec_id,
        activity_attempt_id=f"att-{exec_id}",
        activity_type=activity_type,
        sequence=step,
        attempt_number=1,
        result=serializer.encode(value),
        payload_codec="avro",
    )


@workflow.defn(name="greeting")
class Greeting:
    def __init__(self) -> None:
        self.signals: list[Any] = []

    @workflow.signal("poke")
    def poke(self, *args: Any) -> None:
        self.signals.append(list(args))

    @workflow.query("signals")
    def seen(self) -> list[Any]:
        return self.signals

    def run(self, ctx: workflow.WorkflowContext, name: str) -> Any:
        return (yield ctx.schedule_activity("greet", [name]))


def test_first_task_schedules_the_activity() -> None:
    outcome = workflow.replay(Greeting, started(), ["Ada"], run_id="run-1", payload_codec="avro")
    assert outcome.commands == [ScheduleActivity("greet", ["Ada"])]
    assert not outcome.waiting_on_recorded_step


def test_real_server_history_replays_to_completion() -> None:
    history = [
        *started(),
        scheduled(3, 3, "greet", "ae-1"),
        ev(
            4,
            "ActivityStarted",
            activity_execution_id="ae-1",
            activity_type="greet",
            sequence=3,
            activity_attempt_id="AT1",
            attempt_number=1,
        ),
        completed(5, 3, "greet", "ae-1", "hello Ada"),
    ]
    outcome = workflow.replay(Greeting, history, ["Ada"], run_id="run-1", payload_codec="avro")
    assert outcome.commands == [CompleteWorkflow("hello Ada")]
    wire = workflow.commands_to_server_commands(outcome.commands, "q", payload_codec="avro")
    assert wire == [
        {"type": "complete_workflow", "result": {"codec": "avro", "blob": "ABYiaGVsbG8gQWRhIgI="}}
    ]


def test_pending_step_is_not_emitted_again() -> None:
    history = [
        *started(),
        scheduled(3, 3, "greet", "ae-1"),
        ev(4, "ActivityStarted", activity_execution_id="ae-1", activity_type="greet", sequence=3),
        ev(5, "SignalReceived", signal_name="poke", signal_id="sig-1"),
    ]
    outcome = workflow.replay(Greeting, history, ["Ada"], run_id="run-1", payload_codec="avro")
    assert outcome.commands == []
    assert outcome.waiting_on_recorded_step


def test_signal_arguments_are_read_from_the_command_snapshot() -> None:
    blob = serializer.encode({"name": "poke", "arguments": ["x", 2], "validation_errors": []})
    history = [
        *started(),
        scheduled(3, 3, "greet", "ae-1"),
        ev(
            4,
            "SignalReceived",
            signal_name="poke",
            command={"type": "signal", "payload_codec": "avro", "payload": blob},
        ),
        ev(
            5,
            "SignalReceived",
            signal_name="poke",
            arguments=serializer.encode(["y"]),
            payload_codec="avro",
        ),
        ev(6, "SignalReceived", signal_name="unknown-signal"),
    ]
    state = workflow.query_state(Greeting, history, ["Ada"], "signals", payload_codec="avro")
    assert state == [["x", 2], ["y"]]


@workflow.defn(name="tests.parallel")
class Parallel:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        results = yield [
            ctx.schedule_activity("fetch", ["a"]),
            ctx.schedule_activity("fetch", ["b"]),
            ctx.start_timer(5),
        ]
        return results


def test_parallel_results_follow_command_order_when_completions_arrive_reversed() -> None:
    history = [
        *started(),
        scheduled(3, 3, "fetch", "ae-a"),
        scheduled(4, 4, "fetch", "ae-b"),
        ev(5, "TimerScheduled", timer_id="t-1", sequence=5, delay_seconds=5),
        ev(6, "TimerFired", timer_id="t-1", sequence=5),
        completed(7, 4, "fetch", "ae-b", "B"),
        completed(8, 3, "fetch", "ae-a", "A"),
    ]
    outcome = workflow.replay(Parallel, history, [], payload_codec="avro")
    assert outcome.commands == [CompleteWorkflow(["A", "B", None])]


def test_parallel_group_partly_resolved_stays_blocked_without_new_commands() -> None:
    history = [
        *started(),
        scheduled(3, 3, "fetch", "ae-a"),
        scheduled(4, 4, "fetch", "ae-b"),
        ev(5, "TimerScheduled", timer_id="t-1", sequence=5, delay_seconds=5),
        completed(6, 4, "fetch", "ae-b", "B"),
    ]
    outcome = workflow.replay(Parallel, history, [], payload_codec="avro")
    assert outcome.commands == []
    assert outcome.waiting_on_recorded_step


def test_first_task_of_a_parallel_group_emits_every_command() -> None:
    outcome = workflow.replay(Parallel, started(), [], payload_codec="avro")
    assert outcome.commands == [
        ScheduleActivity("fetch", ["a"]),
        ScheduleActivity("fetch", ["b"]),
        StartTimer(5),
    ]


@workflow.defn(name="tests.saga")
class Saga:
    def __init__(self) -> None:
        self.failure: ActivityFailed | None = None

    def run(self, ctx: workflow.WorkflowContext, order: str) -> Any:
        yield ctx.schedule_activity("reserve", [order])
        try:
            yield ctx.schedule_activity("charge", [order])
        except ActivityFailed as exc:
            self.failure = exc
            yield ctx.schedule_activity("release", [order, exc.message])
            return "compensated"
        return "charged"


def _saga_history() -> list[dict[str, Any]]:
    return [
        *started(),
        scheduled(3, 3, "reserve", "ae-1"),
        completed(4, 3, "reserve", "ae-1", "r-1"),
        scheduled(5, 5, "charge", "ae-2"),
        ev(
            6,
            "ActivityFailed",
            activity_execution_id="ae-2",
            activity_type="charge",
            sequence=5,
            activity_attempt_id="att-2",
            failure_id="f-1",
            failure_category="activity",
            non_retryable=True,
            exception_type="CardDeclined",
            exception_class="App\\CardDeclined",
            message="card declined",
            code=0,
            exception={
                "class": "App\\CardDeclined",
                "type": "CardDeclined",
                "message": "card declined",
                "file": "/srv/app.php",
                "line": 12,
                "trace": ["#0"],
                "details": "AAR7fQI=",
                "details_payload_codec": "avro",
            },
        ),
    ]


def test_activity_failure_is_thrown_into_the_workflow_and_caught() -> None:
    outcome = workflow.replay(Saga, _saga_history(), ["o-1"], payload_codec="avro")
    assert outcome.commands == [ScheduleActivity("release", ["o-1", "card declined"])]


def test_activity_failure_carries_only_language_neutral_fields() -> None:
    driver = WorkflowDriver(Saga, _saga_history(), ["o-1"], payload_codec="avro")
    driver.run()
    failure = driver.instance.failure
    assert isinstance(failure, ActivityFailed)
    assert failure.activity_type == "charge"
    assert failure.exception_type == "CardDeclined"
    assert failure.failure_category == "activity"
    assert failure.non_retryable is True
    assert failure.code == 0
    assert failure.exception_payload == {
        "type": "CardDeclined",
        "message": "card declined",
        "details": "AAR7fQI=",
        "details_payload_codec": "avro",
    }


def test_uncaught_activity_failure_fails_the_workflow() -> None:
    @workflow.defn(name="tests.no-catch")
    class NoCatch:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            yield ctx.schedule_activity("charge", [])

    history = [
        *started(),
        scheduled(3, 3, "charge", "ae-1"),
        ev(
            4,
            "ActivityTimedOut",
            activity_execution_id="ae-1",
            sequence=3,
            timeout_kind="start_to_close",
            message="timed out",
        ),
    ]
    outcome = workflow.replay(NoCatch, history, [], payload_codec="avro")
    assert outcome.commands == [FailWorkflow("timed out", exception_type="ActivityFailed")]


def test_mismatched_step_shape_raises_with_step_number_and_recorded_events() -> None:
    history = [
        *started(),
        ev(3, "TimerScheduled", timer_id="t-1", sequence=3, delay_seconds=5),
        ev(4, "TimerFired", timer_id="t-1", sequence=3),
    ]
    with pytest.raises(NonDeterministicReplayError) as info:
        workflow.replay(Greeting, history, ["Ada"], payload_codec="avro")
    error = info.value
    assert error.workflow_sequence == 3
    assert error.expected_shape == "schedule_activity('greet')"
    assert error.recorded_event_types == ["TimerScheduled", "TimerFired"]
    text = str(error)
    assert "step 3" in text
    assert "schedule_activity('greet')" in text
    assert "TimerScheduled, TimerFired" in text
    assert "timer" in (error.detail or "")


def test_mismatched_activity_type_raises() -> None:
    history = [*started(), scheduled(3, 3, "wave", "ae-1")]
    with pytest.raises(NonDeterministicReplayError, match="step 3") as info:
        workflow.replay(Greeting, history, ["Ada"], payload_codec="avro")
    assert "activity type 'wave'" in str(info.value)
    assert info.value.recorded_event_types == ["ActivityScheduled"]


def test_history_steps_the_code_no_longer_reaches_raise() -> None:
    @workflow.defn(name="tests.shortened")
    class Shortened:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            return "done"
            yield  # pragma: no cover - makes run a generator

    history = [*started(), scheduled(3, 3, "greet", "ae-1")]
    with pytest.raises(NonDeterministicReplayError, match="no longer reaches"):
        workflow.replay(Shortened, history, [], payload_codec="avro")


@workflow.defn(name="tests.side-effect")
class SideEffecting:
    calls = 0

    def run(self, ctx: workflow.WorkflowContext) -> Any:
        def compute() -> int:
            SideEffecting.calls += 1
            return 41

        value = yield ctx.side_effect(compute)
        yield ctx.start_timer(1)
        return value + 1


def test_side_effect_is_computed_once_then_read_from_history() -> None:
    first = workflow.replay(SideEffecting, started(), [], payload_codec="avro")
    assert first.commands == [RecordSideEffect(41), StartTimer(1)]
    assert SideEffecting.calls == 1
    wire = workflow.commands_to_server_commands(first.commands, "q", payload_codec="avro")
    assert wire[0] == {"type": "record_side_effect", "result": serializer.encode(41)}
    history = [
        *started(),
        ev(3, "SideEffectRecorded", sequence=3, result=serializer.encode(41)),
        ev(4, "TimerScheduled", timer_id="t", sequence=4, delay_seconds=1),
        ev(5, "TimerFired", timer_id="t", sequence=4),
    ]
    second = workflow.replay(SideEffecting, history, [], payload_codec="avro")
    assert second.commands == [CompleteWorkflow(42)]
    assert SideEffecting.calls == 1


@workflow.defn(name="tests.patched")
class Patched:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        if (yield ctx.patched("new-greeting")):
            return (yield ctx.schedule_activity("greet-v2", []))
        return (yield ctx.schedule_activity("greet", []))


def test_patched_is_true_for_new_runs_and_records_the_marker() -> None:
    outcome = workflow.replay(Patched, started(), [], payload_codec="avro")
    assert outcome.commands == [
        RecordVersionMarker("new-greeting", 1, -1, 1, result_kind="patched"),
        ScheduleActivity("greet-v2", []),
    ]


def test_patched_is_false_for_runs_recorded_before_the_patch() -> None:
    history = [*started(), scheduled(3, 3, "greet", "ae-1"), completed(4, 3, "greet", "ae-1", 1)]
    outcome = workflow.replay(Patched, history, [], payload_codec="avro")
    assert outcome.commands == [CompleteWorkflow(1)]


def test_version_marker_with_another_change_id_is_non_deterministic() -> None:
    @workflow.defn(name="tests.version")
    class Versioned:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            return (yield ctx.get_version("b", 1, 2))

    history = [
        *started(),
        ev(
            3,
            "VersionMarkerRecorded",
            sequence=3,
            change_id="a",
            version=1,
            min_supported=1,
            max_supported=2,
        ),
    ]
    with pytest.raises(NonDeterministicReplayError, match="change id 'a'"):
        workflow.replay(Versioned, history, [], payload_codec="avro")


def test_version_marker_without_change_id_replays_by_its_version() -> None:
    """Upstream replays a marker that records only its version; so do we."""

    @workflow.defn(name="tests.version-no-id")
    class Versioned:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            return (yield ctx.get_version("b", 1, 3))

    history = [*started(), ev(3, "VersionMarkerRecorded", sequence=3, version=2)]
    outcome = workflow.replay(Versioned, history, [], payload_codec="avro")
    assert outcome.commands == [CompleteWorkflow(2)]


@workflow.defn(name="tests.child")
class Parent:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        try:
            return (yield ctx.start_child_workflow("child", ["x"]))
        except ChildWorkflowFailed as exc:
            return f"failed: {exc}"


def _child_history(resolution: dict[str, Any]) -> list[dict[str, Any]]:
    common = {"sequence": 3, "child_call_id": "cc-1", "child_workflow_type": "child"}
    return [
        *started(),
        ev(3, "ChildWorkflowScheduled", **common, parent_close_policy="abandon"),
        ev(4, "ChildRunStarted", **common, child_run_number=1),
        {**resolution, "payload": {**common, **resolution["payload"]}},
    ]


def test_child_result_is_read_from_the_snapshot_output_key() -> None:
    history = _child_history(ev(5, "ChildRunCompleted", output=serializer.encode({"ok": 1})))
    outcome = workflow.replay(Parent, history, [], payload_codec="avro")
    assert outcome.commands == [CompleteWorkflow({"ok": 1})]


def test_child_failure_is_thrown_as_child_workflow_failed() -> None:
    history = _child_history(ev(5, "ChildRunFailed", message="boom", exception_type="E"))
    outcome = workflow.replay(Parent, history, [], payload_codec="avro")
    assert outcome.commands == [CompleteWorkflow("failed: boom")]


@workflow.defn(name="tests.child-failure-fields")
class ChildFailureFields:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        try:
            yield ctx.start_child_workflow("child", [])
        except ChildWorkflowFailed as exc:
            return {
                "message": exc.message,
                "exception_type": exc.exception_type,
                "exception_class": exc.exception_class,
                "failure_category": exc.failure_category,
                "non_retryable": exc.non_retryable,
                "workflow_type": exc.workflow_type,
                "payload": exc.exception_payload,
            }
        return None


def test_child_failure_carries_the_cross_language_fields_only() -> None:
    exception = {
        "class": "App\\Exceptions\\PaymentDeclined",
        "type": "PaymentDeclined",
        "message": "card declined",
        "code": 0,
        "file": "/srv/app/Payment.php",
        "trace": ["#0 ..."],
        "non_retryable": True,
    }
    history = _child_history(
        ev(
            5,
            "ChildRunFailed",
            message="card declined",
            exception_type="PaymentDeclined",
            failure_category="child_workflow",
            exception=exception,
        )
    )
    outcome = workflow.replay(ChildFailureFields, history, [], payload_codec="avro")
    assert outcome.commands == [
        CompleteWorkflow(
            {
                "message": "card declined",
                "exception_type": "PaymentDeclined",
                "exception_class": "PaymentDeclined",
                "failure_category": "child_workflow",
                "non_retryable": True,
                "workflow_type": "child",
                "payload": {
                    "type": "PaymentDeclined",
                    "message": "card declined",
                    "code": 0,
                    "non_retryable": True,
                },
            }
        )
    ]


def test_child_pending_is_not_started_again() -> None:
    history = _child_history(ev(5, "ChildRunStarted", child_run_number=2))
    outcome = workflow.replay(Parent, history, [], payload_codec="avro")
    assert outcome.commands == []


def test_child_type_change_is_non_deterministic() -> None:
    @workflow.defn(name="tests.other-child")
    class OtherParent:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            return (yield ctx.start_child_workflow("other", []))

    history = _child_history(ev(5, "ChildRunStarted", child_run_number=2))
    with pytest.raises(NonDeterministicReplayError, match="child workflow type 'child'"):
        workflow.replay(OtherParent, history, [], payload_codec="avro")


@workflow.defn(name="tests.approval")
class Approval:
    def __init__(self) -> None:
        self.votes = 0

    @workflow.signal("vote")
    def vote(self) -> None:
        self.votes += 1

    def run(self, ctx: workflow.WorkflowContext) -> Any:
        ok = yield ctx.wait_condition(lambda: self.votes >= 2, key="votes", timeout=60)
        return {"ok": ok, "votes": self.votes}


def _wait_opened(seq: int, wait_id: str) -> dict[str, Any]:
    return ev(
        seq,
        "ConditionWaitOpened",
        condition_wait_id=wait_id,
        sequence=seq,
        condition_key="votes",
        timeout_seconds=60,
    )


def test_wait_still_blocked_after_signal_is_reopened() -> None:
    history = [*started(), _wait_opened(3, "w1"), ev(5, "SignalReceived", signal_name="vote")]
    outcome = workflow.replay(Approval, history, [], payload_codec="avro")
    assert len(outcome.commands) == 1
    command = outcome.commands[0]
    assert isinstance(command, WaitCondition)
    assert command.condition_key == "votes"
    assert command.timeout_seconds == 60


def test_wait_satisfied_by_signals_completes() -> None:
    history = [
        *started(),
        _wait_opened(3, "w1"),
        ev(5, "SignalReceived", signal_name="vote"),
        _wait_opened(6, "w2"),
        ev(8, "SignalReceived", signal_name="vote"),
    ]
    outcome = workflow.replay(Approval, history, [], payload_codec="avro")
    assert outcome.commands == [CompleteWorkflow({"ok": True, "votes": 2})]
    history.append(ev(9, "ConditionWaitSatisfied", condition_wait_id="w2", sequence=6))
    again = workflow.replay(Approval, history, [], payload_codec="avro")
    assert again.commands == [CompleteWorkflow({"ok": True, "votes": 2})]


def test_wait_times_out_through_condition_timeout_timer() -> None:
    history = [
        *started(),
        _wait_opened(3, "w1"),
        ev(
            4,
            "TimerScheduled",
            timer_id="t",
            sequence=3,
            timer_kind="condition_timeout",
            condition_wait_id="w1",
            delay_seconds=60,
        ),
        ev(
            5,
            "TimerFired",
            timer_id="t",
            sequence=3,
            timer_kind="condition_timeout",
            condition_wait_id="w1",
        ),
    ]
    outcome = workflow.replay(Approval, history, [], payload_codec="avro")
    assert outcome.commands == [CompleteWorkflow({"ok": False, "votes": 0})]


def test_wait_with_another_recorded_key_fails_the_workflow() -> None:
    history = [
        *started(),
        ev(3, "ConditionWaitOpened", condition_wait_id="w1", sequence=3, condition_key="other"),
    ]
    outcome = workflow.replay(Approval, history, [], payload_codec="avro")
    [command] = outcome.commands
    assert isinstance(command, FailWorkflow)
    assert command.exception_type == "NonDeterministicWaitCondition"
    assert "'other'" in command.message


def test_unhandled_exception_becomes_fail_workflow_with_class_name() -> None:
    class OrderInvalid(Exception):
        pass

    @workflow.defn(name="tests.raises")
    class Raises:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            yield ctx.start_timer(0)
            raise OrderInvalid("order 7 is invalid")

    history = [
        *started(),
        ev(3, "TimerScheduled", timer_id="t", sequence=3, delay_seconds=0),
        ev(4, "TimerFired", timer_id="t", sequence=3),
    ]
    outcome = workflow.replay(Raises, history, [], payload_codec="avro")
    assert outcome.commands == [FailWorkflow("order 7 is invalid", exception_type="OrderInvalid")]


def test_non_generator_run_completes_with_its_return_value() -> None:
    @workflow.defn(name="tests.plain")
    class Plain:
        def run(self, ctx: workflow.WorkflowContext, a: int, b: int) -> int:
            return a + b

    assert workflow.replay(Plain, [], [1, 2]).commands == [CompleteWorkflow(3)]


def test_continue_as_new_is_terminal() -> None:
    @workflow.defn(name="tests.can")
    class Looping:
        def run(self, ctx: workflow.WorkflowContext, n: int) -> Any:
            yield ctx.start_timer(1)
            return ctx.continue_as_new(n + 1)

    history = [
        *started(),
        ev(3, "TimerScheduled", timer_id="t", sequence=3, delay_seconds=1),
        ev(4, "TimerFired", timer_id="t", sequence=3),
    ]
    outcome = workflow.replay(Looping, history, [1], payload_codec="avro")
    assert outcome.commands == [ContinueAsNew(arguments=[2])]


@workflow.defn(name="tests.deterministic")
class Deterministic:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        ctx.logger.info("running at %s", ctx.now())
        yield ctx.start_timer(1)
        return [
            ctx.now().isoformat(),
            ctx.random().random(),
            str(ctx.uuid4()),
            str(ctx.uuid7()),
        ]


def test_now_random_and_uuids_come_from_history_not_the_machine() -> None:
    history = [
        *started(),
        ev(3, "TimerScheduled", timer_id="t", sequence=3, delay_seconds=1),
        ev(4, "TimerFired", timer_id="t", sequence=3),
    ]
    first = workflow.replay(Deterministic, history, [], run_id="run-1")
    second = workflow.replay(Deterministic, history, [], run_id="run-1")
    other = workflow.replay(Deterministic, history, [], run_id="run-2")
    assert first.commands == second.commands
    assert first.commands != other.commands
    result = first.commands[0]
    assert isinstance(result, CompleteWorkflow)
    now, _, uuid4, uuid7 = result.result
    assert now == "2026-04-25T07:28:04+00:00"  # recorded_at of TimerFired: time moved on
    assert uuid4[14] == "4"
    assert uuid7[14] == "7"
    millis = int(uuid7.replace("-", "")[:12], 16)
    assert millis == int(dt.datetime.fromisoformat(now).timestamp() * 1000)


def test_now_starts_at_the_start_and_moves_to_each_resolution_it_passes() -> None:
    @workflow.defn(name="tests.clock")
    class Clock:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            seen = [ctx.now().isoformat()]
            yield ctx.start_timer(60)
            seen.append(ctx.now().isoformat())
            return seen

    history = [
        *started(),
        ev(3, "TimerScheduled", timer_id="t", sequence=3, delay_seconds=60),
        {**ev(4, "TimerFired", timer_id="t", sequence=3), "recorded_at": "2026-04-25T07:29:03Z"},
    ]
    assert workflow.replay(Clock, history, []).commands == [
        CompleteWorkflow(["2026-04-25T07:28:02+00:00", "2026-04-25T07:29:03+00:00"])
    ]


def test_now_prefers_payload_timestamp_and_falls_back_to_epoch() -> None:
    @workflow.defn(name="tests.now")
    class Now:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            return ctx.now()

    stamped = [ev(1, "WorkflowStarted", timestamp="2030-01-01T00:00:00Z")]
    assert workflow.replay(Now, stamped, []).commands == [
        CompleteWorkflow(dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
    ]
    bare = [{"event_type": "WorkflowStarted", "payload": {}}]
    assert workflow.replay(Now, bare, []).commands == [
        CompleteWorkflow(dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
    ]


def test_logger_is_silent_while_replaying(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="durable_workflow.workflow")
    workflow.replay(Deterministic, started(), [], run_id="r")
    assert len(caplog.records) == 1
    caplog.clear()
    history = [*started(), ev(3, "TimerScheduled", timer_id="t", sequence=3, delay_seconds=1)]
    workflow.replay(Deterministic, history, [], run_id="r")
    assert caplog.records == []


def test_undecodable_history_value_raises_payload_decode_error() -> None:
    history = [
        *started(),
        scheduled(3, 3, "greet", "ae-1"),
        {
            **completed(4, 3, "greet", "ae-1", "x"),
            "payload": {
                "activity_execution_id": "ae-1",
                "sequence": 3,
                "result": '"json"',
                "payload_codec": "avro",
            },
        },
    ]
    with pytest.raises(WorkflowPayloadDecodeError, match="looks like JSON") as info:
        workflow.replay(Greeting, history, ["Ada"], payload_codec="avro", workflow_id="wf-1")
    assert info.value.receiver_kind == "activity_result"
    assert info.value.workflow_id == "wf-1"
    assert info.value.event_id == "ev-4"


def test_replayer_infers_type_and_start_input_from_snapshot_history() -> None:
    history = [
        *started(),
        scheduled(3, 3, "greet", "ae-1"),
        completed(4, 3, "greet", "ae-1", "hello Ada"),
    ]
    replayer = workflow.Replayer(workflows=[Greeting, Parallel])
    assert replayer.replay({"history_events": history}).commands == [CompleteWorkflow("hello Ada")]
    assert replayer.replay(started()).commands == [ScheduleActivity("greet", ["Ada"])]


def test_replayer_rejects_duplicates_and_empty_lists() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        workflow.Replayer(workflows=[Greeting, Greeting])
    with pytest.raises(ValueError, match="at least one"):
        workflow.Replayer(workflows=[])


def test_start_input_may_be_an_envelope() -> None:
    outcome = workflow.replay(Greeting, [], serializer.envelope(["Ada"]))
    assert outcome.commands == [ScheduleActivity("greet", ["Ada"])]


def test_child_command_in_group_and_timer_mismatch_detail() -> None:
    @workflow.defn(name="tests.group-child")
    class GroupChild:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            return (yield [ctx.start_child_workflow("child", []), ctx.start_timer(1)])

    assert workflow.replay(GroupChild, [], []).commands == [
        StartChildWorkflow("child", []),
        StartTimer(1),
    ]


def test_replayer_surfaces_non_determinism_as_a_failure_command() -> None:
    history = [*started(), scheduled(3, 3, "wave", "ae-1")]
    outcome = workflow.Replayer(workflows=[Greeting]).replay(history, ["Ada"])
    [command] = outcome.commands
    assert isinstance(command, FailWorkflow)
    assert command.exception_type == "NonDeterministicReplayError"
    assert "step 3" in command.message


def test_signal_after_a_wait_the_workflow_moved_past_is_not_pinned_to_the_wait() -> None:
    @workflow.defn(name="tests.wait-then-activity")
    class WaitThenActivity:
        def __init__(self) -> None:
            self.flag = False
            self.stage = "start"
            self.late_seen_in: list[str] = []

        @workflow.signal("flag")
        def set_flag(self) -> None:
            self.flag = True

        @workflow.signal("late")
        def late(self) -> None:
            self.late_seen_in.append(self.stage)

        def run(self, ctx: workflow.WorkflowContext) -> Any:
            self.stage = "waiting"
            yield ctx.wait_condition(lambda: self.flag, key="flag")
            self.stage = "activity"
            yield ctx.schedule_activity("after", [])
            return self.late_seen_in

    history = [
        *started(),
        ev(3, "ConditionWaitOpened", condition_wait_id="w", sequence=3, condition_key="flag"),
        ev(4, "SignalReceived", signal_name="flag"),
        # No ConditionWaitSatisfied recorded: the workflow simply moved on.
        scheduled(5, 5, "after", "ae-1"),
        ev(6, "SignalReceived", signal_name="late"),
        completed(7, 5, "after", "ae-1", None),
    ]
    outcome = workflow.replay(WaitThenActivity, history, [], payload_codec="avro")
    assert outcome.commands == [CompleteWorkflow(["activity"])]


def test_now_falls_back_to_the_first_event_timestamp() -> None:
    @workflow.defn(name="tests.now-first")
    class NowFirst:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            return ctx.now()

    history = [
        {
            "event_type": "TimerScheduled",
            "payload": {"timer_id": "t"},
            "recorded_at": "2027-02-03T04:05:06Z",
        }
    ]
    with pytest.raises(NonDeterministicReplayError):
        workflow.replay(NowFirst, history, [])
    ctx_time = WorkflowDriver(NowFirst, history, []).ctx.now()
    assert ctx_time == dt.datetime(2027, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc)


def test_resolution_with_an_unknown_execution_id_does_not_resolve_another_step() -> None:
    history = [
        *started(),
        scheduled(3, 3, "greet", "ae-1"),
        completed(4, 3, "greet", "ae-other", "wrong"),
    ]
    outcome = workflow.replay(Greeting, history, ["Ada"], payload_codec="avro")
    assert outcome.commands == []
    assert outcome.waiting_on_recorded_step
