"""Pre-flight size limits: over-limit requests and payloads fail before any network I/O.

The network layer is an ``httpx.MockTransport`` that records what reaches it;
every refusal must leave it untouched and name the payload at fault.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import errors
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow._payload_limits import encode_body, offending_payload
from durable_workflow._transport import HttpTransport
from durable_workflow.client import Client
from durable_workflow.external_storage import LocalFilesystemExternalStorage

MIB = 1024 * 1024
LIMIT = 2_097_152


class Recorder:
    """Records every request that reaches the network layer; answers 200 ``{}``."""

    def __init__(self, answer: dict[str, Any] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.path) == ("GET", "/api/workers"):
            # The client's read of the queue's workers after a start: no payload in it.
            return httpx.Response(200, json={"workers": []})
        self.requests.append(request)
        return httpx.Response(200, json=self.answer)


def _blob(size: int) -> dict[str, str]:
    return {"codec": "avro", "blob": "A" * size}


def _transport(recorder: Recorder, **options: Any) -> HttpTransport:
    return HttpTransport(
        "http://server.test", http_transport=httpx.MockTransport(recorder), **options
    )


async def test_transport_refuses_an_oversized_completion_before_any_io() -> None:
    recorder = Recorder()
    body = {
        "lease_owner": "w1",
        "workflow_task_attempt": 1,
        "commands": [
            {"type": "schedule_activity", "activity_type": "a", "arguments": _blob(10)},
            {"type": "complete_workflow", "result": _blob(3 * MIB)},
        ],
    }
    with pytest.raises(errors.PayloadTooLargeError) as caught:
        await _transport(recorder).call(
            OPERATIONS["workflow-task.complete"],
            path_params={"taskId": "task-7"},
            query=None,
            body=body,
        )
    assert recorder.requests == []
    error = caught.value
    assert error.field == "commands[1].result"
    assert error.size_bytes == 3 * MIB
    assert error.body_bytes == len(encode_body(body)) > LIMIT
    assert error.limit_bytes == LIMIT
    assert error.operation == "workflow-task.complete"
    assert error.ids == {"task_id": "task-7"}
    assert isinstance(error, errors.DurableWorkflowError) and isinstance(error, ValueError)
    message = str(error)
    for part in ("workflow-task.complete", "commands[1].result", "3,145,728", "2,097,152"):
        assert part in message
    assert "external_storage" in message and "codec" in message


async def test_many_medium_payloads_name_the_list_that_adds_up() -> None:
    recorder = Recorder()
    commands = [
        {"type": "schedule_activity", "activity_type": "a", "arguments": _blob(300_000)}
        for _ in range(8)
    ]
    with pytest.raises(errors.PayloadTooLargeError) as caught:
        await _transport(recorder).call(
            OPERATIONS["workflow-task.complete"],
            path_params={"taskId": "t"},
            query=None,
            body={"lease_owner": "w", "workflow_task_attempt": 1, "commands": commands},
        )
    assert recorder.requests == []
    assert caught.value.field == "commands"
    assert caught.value.size_bytes > LIMIT


async def test_a_body_exactly_at_the_limit_is_sent_and_one_byte_more_is_not() -> None:
    recorder = Recorder()
    transport = _transport(recorder, payload_size_limit_bytes=1000)
    overhead = len(encode_body({"memo": ""}))
    fits = {"memo": "x" * (1000 - overhead)}
    assert len(encode_body(fits)) == 1000
    await transport.request("POST", "/api/x", plane="control", json=fits)
    assert len(recorder.requests) == 1
    assert recorder.requests[0].content == encode_body(fits)
    assert json.loads(recorder.requests[0].content) == fits
    with pytest.raises(errors.PayloadTooLargeError) as caught:
        await transport.request(
            "POST", "/api/x", plane="control", json={"memo": fits["memo"] + "y"}
        )
    assert len(recorder.requests) == 1
    assert (caught.value.field, caught.value.operation) == ("memo", "POST /api/x")


async def test_no_limit_means_no_check() -> None:
    recorder = Recorder()
    transport = _transport(recorder, payload_size_limit_bytes=None)
    await transport.request("POST", "/api/x", plane="control", json={"input": _blob(3 * MIB)})
    assert len(recorder.requests) == 1


def test_offending_payload_follows_the_largest_share() -> None:
    assert offending_payload({"a": "x" * 100, "b": {"c": [1, 2, "y" * 5000]}}) == ("b.c[2]", 5000)
    side_effect = {"commands": [{"type": "record_side_effect", "result": "Z" * 4000}]}
    assert offending_payload(side_effect) == ("commands[0].result", 4000)
    assert offending_payload(_blob(50)) == ("body", 50)
    spread = {"values": ["x" * 100 for _ in range(10)], "other": 1}
    field, size = offending_payload(spread)
    assert field == "values" and size == len(encode_body(spread["values"]))


def _client(recorder: Recorder, **options: Any) -> Client:
    return Client("http://server.test", transport=httpx.MockTransport(recorder), **options)


async def test_client_start_with_a_3_mib_input_names_input_and_sends_nothing() -> None:
    recorder = Recorder({"workflow_id": "wf-big", "run_id": "r"})
    async with _client(recorder) as client:
        with pytest.raises(errors.PayloadTooLargeError) as caught:
            await client.start_workflow(
                workflow_type="t", task_queue="q", workflow_id="wf-big", input=["x" * 3 * MIB]
            )
    assert recorder.requests == []
    error = caught.value
    assert error.field == "input" and error.size_bytes > LIMIT
    assert error.operation == "workflow_input"
    assert error.ids == {"workflow_id": "wf-big", "workflow_type": "t", "task_queue": "q"}


@pytest.mark.parametrize(
    ("call", "kind", "ids"),
    [
        ("signal", "signal", {"workflow_id": "wf", "signal_name": "go"}),
        ("query", "query", {"workflow_id": "wf", "query_name": "state"}),
        ("update", "update", {"workflow_id": "wf", "update_name": "bump"}),
    ],
)
async def test_signal_query_update_inputs_are_checked_with_their_context(
    call: str, kind: str, ids: dict[str, str]
) -> None:
    recorder = Recorder()
    big = ["x" * 3 * MIB]
    async with _client(recorder) as client:
        with pytest.raises(errors.PayloadTooLargeError) as caught:
            if call == "signal":
                await client.signal_workflow("wf", "go", args=big)
            elif call == "query":
                await client.query_workflow("wf", "state", args=big)
            else:
                await client.update_workflow("wf", "bump", args=big)
    assert recorder.requests == []
    assert (caught.value.field, caught.value.operation, caught.value.ids) == ("input", kind, ids)


async def test_offloaded_payloads_never_trip_the_limit(tmp_path: Path) -> None:
    recorder = Recorder({"workflow_id": "wf-off", "run_id": "r"})
    storage = LocalFilesystemExternalStorage(tmp_path)
    async with _client(
        recorder, external_storage=storage, external_storage_threshold_bytes=64 * 1024
    ) as client:
        await client.start_workflow(
            workflow_type="t", task_queue="q", workflow_id="wf-off", input=["x" * 3 * MIB]
        )
    assert len(recorder.requests) == 1
    sent = json.loads(recorder.requests[0].content)
    assert "external_storage" in sent["input"] and "blob" not in sent["input"]
    assert len(recorder.requests[0].content) < 10_000


async def test_an_oversized_activity_result_names_result_and_the_activity() -> None:
    recorder = Recorder()
    async with _client(recorder) as client:
        with pytest.raises(errors.PayloadTooLargeError) as caught:
            await client.complete_activity_task(
                task_id="t1",
                activity_attempt_id="a1",
                lease_owner="w",
                result="x" * 3 * MIB,
                activity_name="export",
                workflow_id="wf-9",
                run_id="run-9",
            )
    assert recorder.requests == []
    assert caught.value.field == "result"
    assert caught.value.operation == "activity_result"
    assert caught.value.ids == {"workflow_id": "wf-9", "run_id": "run-9", "activity_name": "export"}


async def test_a_custom_client_limit_applies_to_the_whole_body() -> None:
    recorder = Recorder({"workflow_id": "wf", "run_id": "r"})
    async with _client(recorder, payload_size_limit_bytes=5000, payload_size_warnings=False) as c:
        with pytest.raises(errors.PayloadTooLargeError) as caught:
            await c.start_workflow(
                workflow_type="t",
                task_queue="q",
                workflow_id="wf",
                input=["small"],
                memo={"notes": "n" * 6000},
            )
    assert recorder.requests == []
    assert caught.value.field == "memo.notes" and caught.value.limit_bytes == 5000
    assert caught.value.operation == "workflow.start" and caught.value.body_bytes is not None


def _payload_records(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        record.__dict__["durable_workflow_payload"]
        for record in caplog.records
        if "durable_workflow_payload" in record.__dict__
    ]


async def test_near_limit_activity_result_warns_with_workflow_run_and_activity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    async with _client(recorder, namespace="orders") as client:
        with caplog.at_level(logging.WARNING, logger="durable_workflow.serializer"):
            await client.complete_activity_task(
                task_id="t1",
                activity_attempt_id="a1",
                lease_owner="w",
                result="x" * int(1.8 * MIB * 3 / 4),  # base64 makes it ~1.8 MiB encoded
                activity_name="export",
                workflow_id="wf-9",
                run_id="run-9",
            )
    assert len(recorder.requests) == 1
    [details] = _payload_records(caplog)
    assert details["kind"] == "activity_result"
    assert (details["workflow_id"], details["run_id"]) == ("wf-9", "run-9")
    assert (details["activity_name"], details["namespace"]) == ("export", "orders")
    assert 1_677_721 <= details["payload_size"] <= LIMIT
    assert details["limit_bytes"] == LIMIT


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("workflow_input", {"workflow_id": "wf", "workflow_type": "t", "task_queue": "q"}),
        ("signal", {"workflow_id": "wf", "signal_name": "go"}),
        ("search_attributes", {"workflow_id": "wf", "task_queue": "q"}),
        ("schedule_input", {"schedule_id": "s1", "workflow_type": "t", "task_queue": "q"}),
        ("query_result", {"workflow_id": "wf", "run_id": "r", "query_name": "state"}),
    ],
)
async def test_client_paths_warn_with_upstream_context(
    kind: str, expected: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder({"workflow_id": "wf", "run_id": "r", "schedule_id": "s1"})
    big = "x" * 1_400_000
    async with _client(recorder) as client:
        with caplog.at_level(logging.WARNING, logger="durable_workflow.serializer"):
            if kind == "workflow_input":
                await client.start_workflow(
                    workflow_type="t", task_queue="q", workflow_id="wf", input=[big]
                )
            elif kind == "signal":
                await client.signal_workflow("wf", "go", args=[big])
            elif kind == "search_attributes":
                await client.start_workflow(
                    workflow_type="t",
                    task_queue="q",
                    workflow_id="wf",
                    search_attributes={"Notes": "y" * 1_800_000},
                )
            elif kind == "schedule_input":
                await client.create_schedule(
                    schedule_id="s1",
                    spec={"cron_expressions": ["* * * * *"]},
                    action={"workflow_type": "t", "task_queue": "q", "input": [big]},
                )
            else:
                # The raw result travels next to its envelope: the body is over the limit.
                with pytest.raises(errors.PayloadTooLargeError) as caught:
                    await client.complete_query_task(
                        query_task_id="qt",
                        lease_owner="w",
                        query_task_attempt=1,
                        result=big,
                        workflow_id="wf",
                        run_id="r",
                        query_name="state",
                    )
                assert caught.value.field == "result_envelope"
                assert caught.value.ids == {"query_task_id": "qt"}
    matching = [d for d in _payload_records(caplog) if d["kind"] == kind]
    assert matching, f"no {kind} warning in {_payload_records(caplog)}"
    assert {k: matching[0].get(k) for k in expected} == expected
