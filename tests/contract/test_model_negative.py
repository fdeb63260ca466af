"""The generated request models reject what the server rejects at validation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from durable_workflow._generated.models import WORKFLOW_TASK_COMMAND_MODELS
from durable_workflow._generated.models.activity_task import ActivityTaskFailRequest
from durable_workflow._generated.models.workflow import WorkflowStartRequest
from durable_workflow._generated.models.workflow_task import (
    ScheduleActivityCommand,
    StartTimerCommand,
    WorkflowTaskCompleteRequest,
    WorkflowTaskPollRequest,
)

COMPLETE: dict[str, Any] = {"lease_owner": "w1", "workflow_task_attempt": 1}


def test_start_requires_workflow_type() -> None:
    with pytest.raises(ValidationError) as err:
        WorkflowStartRequest.model_validate({"workflow_id": "wf-1", "task_queue": "q"})
    assert err.value.errors()[0]["loc"] == ("workflow_type",)


def test_start_rejects_unknown_duplicate_policy() -> None:
    with pytest.raises(ValidationError):
        WorkflowStartRequest.model_validate(
            {"workflow_type": "t", "duplicate_policy": "use_existing"}
        )


def test_complete_rejects_empty_command_list() -> None:
    with pytest.raises(ValidationError):
        WorkflowTaskCompleteRequest.model_validate({**COMPLETE, "commands": []})


def test_complete_rejects_unknown_command_type() -> None:
    with pytest.raises(ValidationError):
        WorkflowTaskCompleteRequest.model_validate(
            {**COMPLETE, "commands": [{"type": "launch_rocket"}]}
        )


def test_complete_rejects_field_outside_its_command_scope() -> None:
    with pytest.raises(ValidationError):
        WorkflowTaskCompleteRequest.model_validate(
            {
                **COMPLETE,
                "commands": [{"type": "start_timer", "delay_seconds": 1, "heartbeat_timeout": 5}],
            }
        )


def test_complete_dispatches_on_type() -> None:
    request = WorkflowTaskCompleteRequest.model_validate(
        {
            **COMPLETE,
            "commands": [
                {"type": "schedule_activity", "activity_type": "a", "queue": "q"},
                {"type": "start_timer", "delay_seconds": "5"},
            ],
        }
    )
    first, second = request.commands
    assert isinstance(first, ScheduleActivityCommand)
    assert isinstance(second, StartTimerCommand) and second.delay_seconds == 5
    assert set(WORKFLOW_TASK_COMMAND_MODELS) >= {"schedule_activity", "open_condition_wait"}


def test_poll_requires_worker_id() -> None:
    with pytest.raises(ValidationError) as err:
        WorkflowTaskPollRequest.model_validate({"task_queue": "q"})
    assert ("worker_id",) in [e["loc"] for e in err.value.errors()]


def test_activity_fail_requires_failure_message() -> None:
    with pytest.raises(ValidationError):
        ActivityTaskFailRequest.model_validate(
            {"activity_attempt_id": "a", "lease_owner": "w", "failure": {"type": "X"}}
        )
