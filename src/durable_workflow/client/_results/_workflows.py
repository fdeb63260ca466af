"""Result dataclasses returned by ``Client`` (upstream field names, all optional).

They are plain dataclasses rather than the generated pydantic models because
upstream users construct and compare them directly; parsing tolerates missing
keys (older servers, the PHP empty-array quirk) instead of rejecting a response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "TERMINAL_STATUSES",
    "WorkflowExecution",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
]

TERMINAL_STATUSES = frozenset({"completed", "failed", "terminated", "canceled", "cancelled"})

PayloadDecoder = Callable[[Mapping[str, Any], str | None], Any]


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, dict) else None


def decoded_value(
    data: Mapping[str, Any], key: str, decode: PayloadDecoder | None, codec: str | None
) -> Any:
    """``data[key]``, replaced by the decoded ``<key>_envelope`` when the server sent one."""
    envelope = data.get(f"{key}_envelope")
    if decode is not None and isinstance(envelope, dict) and "codec" in envelope:
        return decode(envelope, codec)
    return data.get(key)


@dataclass
class WorkflowExecution:
    """One workflow as ``describe_workflow`` sees it (its current run)."""

    workflow_id: str
    run_id: str | None = None
    workflow_type: str = ""
    status: str | None = None
    namespace: str | None = None
    task_queue: str | None = None
    input: Any = None
    output: Any = None
    payload_codec: str | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the run has closed (any terminal status)."""
        return (self.status or "").lower() in TERMINAL_STATUSES

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        workflow_id: str | None = None,
        decode: PayloadDecoder | None = None,
    ) -> WorkflowExecution:
        codec = _str_or_none(data.get("payload_codec"))
        return cls(
            workflow_id=_str_or_none(data.get("workflow_id")) or workflow_id or "",
            run_id=_str_or_none(data.get("run_id")),
            workflow_type=_str_or_none(data.get("workflow_type")) or "",
            status=_str_or_none(data.get("status")),
            namespace=_str_or_none(data.get("namespace")),
            task_queue=_str_or_none(data.get("task_queue")),
            input=decoded_value(data, "input", decode, codec),
            output=decoded_value(data, "output", decode, codec),
            payload_codec=codec,
        )


@dataclass
class WorkflowList:
    """A page of ``list_workflows``."""

    executions: list[WorkflowExecution] = field(default_factory=list)
    next_page_token: str | None = None


@dataclass
class WorkflowRun:
    """One run of a workflow (``describe_workflow_run`` / items of ``list_workflow_runs``)."""

    workflow_id: str | None = None
    run_id: str | None = None
    workflow_type: str | None = None
    status: str | None = None
    namespace: str | None = None
    task_queue: str | None = None
    run_number: int | None = None
    run_count: int | None = None
    is_current_run: bool | None = None
    status_bucket: str | None = None
    business_key: str | None = None
    compatibility: str | None = None
    payload_codec: str | None = None
    input: Any = None
    output: Any = None
    memo: dict[str, Any] | None = None
    search_attributes: dict[str, Any] | None = None
    actions: dict[str, Any] | None = None
    started_at: str | None = None
    closed_at: str | None = None
    last_progress_at: str | None = None
    closed_reason: str | None = None
    wait_kind: str | None = None
    wait_reason: str | None = None
    execution_timeout_seconds: int | None = None
    run_timeout_seconds: int | None = None
    execution_deadline_at: str | None = None
    run_deadline_at: str | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether this run has closed."""
        return (self.status or "").lower() in TERMINAL_STATUSES

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        workflow_id: str | None = None,
        run_id: str | None = None,
        decode: PayloadDecoder | None = None,
    ) -> WorkflowRun:
        codec = _str_or_none(data.get("payload_codec"))
        current = data.get("is_current_run")
        return cls(
            workflow_id=_str_or_none(data.get("workflow_id")) or workflow_id,
            run_id=_str_or_none(data.get("run_id")) or run_id,
            workflow_type=_str_or_none(data.get("workflow_type")),
            status=_str_or_none(data.get("status")),
            namespace=_str_or_none(data.get("namespace")),
            task_queue=_str_or_none(data.get("task_queue")),
            run_number=_int_or_none(data.get("run_number")),
            run_count=_int_or_none(data.get("run_count")),
            is_current_run=current if isinstance(current, bool) else None,
            status_bucket=_str_or_none(data.get("status_bucket")),
            business_key=_str_or_none(data.get("business_key")),
            compatibility=_str_or_none(data.get("compatibility")),
            payload_codec=codec,
            input=decoded_value(data, "input", decode, codec),
            output=decoded_value(data, "output", decode, codec),
            memo=_dict_or_none(data.get("memo")),
            search_attributes=_dict_or_none(data.get("search_attributes")),
            actions=_dict_or_none(data.get("actions")),
            started_at=_str_or_none(data.get("started_at")),
            closed_at=_str_or_none(data.get("closed_at")),
            last_progress_at=_str_or_none(data.get("last_progress_at")),
            closed_reason=_str_or_none(data.get("closed_reason")),
            wait_kind=_str_or_none(data.get("wait_kind")),
            wait_reason=_str_or_none(data.get("wait_reason")),
            execution_timeout_seconds=_int_or_none(data.get("execution_timeout_seconds")),
            run_timeout_seconds=_int_or_none(data.get("run_timeout_seconds")),
            execution_deadline_at=_str_or_none(data.get("execution_deadline_at")),
            run_deadline_at=_str_or_none(data.get("run_deadline_at")),
        )


@dataclass
class WorkflowRunList:
    """All runs of one workflow id (a continue-as-new chain), oldest first."""

    workflow_id: str
    run_count: int = 0
    runs: list[WorkflowRun] = field(default_factory=list)
