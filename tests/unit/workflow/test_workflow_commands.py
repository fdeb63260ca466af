"""Command wire shapes (worker-protocol.md §9.5), retry policies and validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from durable_workflow import serializer, workflow
from durable_workflow.errors import QueryFailed
from durable_workflow.workflow import (
    ActivityRetryPolicy,
    ChildWorkflowRetryPolicy,
    CompleteUpdate,
    CompleteWorkflow,
    ContinueAsNew,
    FailUpdate,
    FailWorkflow,
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
    WaitCondition,
    commands_to_server_commands,
)


def wire(command: Any, codec: str = "avro") -> dict[str, Any]:
    [result] = commands_to_server_commands([command], "default-q", payload_codec=codec)
    return result


def test_schedule_activity_wire_shape() -> None:
    command = ScheduleActivity(
        "charge",
        ["o-1", {"qty": 2}],
        retry_policy=ActivityRetryPolicy(),
        start_to_close_timeout=30,
        schedule_to_start_timeout=10,
        schedule_to_close_timeout=60,
        heartbeat_timeout=5,
    )
    assert wire(command) == {
        "type": "schedule_activity",
        "activity_type": "charge",
        "queue": "default-q",
        "arguments": {"codec": "avro", "blob": serializer.encode(["o-1", {"qty": 2}])},
        "retry_policy": {
            "max_attempts": 3,
            "backoff_seconds": [1, 2],
            "non_retryable_error_types": [],
        },
        "start_to_close_timeout": 30,
        "schedule_to_start_timeout": 10,
        "schedule_to_close_timeout": 60,
        "heartbeat_timeout": 5,
    }
    assert wire(ScheduleActivity("a", [], queue="other")) == {
        "type": "schedule_activity",
        "activity_type": "a",
        "queue": "other",
        "arguments": {"codec": "avro", "blob": "AARbXQI="},
    }


def test_every_other_command_wire_shape() -> None:
    assert wire(StartTimer(5)) == {"type": "start_timer", "delay_seconds": 5}
    assert wire(CompleteWorkflow("hello Ada")) == {
        "type": "complete_workflow",
        "result": {"codec": "avro", "blob": "ABYiaGVsbG8gQWRhIgI="},
    }
    assert wire(FailWorkflow("boom", exception_type="ValueError")) == {
        "type": "fail_workflow",
        "message": "boom",
        "exception_type": "ValueError",
    }
    assert wire(FailWorkflow("", non_retryable=True)) == {
        "type": "fail_workflow",
        "message": "workflow failed",
        "non_retryable": True,
    }
    assert wire(CompleteUpdate("u-1", {"ok": True})) == {
        "type": "complete_update",
        "update_id": "u-1",
        "result": serializer.envelope({"ok": True}),
    }
    assert wire(FailUpdate("u-1", "bad", "ValueError", "App\\Bad")) == {
        "type": "fail_update",
        "update_id": "u-1",
        "message": "bad",
        "exception_type": "ValueError",
        "exception_class": "App\\Bad",
        "non_retryable": True,
    }
    assert wire(ContinueAsNew(arguments=[1])) == {
        "type": "continue_as_new",
        "arguments": serializer.envelope([1]),
        "queue": "default-q",
    }
    assert wire(ContinueAsNew("other", [], "q2")) == {
        "type": "continue_as_new",
        "arguments": {"codec": "avro", "blob": "AARbXQI="},
        "queue": "q2",
        "workflow_type": "other",
    }
    assert wire(RecordSideEffect(41)) == {
        "type": "record_side_effect",
        "result": serializer.encode(41),
    }
    assert wire(
        StartChildWorkflow(
            "child",
            ["x"],
            task_queue="cq",
            parent_close_policy="terminate",
            retry_policy=ChildWorkflowRetryPolicy(max_attempts=2),
            execution_timeout_seconds=100,
            run_timeout_seconds=50,
        )
    ) == {
        "type": "start_child_workflow",
        "workflow_type": "child",
        "queue": "cq",
        "arguments": serializer.envelope(["x"]),
        "parent_close_policy": "terminate",
        "retry_policy": {
            "max_attempts": 2,
            "backoff_seconds": [1],
            "non_retryable_error_types": [],
        },
        "execution_timeout_seconds": 100,
        "run_timeout_seconds": 50,
    }
    assert wire(RecordVersionMarker("c", 2, 1, 2)) == {
        "type": "record_version_marker",
        "change_id": "c",
        "version": 2,
        "min_supported": 1,
        "max_supported": 2,
    }
    assert wire(UpsertSearchAttributes({"Region": "eu", "Gone": None})) == {
        "type": "upsert_search_attributes",
        "attributes": {"Region": "eu", "Gone": None},
    }
    assert wire(WaitCondition(lambda: True, "k", "sha256:ab", 30)) == {
        "type": "open_condition_wait",
        "condition_key": "k",
        "condition_definition_fingerprint": "sha256:ab",
        "timeout_seconds": 30,
    }
    assert wire(WaitCondition(lambda: True)) == {"type": "open_condition_wait"}


def test_payloads_use_the_run_codec_and_fall_back_to_avro() -> None:
    assert wire(CompleteWorkflow([1]), "json") == {
        "type": "complete_workflow",
        "result": {"codec": "json", "blob": "[1]"},
    }
    assert wire(RecordSideEffect("x"), "json")["result"] == '"x"'
    legacy = wire(CompleteWorkflow(None), "workflow-serializer-y")
    assert legacy["result"] == {"codec": "avro", "blob": "AAhudWxsAg=="}


def test_retry_policy_expansion() -> None:
    assert ActivityRetryPolicy().to_dict()["backoff_seconds"] == [1, 2]
    policy = ActivityRetryPolicy(
        max_attempts=6,
        initial_interval_seconds=1.5,
        backoff_coefficient=3,
        maximum_interval_seconds=10,
        non_retryable_error_types=[" ValidationError ", "", "ValidationError", "Other"],
    )
    assert policy.to_dict() == {
        "max_attempts": 6,
        "backoff_seconds": [2, 5, 10, 10, 10],
        "non_retryable_error_types": ["ValidationError", "Other"],
    }
    assert ActivityRetryPolicy(max_attempts=1).to_dict()["backoff_seconds"] == []
    explicit = ActivityRetryPolicy(backoff_seconds=[-1, 2, 3])
    assert explicit.to_dict()["backoff_seconds"] == [0, 2, 3]
    assert issubclass(ChildWorkflowRetryPolicy, ActivityRetryPolicy)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"initial_interval_seconds": -1}, "initial_interval_seconds"),
        ({"backoff_coefficient": 0.5}, "backoff_coefficient"),
        ({"maximum_interval_seconds": -2}, "maximum_interval_seconds"),
    ],
)
def test_retry_policy_validation_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ActivityRetryPolicy(**kwargs).to_dict()


def test_plain_dict_retry_policy_is_copied_verbatim() -> None:
    policy = {"max_attempts": 2, "backoff_seconds": [7]}
    assert wire(ScheduleActivity("a", [], retry_policy=policy))["retry_policy"] == policy


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ScheduleActivity("a", [], start_to_close_timeout=0),
            "start_to_close_timeout must be >= 1",
        ),
        (
            ScheduleActivity("a", [], heartbeat_timeout=10, start_to_close_timeout=5),
            r"heartbeat_timeout \(10\) must be <= start_to_close_timeout \(5\)",
        ),
        (
            ScheduleActivity("a", [], start_to_close_timeout=10, schedule_to_close_timeout=5),
            "start_to_close_timeout .* schedule_to_close_timeout",
        ),
        (
            ScheduleActivity("a", [], schedule_to_start_timeout=10, schedule_to_close_timeout=5),
            "schedule_to_start_timeout .* schedule_to_close_timeout",
        ),
        (ScheduleActivity(" ", []), "activity_type must be a non-empty string"),
        (StartTimer(-1), "delay_seconds must be >= 0"),
        (StartChildWorkflow("c", parent_close_policy="kill"), "parent_close_policy"),
        (StartChildWorkflow("c", run_timeout_seconds=0), "run_timeout_seconds must be >= 1"),
        (
            StartChildWorkflow("c", execution_timeout_seconds=5, run_timeout_seconds=6),
            r"run_timeout_seconds \(6\) must be <= execution_timeout_seconds",
        ),
        (RecordVersionMarker("c", 3, 1, 2), "version"),
        (UpsertSearchAttributes({}), "attributes must be a non-empty dict"),
        (UpsertSearchAttributes({"k": [1]}), r"attributes\['k'\]"),
        (CompleteWorkflow(float("nan")), "non-finite"),
    ],
)
def test_validation_errors_name_the_command_and_field(command: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        commands_to_server_commands([StartTimer(1), command], "q")
    assert str(info.value).startswith(f"commands[1] ({type(command).__name__})")


def test_context_builders() -> None:
    ctx = workflow.WorkflowContext(run_id="r")
    assert ctx.sleep(1.2) == StartTimer(2)
    assert ctx.start_timer(3) == StartTimer(3)
    assert ctx.get_version("c", 1, 3) == RecordVersionMarker("c", 3, 1, 3)
    assert ctx.patched("p") == RecordVersionMarker("p", 1, -1, 1, "patched")
    assert ctx.deprecate_patch("p") == RecordVersionMarker("p", 1, -1, 1, "deprecated")
    assert ctx.upsert_search_attributes({"a": 1}) == UpsertSearchAttributes({"a": 1})
    wait = ctx.wait_condition(lambda: ctx.run_id == "x", key="k", timeout=1.5)
    assert wait.timeout_seconds == 2
    assert wait.condition_definition_fingerprint is not None
    assert wait.condition_definition_fingerprint.startswith("sha256:")
    same = ctx.wait_condition(lambda: ctx.run_id == "x")
    other = ctx.wait_condition(lambda: ctx.run_id == "y")
    assert same.condition_definition_fingerprint == wait.condition_definition_fingerprint
    assert other.condition_definition_fingerprint != wait.condition_definition_fingerprint
    with pytest.raises(ValueError, match="min_supported"):
        ctx.get_version("c", 3, 1)


def test_decorators_record_handlers_and_register_the_class() -> None:
    @workflow.defn(name="tests.handlers")
    class Handlers:
        @workflow.signal("sig")
        def on_sig(self) -> None: ...

        @workflow.query("q")
        def on_q(self) -> int:
            return 1

        @workflow.update("upd")
        def on_upd(self, value: int) -> int:
            return value

        @on_upd.validator
        def check_upd(self, value: int) -> None: ...

        @workflow.update_validator("other")
        def check_other(self) -> None: ...

        def run(self, ctx: workflow.WorkflowContext) -> None:
            return None

    assert workflow.registry()["tests.handlers"] is Handlers
    assert Handlers.__workflow_name__ == "tests.handlers"  # type: ignore[attr-defined]
    assert Handlers.__workflow_signals__ == {"sig": "on_sig"}  # type: ignore[attr-defined]
    assert Handlers.__workflow_queries__ == {"q": "on_q"}  # type: ignore[attr-defined]
    assert Handlers.__workflow_updates__ == {"upd": "on_upd"}  # type: ignore[attr-defined]
    assert Handlers.__workflow_update_validators__ == {  # type: ignore[attr-defined]
        "upd": "check_upd",
        "other": "check_other",
    }


def test_defn_requires_a_run_method_and_a_name() -> None:
    with pytest.raises(TypeError, match="no run"):
        workflow.defn(name="tests.no-run")(type("NoRun", (), {}))
    with pytest.raises(ValueError, match="non-empty name"):
        workflow.defn(name="")


@workflow.defn(name="tests.counter")
class Counter:
    def __init__(self) -> None:
        self.value = 0

    @workflow.update("add")
    def add(self, amount: int) -> int:
        self.value += amount
        return self.value

    @add.validator
    def validate_add(self, amount: int) -> None:
        if amount <= 0:
            raise ValueError("amount must be positive")

    @workflow.query("value")
    def current(self) -> int:
        return self.value

    @workflow.query("broken")
    def broken(self) -> int:
        raise RuntimeError("nope")

    def run(self, ctx: workflow.WorkflowContext) -> Any:
        yield ctx.wait_condition(lambda: self.value >= 100)
        return self.value


def _counter_history(*updates: tuple[str, int, bool]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"event_type": "WorkflowStarted", "payload": {"workflow_type": "tests.counter"}},
        {"event_type": "ConditionWaitOpened", "payload": {"condition_wait_id": "w", "sequence": 2}},
    ]
    for update_id, amount, applied in updates:
        payload = {
            "update_id": update_id,
            "update_name": "add",
            "arguments": serializer.encode([amount]),
        }
        events.append({"event_type": "UpdateAccepted", "payload": payload})
        if applied:
            events.append({"event_type": "UpdateApplied", "payload": {**payload, "sequence": 9}})
    return events


def test_apply_update_runs_validator_and_handler_on_replayed_state() -> None:
    history = _counter_history(("u1", 5, True), ("u2", 7, False))
    result = workflow.apply_update(Counter, history, [], "u2", payload_codec="avro")
    assert result == CompleteUpdate("u2", 12)
    assert workflow.query_state(Counter, history, [], "value", payload_codec="avro") == 5


def test_apply_update_failures_become_fail_update() -> None:
    history = _counter_history(("u1", -1, False))
    rejected = workflow.apply_update(Counter, history, [], "u1", payload_codec="avro")
    assert rejected == FailUpdate("u1", "amount must be positive", "ValueError")
    missing = workflow.apply_update(Counter, history, [], "nope", payload_codec="avro")
    assert isinstance(missing, FailUpdate)
    assert missing.non_retryable


def test_query_state_failures_are_query_failed_with_reasons() -> None:
    history = _counter_history()
    with pytest.raises(QueryFailed) as unknown:
        workflow.query_state(Counter, history, [], "missing")
    assert unknown.value.reason == "rejected_unknown_query"
    with pytest.raises(QueryFailed) as failing:
        workflow.query_state(Counter, history, [], "broken")
    assert failing.value.reason == "query_rejected"


def test_size_warnings_carry_the_payload_kind_and_caller_context(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = serializer.PayloadSizeWarningConfig(limit_bytes=100, threshold_percent=50)
    context = serializer.PayloadSizeWarningContext("ignored", workflow_id="wf-9", run_id="r-9")
    commands = [ScheduleActivity("upload", ["x" * 80]), CompleteWorkflow("small")]
    with caplog.at_level("WARNING", logger="durable_workflow.serializer"):
        commands_to_server_commands(
            commands, "q", payload_codec="json", size_warning=config, warning_context=context
        )
    (record,) = caplog.records
    extra = record.durable_workflow_payload  # type: ignore[attr-defined]
    assert extra["kind"] == "activity_input"
    assert (extra["activity_name"], extra["workflow_id"], extra["run_id"]) == (
        "upload",
        "wf-9",
        "r-9",
    )
    caplog.clear()
    commands_to_server_commands(commands, "q", payload_codec="json", size_warning=None)
    assert caplog.records == []


def test_a_mapping_warning_context_gets_the_payload_kind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = serializer.PayloadSizeWarningConfig(limit_bytes=100, threshold_percent=50)
    commands = [ScheduleActivity("upload", ["x" * 80])]
    with caplog.at_level("WARNING", logger="durable_workflow.serializer"):
        commands_to_server_commands(
            commands,
            "q",
            payload_codec="json",
            size_warning=config,
            warning_context={"workflow_id": "wf-9", "attempt": 3, "run_id": None},
        )
    (record,) = caplog.records
    extra = record.durable_workflow_payload  # type: ignore[attr-defined]
    assert (extra["kind"], extra["activity_name"]) == ("activity_input", "upload")
    assert (extra["workflow_id"], extra["attempt"]) == ("wf-9", "3")
    assert "run_id" not in extra


def test_fail_update_takes_upstreams_storage_keywords_and_sends_no_payload(
    tmp_path: Path,
) -> None:
    from durable_workflow.external_storage import LocalFilesystemExternalStorage

    failure = FailUpdate("u1", "no", "ValueError")
    plain = failure.to_server_command("q")
    stored = failure.to_server_command(
        "q",
        external_storage=LocalFilesystemExternalStorage(tmp_path),
        external_storage_threshold_bytes=1,
    )
    assert stored == plain
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "policy",
    [
        workflow.ActivityRetryPolicy(max_attempts=2, initial_interval_seconds=3),
        {"max_attempts": 2, "backoff_seconds": [3], "non_retryable_error_types": []},
    ],
)
def test_retry_policy_inputs_give_the_same_wire_policy(policy: Any) -> None:
    import typing

    for alias in (workflow.ActivityRetryPolicyInput, workflow.ChildWorkflowRetryPolicyInput):
        accepted = tuple(typing.get_origin(arg) or arg for arg in typing.get_args(alias))
        assert isinstance(policy, accepted)
    [command] = commands_to_server_commands([ScheduleActivity("a", [], retry_policy=policy)], "q")
    assert command["retry_policy"] == {
        "max_attempts": 2,
        "backoff_seconds": [3],
        "non_retryable_error_types": [],
    }
