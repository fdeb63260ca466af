"""The Worker as upstream 0.4.53's own tests drive it: a test double of Client, its hooks."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import AsyncMock

import pytest

from durable_workflow import activity, errors, serializer, workflow
from durable_workflow._generated import manifest
from durable_workflow.client import Client
from durable_workflow.metrics import WORKER_POLLS, InMemoryMetrics
from durable_workflow.worker import Worker, _should_fail_workflow_task_after_completion_error


@workflow.defn(name="hooks.greet")
class Greet:
    def run(self, ctx: workflow.WorkflowContext, name: str) -> Any:
        return (yield ctx.schedule_activity("hooks.echo", [name]))


@activity.defn(name="hooks.echo")
async def echo(value: str) -> str:
    await asyncio.sleep(0.01)
    return value


def double() -> AsyncMock:
    """A spec'd double of Client: no converter, metrics or namespace attributes."""
    client = AsyncMock(spec=Client)
    client.complete_workflow_task = AsyncMock(return_value={"outcome": "completed"})
    client.fail_workflow_task = AsyncMock(return_value={"outcome": "failed"})
    client.complete_activity_task = AsyncMock(return_value={"outcome": "completed"})
    client.register_worker = AsyncMock(return_value={"heartbeat_interval_seconds": 7})
    client.get_cluster_info = AsyncMock(
        return_value={
            "control_plane": {
                "version": manifest.CONTROL_PLANE_VERSION,
                "request_contract": {
                    "schema": manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA,
                    "version": manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION,
                },
            },
            "worker_protocol": {"version": manifest.WORKER_PROTOCOL_VERSION},
            "auth_composition_contract": manifest.AUTH_COMPOSITION_CONTRACT,
        }
    )
    return client


def task(**extra: Any) -> dict[str, Any]:
    # No lease fields: a hand-built task is this worker's first attempt.
    return {
        "task_id": "t-1",
        "workflow_type": "hooks.greet",
        "history_events": [],
        "arguments": serializer.envelope(["ada"], codec="json"),
        "payload_codec": "json",
        **extra,
    }


async def test_a_workflow_task_returns_its_commands_also_when_completion_is_ambiguous() -> None:
    client = double()
    client.complete_workflow_task.side_effect = errors.ServerError(409, {"reason": "lease_expired"})
    commands = await Worker(client, task_queue="q", workflows=[Greet])._run_workflow_task(task())
    assert commands is not None and commands[0]["type"] == "schedule_activity"
    assert client.complete_workflow_task.await_args.kwargs["workflow_task_attempt"] == 1
    client.fail_workflow_task.assert_not_awaited()


async def test_a_definite_completion_rejection_fails_the_task_even_if_reporting_fails() -> None:
    client = double()
    client.complete_workflow_task.side_effect = errors.ServerError(409, {"reason": "bad"})
    client.fail_workflow_task.side_effect = RuntimeError("report lost")
    assert (
        await Worker(client, task_queue="q", workflows=[Greet])._run_workflow_task(task()) is None
    )
    assert client.fail_workflow_task.await_args.kwargs["failure_type"] == "ServerError"


async def test_a_timeout_on_completion_is_retried() -> None:
    client = double()
    client.complete_workflow_task.side_effect = [TimeoutError("slow"), {"outcome": "completed"}]
    assert (
        await Worker(client, task_queue="q", workflows=[Greet])._run_workflow_task(task())
        is not None
    )
    assert client.complete_workflow_task.await_count == 2


@pytest.mark.parametrize(
    ("error", "fails"),
    [
        (TimeoutError(), False),
        (errors.ServerError(503, {}), False),
        (errors.ServerError(409, {"reason": "task_not_leased"}), False),
        (errors.TransportError("down"), False),
        (errors.ServerError(409, {"reason": "invalid_commands"}), True),
        (errors.InvalidArgument("bad"), True),
        (errors.WorkflowNotFound("wf"), True),
    ],
)
def test_which_completion_errors_fail_the_task(error: BaseException, fails: bool) -> None:
    assert _should_fail_workflow_task_after_completion_error(error) is fails


async def test_an_unsupported_task_codec_fails_before_replay_as_a_value_error() -> None:
    client = double()
    await Worker(client, task_queue="q", workflows=[Greet])._run_workflow_task(
        task(payload_codec="zstd")
    )
    failure = client.fail_workflow_task.await_args.kwargs
    assert failure["failure_type"] == "ValueError"
    assert failure["message"].startswith("Unsupported payload codec 'zstd'")


async def test_registration_checks_the_server_and_adopts_its_heartbeat_cadence() -> None:
    client = double()
    worker = Worker(client, task_queue="q", heartbeat_interval=120.0)
    await worker._register()
    client.get_cluster_info.assert_awaited_once()
    assert worker.heartbeat_interval == 7.0 == worker._heartbeat_interval


async def test_a_broken_discovery_is_a_compatibility_runtime_error() -> None:
    client = double()
    client.get_cluster_info.side_effect = RuntimeError("network down")
    with pytest.raises(RuntimeError, match="unable to read /api/cluster/info: network down"):
        await Worker(client, task_queue="q")._register()
    client.register_worker.assert_not_awaited()


async def test_stop_waits_for_tracked_tasks_and_frees_their_slots() -> None:
    client = double()
    worker = Worker(client, task_queue="q", activities=[echo], max_concurrent_activity_tasks=2)
    assert worker._act_semaphore._value == 2 and worker._wf_semaphore._value == 10
    await worker._act_semaphore.acquire()
    worker._track(
        worker._dispatch_activity_task(
            {"task_id": "a-1", "activity_attempt_id": "aa-1", "activity_type": "hooks.echo",
             "arguments": '["x"]', "payload_codec": "json"}
        )
    )  # fmt: skip
    assert not worker._stop.is_set()
    await worker.stop()
    assert worker._stop.is_set() and not worker._in_flight
    assert worker._act_semaphore._value == 2
    assert client.complete_activity_task.await_args.kwargs["result"] == "x"


async def test_the_poll_loop_records_an_empty_poll() -> None:
    metrics = InMemoryMetrics()
    client = double()
    client.poll_workflow_task = AsyncMock(return_value=None)
    worker = Worker(client, task_queue="q", metrics=metrics)
    loop = asyncio.create_task(
        worker._poll_loop("workflow", worker._workflow_slots, worker._poll_workflow, AsyncMock())
    )
    while client.poll_workflow_task.await_count < 1:
        await asyncio.sleep(0.001)
    loop.cancel()
    await asyncio.gather(loop, return_exceptions=True)
    tags = {"task_kind": "workflow", "task_queue": "q", "outcome": "empty"}
    assert metrics.counter_value(WORKER_POLLS, tags) >= 1
