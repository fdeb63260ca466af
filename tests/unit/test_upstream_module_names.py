"""Names upstream's client, worker, workflow, testing and sync modules expose, and their behaviour.

The interop session compares every upstream name by introspection; these tests
pin what the re-exported names do here.
"""

from __future__ import annotations

import dataclasses
import threading

import httpx
import pytest

from durable_workflow import client, errors, metrics, sync, testing, worker, workflow
from durable_workflow._compat import query_tasks_enabled
from durable_workflow.external_storage import ExternalPayloadStoragePolicy
from durable_workflow.sync._loop import shared_loop


def test_client_names_are_the_ones_the_client_raises_and_records() -> None:
    assert client.CLIENT_REQUESTS == metrics.CLIENT_REQUESTS
    assert client.CLIENT_REQUEST_DURATION_SECONDS == metrics.CLIENT_REQUEST_DURATION_SECONDS
    assert client.NOOP_METRICS is metrics.NOOP_METRICS
    assert client.ExternalPayloadStoragePolicy is ExternalPayloadStoragePolicy
    for name in ("ServerError", "WorkflowFailed", "WorkflowCancelled", "WorkflowTerminated"):
        assert getattr(client, name) is getattr(errors, name)


def test_worker_names_are_the_protocol_and_metric_facts_it_uses() -> None:
    assert worker.PROTOCOL_VERSION == client.PROTOCOL_VERSION
    assert worker.WORKER_POLLS == metrics.WORKER_POLLS
    assert worker.WORKER_TASK_DURATION_SECONDS == metrics.WORKER_TASK_DURATION_SECONDS
    assert worker.replay is workflow.replay and worker.query_state is workflow.query_state
    assert worker.ActivityCancelled is errors.ActivityCancelled
    info = {"worker_protocol": {"server_capabilities": {worker.QUERY_TASKS_CAPABILITY: True}}}
    assert query_tasks_enabled(info)
    info["worker_protocol"]["server_capabilities"] = {"other": True}
    assert not query_tasks_enabled(info)


def test_testing_and_workflow_expose_commands_and_errors() -> None:
    assert testing.ScheduleActivity is workflow.ScheduleActivity
    assert testing.replay is workflow.replay and testing.registry is workflow.registry
    assert testing.WorkflowFailed is errors.WorkflowFailed
    assert workflow.ActivityFailed is errors.ActivityFailed
    assert workflow.ChildWorkflowFailed is errors.ChildWorkflowFailed
    assert sync.ScheduleSpec is client.ScheduleSpec and sync.TaskQueueList is client.TaskQueueList


def test_task_admission_fields_are_in_upstreams_positional_order() -> None:
    names = [f.name for f in dataclasses.fields(client.TaskQueueTaskAdmission)]
    assert names[8:14] == [
        "server_max_active_leases_per_queue",
        "server_active_lease_count",
        "server_remaining_active_lease_capacity",
        "server_max_active_leases_per_namespace",
        "server_namespace_active_lease_count",
        "server_remaining_namespace_active_lease_capacity",
    ]
    admission = client.TaskQueueTaskAdmission("accepting", None, None, 1, 2, 0, 0, 2, 10, 3)
    assert (admission.server_max_active_leases_per_queue, admission.server_active_lease_count) == (
        10,
        3,
    )


def test_from_dict_fallback_ids_fill_only_a_missing_id() -> None:
    described = client.WorkerDescription.from_dict({"task_queue": "q"}, worker_id="w-1")
    assert (described.worker_id, described.task_queue) == ("w-1", "q")
    assert client.WorkerDescription.from_dict({"worker_id": "w-2"}, worker_id="w-1").worker_id == (
        "w-2"
    )
    execution = client.StandaloneActivityExecution.from_dict(
        {"status": "completed", "result": {"codec": "json", "blob": "1"}},
        activity_id="a-1",
        result=42,
    )
    assert (execution.activity_id, execution.result) == ("a-1", 42)
    decoded = client.StandaloneActivityExecution.from_dict(
        {"activity_id": "a-2", "result": {"codec": "json", "blob": "7"}},
        activity_id="a-1",
        decode=lambda envelope, codec: int(envelope["blob"]),
    )
    assert (decoded.activity_id, decoded.result) == ("a-2", 7)


def test_sync_handles_built_from_an_async_handle_alone() -> None:
    seen: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/api/workflows/wf-1":
            return httpx.Response(200, json={"workflow_id": "wf-1", "status": "running"})
        if request.url.path == "/api/schedules/s-1":
            return httpx.Response(200, json={"schedule_id": "s-1"})
        return httpx.Response(404, json={"reason": "not_found"})

    async_client = client.Client("http://dw.test", transport=httpx.MockTransport(server))
    try:
        handle = sync.SyncWorkflowHandle(async_client.get_workflow_handle("wf-1"))
        assert handle.describe().status == "running"
        schedule = sync.SyncScheduleHandle(async_handle=async_client.get_schedule_handle("s-1"))
        assert schedule.describe().schedule_id == "s-1"
        activity = sync.SyncStandaloneActivityHandle(
            async_client.get_activity_handle("a-1", activity_type="charge")
        )
        assert (activity.activity_type, activity.workflow_type) == ("charge", "")
        with pytest.raises(errors.DurableWorkflowError):
            activity.describe()
    finally:
        shared_loop().run(async_client.aclose())
    assert seen[:2] == ["GET /api/workflows/wf-1", "GET /api/schedules/s-1"]
    # Every hand-built handle shares one loop thread, started once.
    threads = [t for t in threading.enumerate() if t.name == "durable-workflow-sync-shared"]
    assert len(threads) == 1 and shared_loop() is shared_loop()
