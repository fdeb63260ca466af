"""Child workflows over raw HTTP and through the SDK (engine-semantics.md §12)."""

from __future__ import annotations

import uuid
from typing import Any

from server_http_helpers import Api

from durable_workflow import Client, Worker, workflow
from durable_workflow.server.engine.payload_codec import encode_avro
from durable_workflow.testing import async_dev_server


def _poll(api: Api, queue: str = "q", worker: str = "w1") -> dict[str, Any]:
    task = api.worker("/workflow-tasks/poll", {"worker_id": worker, "task_queue": queue}).json()[
        "task"
    ]
    assert task is not None
    return dict(task)


def _complete(
    api: Api, task: dict[str, Any], commands: list[dict[str, Any]], worker: str = "w1"
) -> dict[str, Any]:
    response = api.worker(
        f"/workflow-tasks/{task['task_id']}/complete",
        {"lease_owner": worker, "workflow_task_attempt": task["workflow_task_attempt"],
         "commands": commands},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json())


def _types(api: Api, workflow_id: str, run_id: str) -> list[str]:
    events = api.control("GET", f"/workflows/{workflow_id}/runs/{run_id}/history").json()["events"]
    return [e["event_type"] for e in events]


def _start_child(api: Api, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    api.start()
    api.register()
    parent = _poll(api)
    command = {"type": "start_child_workflow", "workflow_type": "kid", "queue": "q",
               "arguments": encode_avro([1]), **extra}  # fmt: skip
    done = _complete(api, parent, [command])
    child = _poll(api)
    assert child["task_id"] in done["created_task_ids"]
    return parent, child


def test_child_completion_notifies_the_parent_with_its_result(api: Api) -> None:
    parent, child = _start_child(api)
    assert child["workflow_type"] == "kid" and child["workflow_id"] != "wf-1"
    started = child["history_events"][0]["payload"]
    assert started["parent_workflow_instance_id"] == "wf-1"
    assert started["parent_workflow_run_id"] == parent["run_id"]
    assert _types(api, "wf-1", parent["run_id"])[-2:] == [
        "ChildWorkflowScheduled",
        "ChildRunStarted",
    ]
    _complete(api, child, [{"type": "complete_workflow", "result": encode_avro("hi")}])
    resumed = _poll(api)
    assert resumed["run_id"] == parent["run_id"] and resumed["workflow_wait_kind"] == "child"
    last = resumed["history_events"][-1]
    assert last["event_type"] == "ChildRunCompleted"
    assert last["payload"]["result"] == encode_avro("hi") and last["payload"]["output"]
    assert last["payload"]["child_call_id"] == resumed["child_call_id"]


def test_failed_child_is_retried_then_reported(api: Api) -> None:
    parent, child = _start_child(api, retry_policy={"max_attempts": 2, "backoff_seconds": [0]})
    failure = {"type": "fail_workflow", "message": "bad", "exception_type": "ValueError"}
    _complete(api, child, [failure])
    retry = _poll(api)
    assert retry["workflow_id"] == child["workflow_id"] and retry["run_id"] != child["run_id"]
    assert _types(api, "wf-1", parent["run_id"])[-1] == "ChildRunStarted"
    _complete(api, retry, [failure])
    resumed = _poll(api)
    assert resumed["run_id"] == parent["run_id"]
    last = resumed["history_events"][-1]
    assert last["event_type"] == "ChildRunFailed"
    assert last["payload"]["message"] == "bad" and last["payload"]["exception_type"] == "ValueError"


def test_parent_close_policy_terminates_open_children(api: Api) -> None:
    parent, child = _start_child(api, parent_close_policy="terminate")
    closed = api.control("POST", "/workflows/wf-1/cancel", json={})
    assert closed.status_code == 200
    child_view = api.control("GET", f"/workflows/{child['workflow_id']}").json()
    assert child_view["status"] == "terminated"
    assert _types(api, "wf-1", parent["run_id"])[-1] == "ParentClosePolicyApplied"


def test_cancelling_a_child_records_it_on_the_parent(api: Api) -> None:
    parent, child = _start_child(api)
    api.control("POST", f"/workflows/{child['workflow_id']}/cancel", json={})
    resumed = _poll(api)
    assert resumed["run_id"] == parent["run_id"]
    assert resumed["history_events"][-1]["event_type"] == "ChildRunCancelled"


def test_invalid_child_command_is_422(api: Api) -> None:
    api.start()
    api.register()
    task = _poll(api)
    response = api.worker(
        f"/workflow-tasks/{task['task_id']}/complete",
        {"lease_owner": "w1", "workflow_task_attempt": 1,
         "commands": [{"type": "start_child_workflow", "parent_close_policy": "explode"}]},
    )  # fmt: skip
    assert response.status_code == 422


@workflow.defn(name="dev-server-child")
class Child:
    def run(self, ctx: Any, value: int) -> Any:
        yield ctx.sleep(0)
        return value * 10


@workflow.defn(name="dev-server-parent")
class Parent:
    def run(self, ctx: Any, value: int) -> Any:
        result = yield ctx.start_child_workflow("dev-server-child", [value])
        return result + 1


async def test_sdk_parent_gets_its_child_result() -> None:
    async with async_dev_server(poll_timeout=2.0) as server, Client(server.url) as client:
        worker = Worker(client, task_queue="q", workflows=[Parent, Child])
        handle = await client.start_workflow(
            workflow_type="dev-server-parent",
            workflow_id=f"parent-{uuid.uuid4().hex[:8]}",
            task_queue="q",
            input=[4],
        )
        await worker.run_until(workflow_id=handle.workflow_id, timeout=30.0)
        assert await client.get_result(handle) == 41
