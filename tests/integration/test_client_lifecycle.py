"""Whole lifecycles through ``Client`` and the CLI against the real dev server over HTTP.

The dev server grows endpoint by endpoint; an operation it answers with 501
``not_implemented`` skips the rest of that test naming the missing endpoint,
so these tests light up as the server catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import pytest
from generations import SpecCheck

from durable_workflow import errors
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow.cli._control import run_control
from durable_workflow.client import (
    Client,
    NamespaceDescription,
    ScheduleAction,
    ScheduleDescription,
    ScheduleSpec,
    WorkflowExecution,
)
from durable_workflow.testing import DevServerHandle, async_dev_server

T = TypeVar("T")


@pytest.fixture
async def server(generation: int) -> AsyncIterator[DevServerHandle]:
    async with async_dev_server(
        poll_timeout=1.0,
        token="life-token",
        generation=generation,  # type: ignore[arg-type]
    ) as handle:
        yield handle


@pytest.fixture
async def client(server: DevServerHandle, spec: SpecCheck) -> AsyncIterator[Client]:
    async with spec.attach(Client(server.url, token=server.token)) as c:
        yield c


async def implemented(operation: str, call: Awaitable[T]) -> T:
    """Await ``call``; skip the test when the dev server does not implement ``operation``."""
    try:
        return await call
    except errors.ServerError as exc:
        if exc.status == 501 and exc.reason() == "not_implemented":
            spec = OPERATIONS[operation]
            pytest.skip(
                f"dev server does not implement {operation} ({spec.method} {spec.path}) yet"
            )
        raise


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_workflow_lifecycle(client: Client) -> None:
    workflow_id = _unique("life-wf")
    handle = await client.start_workflow(
        workflow_type="life.noop",
        task_queue="life-idle",
        workflow_id=workflow_id,
        input=[{"n": 1}],
        memo={"source": "lifecycle"},
    )
    assert handle.run_id
    described = await handle.describe()
    assert isinstance(described, WorkflowExecution)
    assert described.input == [{"n": 1}] and not described.is_terminal

    listed = [w.workflow_id async for w in client.iter_workflows(workflow_type="life.noop")]
    assert workflow_id in listed

    # The snapshot answers a duplicate with 409 (upstream maps only duplicate_not_allowed).
    with pytest.raises((errors.WorkflowAlreadyStarted, errors.ServerError)) as duplicate:
        await client.start_workflow(
            workflow_type="life.noop",
            task_queue="life-idle",
            workflow_id=workflow_id,
            duplicate_policy="fail",
        )
    assert getattr(duplicate.value, "status", 409) == 409

    await implemented("workflow.signal", handle.signal("poke", [1]))
    runs = await handle.list_runs()
    assert [r.run_id for r in runs.runs] == [handle.run_id]
    history = client.iter_history_events(workflow_id, handle.run_id)
    events = [event["event_type"] async for event in history]
    assert "WorkflowStarted" in events

    await implemented("workflow.terminate", handle.terminate(reason="lifecycle done"))
    with pytest.raises(errors.WorkflowTerminated):
        await handle.result(timeout=5, poll_interval=0.05)
    run = await handle.describe_run()
    assert run.status == "terminated"

    bundle = await implemented("workflow.history_export", handle.export_history())
    assert isinstance(bundle, dict)
    archived = await implemented("workflow.archive", handle.archive(reason="cleanup"))
    assert archived.workflow_id == workflow_id


async def test_namespace_lifecycle(client: Client) -> None:
    name = _unique("life-ns")
    created = await implemented(
        "namespace.create", client.create_namespace(name, description="lifecycle", retention_days=7)
    )
    assert isinstance(created, NamespaceDescription)
    assert (created.name, created.retention_days) == (name, 7)
    assert (await client.describe_namespace(name)).description == "lifecycle"
    updated = await implemented(
        "namespace.update", client.update_namespace(name, retention_days=14)
    )
    assert updated.retention_days == 14
    names = [ns.name for ns in (await client.list_namespaces()).namespaces]
    assert name in names
    with pytest.raises(errors.DurableWorkflowError):
        await client.describe_namespace(_unique("missing-ns"))


async def test_schedule_lifecycle(client: Client) -> None:
    schedule_id = _unique("life-sched")
    handle = await implemented(
        "schedule.create",
        client.create_schedule(
            schedule_id=schedule_id,
            spec=ScheduleSpec(intervals=[{"every": "PT1H"}]),
            action=ScheduleAction("life.noop", task_queue="life-idle", input=[1]),
            paused=True,
        ),
    )
    described = await implemented("schedule.describe", handle.describe())
    assert isinstance(described, ScheduleDescription)
    assert described.schedule_id == schedule_id
    await implemented("schedule.resume", handle.resume(note="go"))
    await implemented("schedule.pause", handle.pause(note="stop"))
    triggered = await implemented("schedule.trigger", handle.trigger())
    assert triggered.schedule_id in (None, schedule_id)
    listed = {s.schedule_id: s async for s in client.iter_schedules()}
    # list items carry spec and action, which upstream's list omits (control-plane §9.2)
    assert listed[schedule_id].spec == described.spec is not None
    assert listed[schedule_id].action == described.action is not None
    await implemented("schedule.delete", handle.delete())
    with pytest.raises(errors.ScheduleNotFound):
        await handle.describe()


def _cli_json(server: DevServerHandle, *argv: str) -> Any:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_control(
            [*argv, "--server", server.url, "--token", server.token or "", "--output", "json"]
        )
    assert code == 0
    return json.loads(out.getvalue())


async def test_cli_output_json_parses_back(server: DevServerHandle) -> None:
    workflow_id = _unique("life-cli")

    def drive() -> tuple[Any, Any, Any]:
        started = _cli_json(
            server,
            "workflow",
            "start",
            "--type",
            "life.noop",
            "--workflow-id",
            workflow_id,
            "--task-queue",
            "life-idle",
            "--input",
            '[{"n": 2}]',
        )
        described = _cli_json(server, "workflow", "describe", workflow_id)
        listed = _cli_json(server, "workflow", "list", "--type", "life.noop")
        return started, described, listed

    # The CLI runs its own event loop, so it is driven from a worker thread here.
    started, described, listed = await asyncio.to_thread(drive)
    assert started["workflow_id"] == workflow_id and started["run_id"]
    assert described["workflow_id"] == workflow_id
    assert described["run_id"] == started["run_id"]
    assert workflow_id in [w["workflow_id"] for w in listed["workflows"]]
