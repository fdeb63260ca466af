"""Every other location that accepts ``{codec, external_storage}`` (payloads.md §4.2, [HEAD]).

Control-plane input of start/signal/update/query, workflow-task command payloads,
and the query-task result: each is verified through the namespace driver before
use, stored as the reference only, and shown as the reference wherever it is emitted.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from server_http_helpers import Api, check_model
from test_external_payloads import (
    activity_task,
    assert_field_error,
    complete_activity,
    complete_workflow_task,
    db_text,
    event,
    history,
    offload,
    set_local_policy,
    stored_path,
    workflow_task,
)

from durable_workflow import Client
from durable_workflow.external_storage import LocalFilesystemExternalStorage
from durable_workflow.server.engine.payload_codec import EXTERNAL_MARKER_PREFIX, encode_avro
from durable_workflow.testing import DevServerHandle, async_dev_server


@pytest.fixture
def pool() -> Any:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def tampered(envelope: dict[str, Any]) -> dict[str, Any]:
    """The same envelope with a reference whose hash no longer matches the object."""
    reference = {**envelope["external_storage"], "sha256": "f" * 64}
    return {"codec": envelope["codec"], "external_storage": reference}


def parked(api: Api) -> dict[str, Any]:
    """Start wf-1 and park it on a timer; returns its first task."""
    assert api.start().status_code == 201
    api.register()
    task = workflow_task(api)
    done = complete_workflow_task(api, task, [{"type": "start_timer", "delay_seconds": 3600}])
    assert done.status_code == 200, done.text
    return task


def test_start_input_reference(api: Api, server: DevServerHandle, tmp_path: Path) -> None:
    envelope, blob = offload(tmp_path, ["Ada", {"notes": "n" * 3000}])
    refused = api.start(input=envelope)
    assert_field_error(refused, "input")
    set_local_policy(api, tmp_path)
    assert_field_error(api.start(input=tampered(envelope)), "input.external_storage.sha256")
    wrong_codec = {"codec": "json", "external_storage": envelope["external_storage"]}
    assert_field_error(api.start(input=wrong_codec), "input.external_storage.codec")
    assert api.control("GET", "/workflows/wf-1").status_code == 404  # nothing half-written

    started = api.start(input=envelope)
    assert started.status_code == 201, started.text
    api.register()
    assert workflow_task(api)["arguments"] == envelope
    described = api.control("GET", "/workflows/wf-1")
    check_model("workflow.describe", described)
    assert described.json()["input_envelope"] == envelope
    assert described.json()["input"] == envelope  # read views show the reference
    stored = db_text(server)
    assert blob not in stored and EXTERNAL_MARKER_PREFIX in stored


def test_signal_input_reference(api: Api, tmp_path: Path) -> None:
    set_local_policy(api, tmp_path)
    parked(api)
    envelope, _ = offload(tmp_path, ["go"])
    bad = api.control("POST", "/workflows/wf-1/signal/go", json={"input": tampered(envelope)})
    assert_field_error(bad, "input.external_storage.sha256")
    sent = api.control("POST", "/workflows/wf-1/signal/go", json={"input": envelope})
    assert sent.status_code == 202, sent.text
    events = history(api)
    assert [e["event_type"] for e in events].count("SignalReceived") == 1
    received = event(events, "SignalReceived")["payload"]
    assert received["arguments"] == envelope
    assert received["command"]["payload"] == envelope


def test_update_input_and_complete_update_result_references(
    api: Api, tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    set_local_policy(api, tmp_path)
    parked(api)
    argument, _ = offload(tmp_path, [7])
    bad = api.control("POST", "/workflows/wf-1/update/approve", json={"input": tampered(argument)})
    assert_field_error(bad, "input.external_storage.sha256")
    waiting = pool.submit(
        api.control, "POST", "/workflows/wf-1/update/approve",
        json={"input": argument, "wait_for": "completed", "wait_timeout_seconds": 30},
    )  # fmt: skip
    task = workflow_task(api)
    assert event(task["history_events"], "UpdateAccepted")["payload"]["arguments"] == argument

    result, _ = offload(tmp_path, {"approved": True})
    command = {"type": "complete_update", "update_id": task["workflow_update_id"]}
    refused = complete_workflow_task(api, task, [{**command, "result": tampered(result)}])
    assert_field_error(refused, "commands.0.result.external_storage.sha256")
    done = complete_workflow_task(api, task, [{**command, "result": result}])
    assert done.status_code == 200, done.text
    assert event(history(api), "UpdateCompleted")["payload"]["result"] == result
    answer = waiting.result(timeout=60)
    assert answer.status_code == 200, answer.text
    check_model("workflow.update", answer)
    assert answer.json()["result_envelope"] == result
    assert answer.json()["result"] == result  # read views show the reference


def test_workflow_task_command_references(api: Api, tmp_path: Path) -> None:
    set_local_policy(api, tmp_path)
    assert api.start().status_code == 201
    api.register()
    task = workflow_task(api)
    arguments, _ = offload(tmp_path, ["Ada", "x" * 2000])
    child_args, _ = offload(tmp_path, ["kid"])
    schedule = {"type": "schedule_activity", "activity_type": "greet", "queue": "q"}
    child = {"type": "start_child_workflow", "workflow_type": "kid", "queue": "q"}

    bad_child = {**child, "arguments": tampered(child_args)}
    refused = complete_workflow_task(api, task, [{**schedule, "arguments": arguments}, bad_child])
    assert_field_error(refused, "commands.1.arguments.external_storage.sha256")
    marker = complete_workflow_task(api, task, [{**schedule, "arguments": EXTERNAL_MARKER_PREFIX}])
    assert_field_error(marker, "commands.0.arguments")
    assert [e["event_type"] for e in history(api)] == ["StartAccepted", "WorkflowStarted"]

    commands = [{**schedule, "arguments": arguments}, {**child, "arguments": child_args}]
    done = complete_workflow_task(api, task, commands)
    assert done.status_code == 200, done.text
    scheduled = event(history(api), "ActivityScheduled")["payload"]
    assert scheduled["activity"]["arguments"] == arguments
    act = api.worker("/activity-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()["task"]
    assert act["arguments"] == arguments
    kid_task = workflow_task(api)
    assert kid_task["workflow_type"] == "kid"
    assert kid_task["arguments"] == child_args


def test_complete_workflow_and_continue_as_new_references(api: Api, tmp_path: Path) -> None:
    set_local_policy(api, tmp_path)
    assert api.start().status_code == 201
    api.register()
    task = workflow_task(api)
    next_input, _ = offload(tmp_path, ["second run"])
    done = complete_workflow_task(api, task, [{"type": "continue_as_new", "arguments": next_input}])
    assert done.status_code == 200, done.text
    second = workflow_task(api)
    assert second["run_id"] != task["run_id"]
    assert second["arguments"] == next_input

    output, blob = offload(tmp_path, {"total": 42, "pad": "p" * 4000})
    path = stored_path(output)
    genuine = path.read_bytes()
    path.write_bytes(genuine.replace(b"A", b"B", 1))
    refused = complete_workflow_task(api, second, [{"type": "complete_workflow", "result": output}])
    assert_field_error(refused, "commands.0.result.external_storage.sha256")
    path.write_bytes(genuine)
    finished = complete_workflow_task(
        api, second, [{"type": "complete_workflow", "result": output}]
    )
    assert finished.status_code == 200, finished.text
    assert finished.json()["run_status"] == "completed"
    assert event(history(api), "WorkflowCompleted")["payload"]["output"] == output
    described = api.control("GET", "/workflows/wf-1")
    check_model("workflow.describe", described)
    assert described.json()["output"] == output
    assert described.json()["output_envelope"] == output
    exported = api.control("GET", f"/workflows/wf-1/runs/{second['run_id']}/history/export")
    assert exported.status_code == 200, exported.text
    assert EXTERNAL_MARKER_PREFIX not in exported.text and blob not in exported.text
    bundle = exported.json()
    assert bundle["payloads"]["output"]["data"] == output
    assert bundle["payloads"]["arguments"]["data"] == next_input


def test_query_input_and_result_references(
    api: Api, tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    set_local_policy(api, tmp_path)
    parked(api)
    query_input, _ = offload(tmp_path, ["which"])
    bad_input = api.control("POST", "/workflows/wf-1/query/status",
                            json={"input": tampered(query_input)})  # fmt: skip
    assert_field_error(bad_input, "input.external_storage.sha256")

    asked = pool.submit(api.control, "POST", "/workflows/wf-1/query/status",
                        json={"input": query_input})  # fmt: skip
    poll = api.worker("/query-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    check_model("query-task.poll", poll)
    task = poll.json()["task"]
    assert task["query_arguments"] == query_input
    answer_ref, _ = offload(tmp_path, {"status": "s" * 3000})
    path = f"/query-tasks/{task['query_task_id']}/complete"
    base = {"lease_owner": "w1", "query_task_attempt": 1}
    refused = api.worker(path, {**base, "result_envelope": tampered(answer_ref)})
    assert_field_error(refused, "result_envelope.external_storage.sha256")
    done = api.worker(path, {**base, "result_envelope": answer_ref})
    assert done.status_code == 200, done.text
    answer = asked.result(timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result_envelope"] == answer_ref


async def test_sdk_client_offloads_input_and_reads_it_back(tmp_path: Path) -> None:
    """An SDK client with a driver offloads a large start input; the server verifies and
    stores the reference; describe shows the reference, which the client decodes."""
    storage = LocalFilesystemExternalStorage(tmp_path)
    async with (
        async_dev_server(poll_timeout=1.0) as server,
        Client(server.url, external_storage=storage,
               external_storage_threshold_bytes=1024) as client,
    ):  # fmt: skip
        config = {"uri": tmp_path.as_uri()}
        await client.set_namespace_external_storage("default", driver="local", config=config)
        big = {"lines": ["l" * 100] * 100}
        await client.start_workflow(
            workflow_type="greeting", task_queue="q", workflow_id="wf-sdk", input=[big]
        )
        execution = await client.describe_workflow("wf-sdk")
        assert execution.input == [big]
        described = await client.operations.workflow_describe(workflow_id="wf-sdk")
        assert described.input_envelope is not None
        assert described.input_envelope.model_dump()["external_storage"]["uri"].startswith(
            tmp_path.resolve().as_uri()
        )


def test_internal_markers_sent_by_a_client_are_refused(api: Api, tmp_path: Path) -> None:
    """A marker would be shown as a reference that was never verified."""
    set_local_policy(api, tmp_path)
    marker = EXTERNAL_MARKER_PREFIX + "e30="
    inline = {"codec": "avro", "blob": marker}
    assert_field_error(api.start(input=inline), "input.blob")
    act = activity_task(api)
    assert_field_error(complete_activity(api, act, inline), "result.blob")
    plain = complete_activity(api, act, marker)  # a bare string is a JSON value: encoded
    assert plain.status_code == 200, plain.text
    assert event(history(api), "ActivityCompleted")["payload"]["result"] == encode_avro(marker)
    task = workflow_task(api)
    for bad, field in ((marker, "commands.0.result"), (inline, "commands.0.result.blob")):
        refused = complete_workflow_task(api, task, [{"type": "complete_workflow", "result": bad}])
        assert_field_error(refused, field)
    side_effect = complete_workflow_task(
        api, task, [{"type": "record_side_effect", "result": marker}]
    )
    assert_field_error(side_effect, "commands.0.result")
