"""Replay failures: code/history disagreement names the step; malformed history names the event."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from durable_workflow import workflow
from durable_workflow.errors import (
    NonDeterministicReplayError,
    WorkflowPayloadDecodeError,
)
from durable_workflow.workflow import CompleteWorkflow, MalformedHistoryError


def ev(n: int, event_type: str, **payload: Any) -> dict[str, Any]:
    return {"id": f"ev-{n}", "sequence": n, "event_type": event_type, "payload": payload}


def env(value: Any) -> dict[str, str]:
    return {"codec": "json", "blob": json.dumps(value)}


def activity(n: int, step: int, activity_type: str, value: Any) -> list[dict[str, Any]]:
    common = {"activity_execution_id": f"a{step}", "activity_type": activity_type, "sequence": step}
    return [
        ev(n, "ActivityScheduled", **common),
        ev(n + 1, "ActivityCompleted", **common, result=env(value)),
    ]


def v1_history() -> list[dict[str, Any]]:
    """What version 1 recorded: reserve, timer, charge, then it completed."""
    return [
        ev(1, "WorkflowStarted", workflow_type="order"),
        *activity(2, 1, "reserve", "r"),
        ev(4, "TimerScheduled", timer_id="t2", sequence=2),
        ev(5, "TimerFired", timer_id="t2", sequence=2),
        *activity(6, 3, "charge", "c"),
    ]


def make(steps: list[str]) -> type:
    @workflow.defn(name="order")
    class Order:
        def run(self, ctx: workflow.WorkflowContext) -> Any:
            results = []
            for step in steps:
                if step == "timer":
                    yield ctx.start_timer(10)
                else:
                    results.append((yield ctx.schedule_activity(step, [])))
            return results

    return Order


def failure(steps: list[str]) -> NonDeterministicReplayError:
    with pytest.raises(NonDeterministicReplayError) as caught:
        workflow.replay(make(steps), v1_history(), [])
    return caught.value


def test_unchanged_code_replays() -> None:
    outcome = workflow.replay(make(["reserve", "timer", "charge"]), v1_history(), [])
    assert outcome.commands == [CompleteWorkflow(["r", "c"])]


def test_reordered_steps_fail_at_the_first_moved_step() -> None:
    error = failure(["reserve", "charge", "timer"])
    assert error.workflow_sequence == 2
    assert error.expected_shape == "schedule_activity('charge')"
    assert error.recorded_event_types == ["TimerScheduled", "TimerFired"]
    assert "step 2" in str(error) and "TimerScheduled" in str(error)

    swapped = failure(["charge", "timer", "reserve"])
    assert swapped.workflow_sequence == 1
    assert "'reserve'" in str(swapped) and "'charge'" in str(swapped)


def test_renamed_step_fails_naming_both_names() -> None:
    error = failure(["reserve", "timer", "capture"])
    assert error.workflow_sequence == 3
    assert error.expected_shape == "schedule_activity('capture')"
    assert "history recorded activity type 'charge'" in str(error)


def test_removed_step_fails_at_the_step_history_still_has() -> None:
    middle = failure(["reserve", "charge"])
    assert middle.workflow_sequence == 2
    assert "schedule_activity('charge')" in str(middle)

    last = failure(["reserve", "timer"])
    assert last.workflow_sequence == 3
    assert last.expected_shape == "complete_workflow"
    assert last.recorded_event_types == ["ActivityScheduled", "ActivityCompleted"]
    assert "no longer reaches" in str(last)


def test_replayer_turns_non_determinism_into_a_task_failure_command() -> None:
    replayer = workflow.Replayer(workflows=[make(["reserve", "charge"])])
    (command,) = replayer.replay(v1_history()).commands
    assert command.exception_type == "NonDeterministicReplayError"  # type: ignore[attr-defined]
    assert "step 2" in command.message  # type: ignore[attr-defined]


# -- malformed histories -----------------------------------------------------------------
GOOD = make(["reserve", "timer", "charge"])


def malformed(history: list[Any]) -> MalformedHistoryError:
    with pytest.raises(MalformedHistoryError) as caught:
        workflow.replay(GOOD, history, [])
    assert not isinstance(caught.value, KeyError)
    assert isinstance(caught.value, ValueError)  # what normalisation raised before
    return caught.value


def test_unknown_event_type_names_the_event() -> None:
    history = v1_history()
    history.insert(3, ev(99, "ActivityTeleported", sequence=1))
    error = malformed(history)
    assert (error.event_id, error.event_type, error.position) == ("ev-99", "ActivityTeleported", 3)
    assert "ev-99" in str(error) and "ActivityTeleported" in str(error)
    assert "unknown event type" in str(error)


def test_structurally_broken_events_name_the_event() -> None:
    no_type = v1_history()
    no_type[2] = {"id": "ev-3", "payload": {}}
    assert malformed(no_type).field == "event_type"

    not_object = v1_history()
    not_object[2] = "ActivityCompleted"
    assert "#3" in str(malformed(not_object))

    bad_payload = v1_history()
    bad_payload[2] = {**bad_payload[2], "payload": ["result"]}
    error = malformed(bad_payload)
    assert error.field == "payload" and error.event_id == "ev-3"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (ev(9, "SignalReceived", arguments=env([])), "payload.signal_name"),
        (ev(9, "VersionMarkerRecorded", change_id="c", version="2"), "payload.version"),
        (ev(9, "UpdateApplied", update_id="u"), "payload.update_name"),
        (ev(9, "SideEffectRecorded", sequence=1), "payload.result"),
    ],
)
def test_missing_payload_fields_name_the_event_and_field(event: dict[str, Any], field: str) -> None:
    error = malformed([*v1_history(), event])
    assert error.field == field
    assert error.event_id == "ev-9" and field in str(error)


def test_undecodable_payload_names_the_event() -> None:
    history = v1_history()
    history[2]["payload"]["result"] = {"codec": "json", "blob": "{not json"}
    with pytest.raises(WorkflowPayloadDecodeError) as caught:
        workflow.replay(GOOD, history, [])
    assert caught.value.event_id == "ev-3"
    assert "ActivityCompleted (event ev-3)" in str(caught.value)
    assert caught.value.receiver_kind == "activity_result"
    assert caught.value.receiver_name == "reserve"


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 5),
    st.text(max_size=6),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["codec", "blob", "x"]), st.text(max_size=4), max_size=2),
)
_ALLOWED = (MalformedHistoryError, WorkflowPayloadDecodeError, NonDeterministicReplayError)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_corrupted_histories_fail_only_with_typed_errors(data: st.DataObject) -> None:
    """Whatever is damaged, replay returns commands or raises a typed replay error."""
    history: list[Any] = v1_history()
    for _ in range(data.draw(st.integers(1, 3), label="damages")):
        at = data.draw(st.integers(0, len(history) - 1), label="event")
        event = history[at]
        how = data.draw(
            st.sampled_from(["drop_key", "junk_value", "retype", "replace"]), label="damage"
        )
        if how == "replace":
            history[at] = data.draw(_JUNK, label="junk event")
        elif not isinstance(event, dict):
            continue
        elif how == "retype":
            history[at] = {**event, "event_type": data.draw(_JUNK | st.sampled_from(
                ["ActivityFailed", "TimerFired", "ChildRunFailed", "SignalReceived",
                 "ConditionWaitSatisfied", "UpdateApplied", "SideEffectRecorded"]
            ), label="type")}  # fmt: skip
        else:
            payload = dict(event.get("payload") or {})
            keys = sorted(payload) or ["result"]
            key = data.draw(st.sampled_from(keys), label="key")
            if how == "drop_key":
                payload.pop(key, None)
            else:
                payload[key] = data.draw(_JUNK, label="value")
            history[at] = {**event, "payload": payload}
    with contextlib.suppress(_ALLOWED):
        workflow.replay(GOOD, history, [])
