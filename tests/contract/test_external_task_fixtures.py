"""Upstream external-task input/result envelopes fit their generated models."""

from __future__ import annotations

from pathlib import Path

import pytest
from _upstream import ids, load, require_upstream, upstream_files
from pydantic import ValidationError

from durable_workflow._generated.models.external_task_input import (
    ExternalActivityTaskInput,
    ExternalTaskInput,
    ExternalWorkflowTaskInput,
)
from durable_workflow._generated.models.external_task_result import (
    ExternalTaskFailureResult,
    ExternalTaskResult,
    ExternalTaskSuccessResult,
)

INPUTS = upstream_files("external-task-input")
RESULTS = upstream_files("external-task-result")


@pytest.mark.parametrize("path", INPUTS or [None], ids=ids(INPUTS) or ["absent"])
def test_input_envelope_validates(path: Path | None) -> None:
    require_upstream("external-task-input")
    assert path is not None
    data = load(path)
    parsed = ExternalTaskInput.model_validate(data).root
    expected = (
        ExternalWorkflowTaskInput
        if data["task"]["kind"] == "workflow_task"
        else ExternalActivityTaskInput
    )
    assert isinstance(parsed, expected)
    assert parsed.task.id == data["task"]["id"]


@pytest.mark.parametrize("path", RESULTS or [None], ids=ids(RESULTS) or ["absent"])
def test_result_envelope_validates(path: Path | None) -> None:
    require_upstream("external-task-result")
    assert path is not None
    data = load(path)
    parsed = ExternalTaskResult.model_validate(data).root
    if data["outcome"]["status"] == "succeeded":
        assert isinstance(parsed, ExternalTaskSuccessResult)
    else:
        assert isinstance(parsed, ExternalTaskFailureResult)
        assert parsed.failure.kind == data["failure"]["kind"]


def test_input_without_history_is_rejected() -> None:
    require_upstream("external-task-input")
    data = load(_workflow_input_path())
    del data["history"]
    with pytest.raises(ValidationError):
        ExternalTaskInput.model_validate(data)


def test_failure_with_unknown_kind_is_rejected() -> None:
    require_upstream("external-task-result")
    data = load(next(p for p in RESULTS if p.stem.startswith("failure")))
    data["failure"]["kind"] = "gremlins"
    with pytest.raises(ValidationError):
        ExternalTaskResult.model_validate(data)


def _workflow_input_path() -> Path:
    return next(p for p in INPUTS if p.stem.startswith("workflow-task"))
