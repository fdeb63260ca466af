"""CLI commands built on ``Client`` methods rather than one catalogued operation.

``workflow result`` waits for a workflow's outcome (following every history
page and continue-as-new), and ``activity start|describe|list|result`` drive
standalone activities, whose routes are not in the server's catalogue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from durable_workflow.cli._control_spec_types import Arg
from durable_workflow.client import Client

__all__ = ["EXTRA_COMMANDS", "ExtraCommand"]

Runner = Callable[[Client, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class ExtraCommand:
    """A command whose arguments become keyword arguments of ``run`` (target ``kw:<name>``)."""

    words: tuple[str, ...]
    args: tuple[Arg, ...]
    run: Runner
    help: str = ""


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


async def _workflow_result(client: Client, kw: dict[str, Any]) -> Any:
    handle = client.get_workflow_handle(kw["workflow_id"], run_id=kw.get("run_id"))
    result = await client.get_result(handle, timeout=float(kw.get("timeout", 30)))
    return {"workflow_id": handle.workflow_id, "result": result}


async def _activity_start(client: Client, kw: dict[str, Any]) -> Any:
    handle = await client.start_activity(**kw)
    return {
        "activity_id": handle.activity_id,
        "workflow_run_id": handle.workflow_run_id,
        "activity_execution_id": handle.activity_execution_id,
        "activity_type": handle.activity_type,
    }


async def _activity_describe(client: Client, kw: dict[str, Any]) -> Any:
    return _plain(await client.describe_activity(kw["activity_id"]))


async def _activity_list(client: Client, kw: dict[str, Any]) -> Any:
    return _plain(await client.list_activities(**kw))


async def _activity_result(client: Client, kw: dict[str, Any]) -> Any:
    handle = client.get_activity_handle(kw["activity_id"])
    result = await client.get_activity_result(handle, timeout=float(kw.get("timeout", 30)))
    return {"activity_id": handle.activity_id, "result": result}


_TIMEOUT = Arg("--timeout", "kw:timeout", "int", help="seconds to wait (default 30)")
_ACTIVITY_ID = Arg("activity-id", "kw:activity_id")

EXTRA_COMMANDS: tuple[ExtraCommand, ...] = (
    ExtraCommand(
        ("workflow", "result"),
        (Arg("workflow-id", "kw:workflow_id"), Arg("--run-id", "kw:run_id"), _TIMEOUT),
        _workflow_result,
        "wait for a workflow's result (follows continue-as-new)",
    ),
    ExtraCommand(
        ("activity", "start"),
        (
            Arg("--type", "kw:activity_type", help="activity type"),
            Arg("--task-queue", "kw:task_queue"),
            Arg("--activity-id", "kw:activity_id"),
            Arg("--input", "kw:input", "json", help="arguments as a JSON array"),
            Arg("--business-key", "kw:business_key"),
            Arg("--start-to-close-timeout", "kw:start_to_close_timeout_seconds", "int"),
            Arg("--schedule-to-close-timeout", "kw:schedule_to_close_timeout_seconds", "int"),
            Arg("--heartbeat-timeout", "kw:heartbeat_timeout_seconds", "int"),
        ),
        _activity_start,
        "start a standalone activity",
    ),
    ExtraCommand(("activity", "describe"), (_ACTIVITY_ID,), _activity_describe, "describe one"),
    ExtraCommand(
        ("activity", "list"),
        (
            Arg("--status", "kw:status", help="running, completed or failed"),
            Arg("--limit", "kw:page_size", "int"),
            Arg("--next-page-token", "kw:next_page_token"),
        ),
        _activity_list,
        "list standalone activities",
    ),
    ExtraCommand(
        ("activity", "result"), (_ACTIVITY_ID, _TIMEOUT), _activity_result, "wait for a result"
    ),
)
