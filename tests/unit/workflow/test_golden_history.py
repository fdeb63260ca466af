"""Every case of upstream's golden replay fixture replays to the recorded command.

The fixture is read in place from ``../shared/upstream`` (never copied).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import workflow
from durable_workflow.errors import ChildWorkflowFailed

FIXTURE = (
    Path(__file__).resolve().parents[4]
    / "shared"
    / "upstream"
    / "golden_history"
    / "python-sdk-0.3.1.json"
)


def _cases() -> list[dict[str, Any]]:
    if not FIXTURE.exists():
        return []
    return list(json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"])


@workflow.defn(name="golden.single-activity")
class SingleActivity:
    def run(self, ctx: workflow.WorkflowContext, name: str) -> Any:
        return (yield ctx.schedule_activity("golden.greet", [name]))


@workflow.defn(name="golden.signal-wait")
class SignalWait:
    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.signal("approve")
    def approve(self, by: str) -> None:
        self.approved_by = by

    def run(self, ctx: workflow.WorkflowContext) -> Any:
        yield ctx.wait_condition(lambda: self.approved_by is not None, key="approval", timeout=30)
        notified = yield ctx.schedule_activity("golden.notify", [self.approved_by])
        return {"approved_by": self.approved_by, "activity_result": notified}


@workflow.defn(name="golden.timeout-wait")
class TimeoutWait:
    def __init__(self) -> None:
        self.approved = False

    def run(self, ctx: workflow.WorkflowContext) -> Any:
        satisfied = yield ctx.wait_condition(lambda: self.approved, key="approval", timeout=5)
        return "approved" if satisfied else "timed-out"


@workflow.defn(name="golden.version-marker")
class VersionMarker:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        version = yield ctx.get_version("golden-version", 1, 2)
        if version == 1:
            return (yield ctx.schedule_activity("golden.version-old-path", []))
        return (yield ctx.schedule_activity("golden.version-new-path", []))


@workflow.defn(name="golden.saga-compensation")
class SagaCompensation:
    def run(self, ctx: workflow.WorkflowContext, order_id: str) -> Any:
        reservation = yield ctx.schedule_activity("golden.reserve-inventory", [order_id])
        try:
            yield ctx.start_child_workflow("golden.payment", [order_id])
        except ChildWorkflowFailed as exc:
            yield ctx.schedule_activity(
                "golden.release-inventory", [order_id, reservation, str(exc)]
            )
            raise
        return "done"


def golden_workflows() -> list[type]:
    """The classes the golden fixture needs (also the replay-verify CLI's --workflows)."""
    return [SingleActivity, SignalWait, TimeoutWait, VersionMarker, SagaCompensation]


def _matches(command: Any, expected: dict[str, Any]) -> None:
    assert type(command).__name__ == expected["command_type"]
    for key, value in expected.items():
        if key != "command_type":
            assert getattr(command, key) == value, key


@pytest.mark.skipif(not FIXTURE.exists(), reason=f"golden fixture not found at {FIXTURE}")
@pytest.mark.parametrize("case", _cases(), ids=lambda case: str(case["name"]))
def test_golden_case_replays_to_expected_command(case: dict[str, Any]) -> None:
    cls = workflow.registry()[case["workflow_type"]]
    outcome = workflow.replay(cls, case["history"], case["start_input"], run_id="golden")
    assert len(outcome.commands) == 1
    _matches(outcome.commands[0], case["expected"])


@pytest.mark.skipif(not FIXTURE.exists(), reason=f"golden fixture not found at {FIXTURE}")
def test_fixture_has_the_cases_this_file_covers() -> None:
    names = {case["workflow_type"] for case in _cases()}
    assert names <= set(workflow.registry())
    assert len(_cases()) >= 5


@pytest.mark.skipif(not FIXTURE.exists(), reason=f"golden fixture not found at {FIXTURE}")
def test_golden_cases_replay_through_replayer_with_type_and_input() -> None:
    replayer = workflow.Replayer(
        workflows=[SingleActivity, SignalWait, TimeoutWait, VersionMarker, SagaCompensation]
    )
    for case in _cases():
        outcome = replayer.replay(
            {"events": case["history"]},
            case["start_input"],
            workflow_type=case["workflow_type"],
        )
        _matches(outcome.commands[-1], case["expected"])
