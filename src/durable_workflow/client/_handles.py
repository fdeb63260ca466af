"""Handles: a workflow, a schedule or a standalone activity, bound to its ``Client``.

A handle sends nothing until used; each method calls the ``Client`` method of
the same concern with the handle's id. Kept apart from the client so each
method family can build handles without importing the whole client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar, overload

from durable_workflow import errors
from durable_workflow.client import _client
from durable_workflow.client._results import (
    ScheduleBackfillResult,
    ScheduleDescription,
    ScheduleHistoryEvent,
    ScheduleHistoryPage,
    ScheduleTriggerResult,
    StandaloneActivityExecution,
    WorkflowCommandResult,
    WorkflowExecution,
    WorkflowRun,
    WorkflowRunList,
)
from durable_workflow.client._results._schedule_args import ActionArg, SpecArg
from durable_workflow.client._typing import UpdateWaitFor
from durable_workflow.converter._rich_values import from_plain, return_type
from durable_workflow.workflow._decorators import MESSAGE_MARKS

__all__ = ["ScheduleHandle", "StandaloneActivityHandle", "WorkflowHandle"]

ResultT = TypeVar("ResultT")
R = TypeVar("R")


def message_name(message: str | Callable[..., Any], kind: str) -> str:
    """A signal/query/update given by name or by its decorated workflow method."""
    if isinstance(message, str):
        return message
    name = getattr(message, MESSAGE_MARKS[kind], None)
    if not isinstance(name, str):
        raise TypeError(f"{kind}_name must be a name or a @workflow.{kind} method, got {message!r}")
    return name


def _answer_value(client: _client.Client, data: Mapping[str, Any]) -> Any:
    """The value of a query/update answer: its decoded envelope, else its plain ``result``."""
    envelope = data.get("result_envelope")
    if data.get("result") is None and isinstance(envelope, Mapping) and envelope.get("codec"):
        return client._decode(envelope, None)
    return data.get("result")


def _failure_text(name: str, data: Mapping[str, Any]) -> str:
    for key in ("failure_message", "message", "rejection_reason"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return f"update {name!r} failed"


def _raise_unless_completed(name: str, data: Mapping[str, Any]) -> None:
    """``UpdateRejected`` for a failed update, ``TimeoutError`` when the wait ran out."""
    status = data.get("update_status")
    if status == "failed" or data.get("outcome") == "update_failed":
        raise errors.UpdateRejected(_failure_text(name, data))
    if status not in (None, "completed"):
        raise TimeoutError(f"update {name!r} is {status}, not completed, after the wait")


class WorkflowHandle(Generic[ResultT]):
    """A reference to one workflow (and optionally one of its runs); no I/O until used.

    ``WorkflowHandle[T]``: :meth:`result` returns ``T``, read from the workflow
    class's ``run`` annotation when the handle came from ``start_workflow``
    with the class (``result_type`` holds it, and the result is decoded into
    it: a dataclass, a pydantic model, a datetime, ...).
    """

    def __init__(
        self,
        client: _client.Client,
        workflow_id: str,
        run_id: str | None = None,
        workflow_type: str = "",
        *,
        result_type: Any = None,
    ) -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.workflow_type = workflow_type
        self.result_type = result_type

    def __repr__(self) -> str:
        return (
            f"WorkflowHandle(workflow_id={self.workflow_id!r}, run_id={self.run_id!r}, "
            f"workflow_type={self.workflow_type!r})"
        )

    def _require_run(self, what: str, purpose: str) -> str:
        if not self.run_id:
            raise ValueError(
                f"run_id is required to {purpose} from a handle "
                f"({what}() needs a run_id on the handle)"
            )
        return self.run_id

    async def result(self, *, poll_interval: float = 0.5, timeout: float = 30.0) -> ResultT:
        """Wait for the workflow's final result (see ``Client.get_result``).

        With a ``result_type`` the value is decoded into it.
        """
        value = await self.client.get_result(self, poll_interval=poll_interval, timeout=timeout)
        return from_plain(value, self.result_type, "workflow result")  # type: ignore[no-any-return]

    async def describe(self) -> WorkflowExecution:
        return await self.client.describe_workflow(self.workflow_id)

    async def get_history(self) -> dict[str, Any]:
        return await self.client.get_history(
            self.workflow_id, self._require_run("get_history", "fetch workflow history")
        )

    async def export_history(self) -> dict[str, Any]:
        run_id = self._require_run("export_history", "export workflow history")
        return await self.client.export_history(self.workflow_id, run_id)

    async def list_runs(self) -> WorkflowRunList:
        return await self.client.list_workflow_runs(self.workflow_id)

    async def describe_run(self, run_id: str | None = None) -> WorkflowRun:
        target = run_id or self.run_id
        if not target:
            raise ValueError(
                "run_id is required to describe a workflow run from a handle "
                "(describe_run() needs a run_id, as argument or on the handle)"
            )
        return await self.client.describe_workflow_run(self.workflow_id, target)

    async def signal(
        self, signal_name: str | Callable[..., Any], args: Sequence[Any] | None = None
    ) -> None:
        """Send a signal, named or given as the ``@workflow.signal`` method."""
        name = message_name(signal_name, "signal")
        await self.client.signal_workflow(self.workflow_id, name, args=args)

    async def query(self, query_name: str, args: Sequence[Any] | None = None) -> dict[str, Any]:
        return await self.client.query_workflow(self.workflow_id, query_name, args=args)

    async def update(
        self,
        update_name: str,
        args: Sequence[Any] | None = None,
        *,
        wait_for: UpdateWaitFor | None = None,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        return await self.client.update_workflow(
            self.workflow_id,
            update_name,
            args=args,
            wait_for=wait_for,
            wait_timeout_seconds=wait_timeout_seconds,
            request_id=request_id,
        )

    @overload
    async def execute_query(self, query: Callable[..., R], *args: Any) -> R: ...

    @overload
    async def execute_query(self, query: str, *args: Any) -> Any: ...

    async def execute_query(self, query: str | Callable[..., Any], *args: Any) -> Any:
        """Run a query and return its value (not the whole answer ``query`` returns).

        ``query`` is the name or the ``@workflow.query`` method; given the
        method, the value is typed and decoded as its return annotation.
        """
        name = message_name(query, "query")
        data = await self.client.query_workflow(self.workflow_id, name, args=list(args))
        value = _answer_value(self.client, data)
        hint = None if isinstance(query, str) else return_type(query)
        return from_plain(value, hint, f"query {name!r} result")

    @overload
    async def execute_update(
        self,
        update: Callable[..., R],
        *args: Any,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> R: ...

    @overload
    async def execute_update(
        self,
        update: str,
        *args: Any,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> Any: ...

    async def execute_update(
        self,
        update: str | Callable[..., Any],
        *args: Any,
        wait_timeout_seconds: int | None = None,
        request_id: str | None = None,
    ) -> Any:
        """Send an update, wait until it completes and return its value.

        ``update`` is the name or the ``@workflow.update`` method (typed and
        decoded as its return annotation). A rejected or failed update raises
        ``UpdateRejected`` (``update`` returns the whole answer instead).
        """
        name = message_name(update, "update")
        try:
            data = await self.client.update_workflow(
                self.workflow_id,
                name,
                args=list(args),
                wait_for="completed",
                wait_timeout_seconds=wait_timeout_seconds,
                request_id=request_id,
            )
        except errors.ServerValidationFailed as exc:
            # A 0.x server answers a failed update with 422 and the update's outcome.
            body = exc.body if isinstance(exc.body, Mapping) else {}
            if body.get("update_status") != "failed":
                raise
            raise errors.UpdateRejected(_failure_text(name, body)) from exc
        _raise_unless_completed(name, data)
        value = _answer_value(self.client, data)
        hint = None if isinstance(update, str) else return_type(update)
        return from_plain(value, hint, f"update {name!r} result")

    async def cancel(self, *, reason: str | None = None) -> None:
        await self.client.cancel_workflow(self.workflow_id, reason=reason)

    async def terminate(self, *, reason: str | None = None) -> None:
        await self.client.terminate_workflow(self.workflow_id, reason=reason)

    async def repair(self) -> WorkflowCommandResult:
        return await self.client.repair_workflow(self.workflow_id)

    async def archive(self, *, reason: str | None = None) -> WorkflowCommandResult:
        return await self.client.archive_workflow(self.workflow_id, reason=reason)


class ScheduleHandle:
    """A reference to one schedule; methods delegate to the ``Client``."""

    def __init__(self, client: _client.Client, schedule_id: str) -> None:
        self.client = client
        self.schedule_id = schedule_id

    def __repr__(self) -> str:
        return f"ScheduleHandle(schedule_id={self.schedule_id!r})"

    async def describe(self) -> ScheduleDescription:
        return await self.client.describe_schedule(self.schedule_id)

    async def update(
        self,
        *,
        spec: SpecArg | None = None,
        action: ActionArg | None = None,
        overlap_policy: str | None = None,
        jitter_seconds: int | None = None,
        max_runs: int | None = None,
        memo: Mapping[str, Any] | None = None,
        search_attributes: Mapping[str, Any] | None = None,
        note: str | None = None,
    ) -> None:
        await self.client.update_schedule(
            self.schedule_id,
            spec=spec,
            action=action,
            overlap_policy=overlap_policy,
            jitter_seconds=jitter_seconds,
            max_runs=max_runs,
            memo=memo,
            search_attributes=search_attributes,
            note=note,
        )

    async def pause(self, *, note: str | None = None) -> None:
        await self.client.pause_schedule(self.schedule_id, note=note)

    async def resume(self, *, note: str | None = None) -> None:
        await self.client.resume_schedule(self.schedule_id, note=note)

    async def trigger(self, *, overlap_policy: str | None = None) -> ScheduleTriggerResult:
        return await self.client.trigger_schedule(self.schedule_id, overlap_policy=overlap_policy)

    async def delete(self) -> None:
        await self.client.delete_schedule(self.schedule_id)

    async def backfill(
        self, *, start_time: str, end_time: str, overlap_policy: str | None = None
    ) -> ScheduleBackfillResult:
        return await self.client.backfill_schedule(
            self.schedule_id,
            start_time=start_time,
            end_time=end_time,
            overlap_policy=overlap_policy,
        )

    async def history(
        self, *, limit: int | None = None, after_sequence: int | None = None
    ) -> ScheduleHistoryPage:
        return await self.client.get_schedule_history(
            self.schedule_id, limit=limit, after_sequence=after_sequence
        )

    def iter_history(
        self, *, limit: int | None = None, after_sequence: int | None = None
    ) -> AsyncIterator[ScheduleHistoryEvent]:
        return self.client.iter_schedule_history(
            self.schedule_id, limit=limit, after_sequence=after_sequence
        )


class StandaloneActivityHandle:
    """A reference to one standalone activity; methods delegate to the ``Client``."""

    def __init__(
        self,
        client: _client.Client,
        activity_id: str,
        *,
        workflow_run_id: str | None = None,
        activity_execution_id: str | None = None,
        workflow_type: str = "",
        activity_type: str = "",
    ) -> None:
        self.client = client
        self.activity_id = activity_id
        self.workflow_run_id = workflow_run_id
        self.activity_execution_id = activity_execution_id
        self.workflow_type = workflow_type
        self.activity_type = activity_type

    def __repr__(self) -> str:
        return f"StandaloneActivityHandle(activity_id={self.activity_id!r})"

    async def describe(self) -> StandaloneActivityExecution:
        return await self.client.describe_activity(self.activity_id)

    async def result(self, *, poll_interval: float = 0.5, timeout: float = 30.0) -> Any:
        return await self.client.get_activity_result(
            self, poll_interval=poll_interval, timeout=timeout
        )

    async def cancel(self, *, reason: str | None = None) -> None:
        """Cancel the activity by cancelling its host workflow (same id)."""
        await self.client.cancel_workflow(self.activity_id, reason=reason)
