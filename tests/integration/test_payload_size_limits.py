"""Size limits end to end against the dev server over loopback HTTP.

A client input over 2 MiB is refused before sending (the server never sees
it); the server itself answers an oversized body with the documented 413; an
activity whose result is too large fails once, non-retryably, with type
``PayloadTooLargeError``; a near-limit result logs the size warning with its
context; a workflow task whose completion is too large is failed with the
reason and the worker keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from durable_workflow import activity, errors, workflow
from durable_workflow._generated import manifest
from durable_workflow.client import Client
from durable_workflow.testing import DevServerHandle, async_dev_server
from durable_workflow.worker import Worker
from durable_workflow.workflow import ActivityRetryPolicy

QUEUE = "it-payload-sizes"
MIB = 1024 * 1024
CALLS: dict[str, int] = {}


@activity.defn(name="ps-sized")
def sized(token: str, length: int) -> str:
    CALLS[token] = CALLS.get(token, 0) + 1
    return "x" * length


@workflow.defn(name="ps-activity")
class SizedActivity:
    def run(self, ctx: Any, token: str, length: int) -> Any:
        try:
            result = yield ctx.schedule_activity(
                "ps-sized",
                [token, length],
                retry_policy=ActivityRetryPolicy(max_attempts=3, backoff_seconds=[0, 0]),
            )
        except errors.ActivityFailed as failure:
            return {
                "failed": failure.message,
                "type": failure.exception_type,
                "non_retryable": failure.non_retryable,
            }
        return {"length": len(result)}


@workflow.defn(name="ps-big-result")
class BigResult:
    def run(self, ctx: Any, length: int) -> Any:
        return "y" * length
        yield  # a generator workflow that completes on its first task


@workflow.defn(name="ps-echo")
class Echo:
    def run(self, ctx: Any, value: str) -> Any:
        return value
        yield


@pytest.fixture
async def server() -> AsyncIterator[DevServerHandle]:
    async with async_dev_server(poll_timeout=2.0) as handle:
        yield handle


class RecordingTransport(httpx.AsyncHTTPTransport):
    """Real HTTP, remembering the path and JSON body of every request sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.url.path, body))
        return await super().handle_async_request(request)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_worker(client: Client) -> Worker:
    return Worker(
        client,
        task_queue=QUEUE,
        workflows=[SizedActivity, BigResult, Echo],
        activities=[sized],
        poll_timeout=5.0,
        shutdown_timeout=5.0,
    )


async def test_start_with_a_3_mib_input_is_refused_before_sending(server: DevServerHandle) -> None:
    recorder = RecordingTransport()
    workflow_id = new_id("too-big")
    async with Client(server.url, token=server.token, transport=recorder) as client:
        with pytest.raises(errors.PayloadTooLargeError) as caught:
            await client.start_workflow(
                workflow_type="ps-echo",
                task_queue=QUEUE,
                workflow_id=workflow_id,
                input=["x" * 3 * MIB],
            )
        assert caught.value.field == "input"
        assert caught.value.size_bytes > caught.value.limit_bytes == 2_097_152
        assert caught.value.ids["workflow_id"] == workflow_id
        # Only the client's one-time discovery (/api/cluster/info) went out, never the start.
        assert [path for path, _ in recorder.sent if path != "/api/cluster/info"] == []
        with pytest.raises(errors.WorkflowNotFound):
            await client.describe_workflow(workflow_id)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/workflows", {manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION}),
        (
            "/api/worker/register",
            {manifest.WORKER_PROTOCOL_HEADER: manifest.WORKER_PROTOCOL_VERSION},
        ),
    ],
)
async def test_server_answers_an_oversized_body_with_the_documented_413(
    server: DevServerHandle, path: str, headers: dict[str, str]
) -> None:
    body = json.dumps({"workflow_type": "ps-echo", "input": "z" * (2_097_152 + 10)}).encode()
    auth = {"Authorization": f"Bearer {server.token}"} if server.token else {}
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.post(
            path, content=body, headers={**headers, **auth, "Content-Type": "application/json"}
        )
    assert answer.status_code == 413
    data = answer.json()
    assert data["reason"] == "payload_too_large"
    assert data["limit"] == 2_097_152
    assert isinstance(data["message"], str) and data["message"]
    if path.startswith("/api/worker/"):
        assert data["protocol_version"] == manifest.WORKER_PROTOCOL_VERSION
    else:
        assert answer.headers[manifest.CONTROL_PLANE_HEADER] == manifest.CONTROL_PLANE_VERSION


async def test_activity_result_over_the_limit_fails_once_and_non_retryably(
    server: DevServerHandle,
) -> None:
    token = new_id("three-mib")
    async with Client(server.url, token=server.token) as client:
        handle = await client.start_workflow(
            workflow_type="ps-activity",
            task_queue=QUEUE,
            workflow_id=new_id("act-big"),
            input=[token, 3 * MIB],
        )
        execution = await make_worker(client).run_until(workflow_id=handle.workflow_id, timeout=60)
        assert execution.status == "completed"
        outcome = await client.get_result(handle)
    assert outcome["type"] == "PayloadTooLargeError"
    assert outcome["non_retryable"] is True
    assert "result" in outcome["failed"] and "2,097,152" in outcome["failed"]
    assert CALLS[token] == 1


async def test_near_limit_activity_result_warns_with_its_context(
    server: DevServerHandle, caplog: pytest.LogCaptureFixture
) -> None:
    token = new_id("near")
    length = int(1.8 * MIB * 3 / 4)  # ~1.8 MiB once base64-encoded
    async with Client(server.url, token=server.token) as client:
        handle = await client.start_workflow(
            workflow_type="ps-activity",
            task_queue=QUEUE,
            workflow_id=new_id("act-near"),
            input=[token, length],
        )
        with caplog.at_level(logging.WARNING, logger="durable_workflow.serializer"):
            await make_worker(client).run_until(workflow_id=handle.workflow_id, timeout=60)
        assert await client.get_result(handle) == {"length": length}
    warnings = [
        record.__dict__["durable_workflow_payload"]
        for record in caplog.records
        if record.__dict__.get("durable_workflow_payload", {}).get("kind") == "activity_result"
    ]
    assert len(warnings) == 1
    details = warnings[0]
    assert details["workflow_id"] == handle.workflow_id
    assert details["run_id"] == handle.run_id
    assert details["activity_name"] == "ps-sized"
    assert 1_677_721 <= details["payload_size"] < 2_097_152


async def test_oversized_workflow_completion_fails_the_task_and_the_worker_goes_on(
    server: DevServerHandle,
) -> None:
    recorder = RecordingTransport()
    async with Client(server.url, token=server.token, transport=recorder) as client:
        worker = make_worker(client)
        running = asyncio.create_task(worker.run())
        try:
            big = await client.start_workflow(
                workflow_type="ps-big-result",
                task_queue=QUEUE,
                workflow_id=new_id("wf-big"),
                input=[3 * MIB],
            )
            failures: list[Any] = []
            for _ in range(600):
                failures = [body for path, body in recorder.sent if path.endswith("/fail")]
                if failures:
                    break
                await asyncio.sleep(0.1)
            assert failures, "the workflow task was never failed"
            message = failures[0]["failure"]["message"]
            assert failures[0]["failure"]["type"] == "PayloadTooLargeError"
            assert "commands[0].result" in message and "2,097,152" in message
            completions = [path for path, _ in recorder.sent if path.endswith("/complete")]
            assert completions == []
            described = await client.describe_workflow(big.workflow_id)
            assert described.status not in ("completed", "failed")
            echo = await client.start_workflow(
                workflow_type="ps-echo", task_queue=QUEUE, workflow_id=new_id("echo"), input=["ok"]
            )
            assert await echo.result(timeout=60) == "ok"
        finally:
            await worker.stop()
            await running


async def test_near_limit_workflow_result_warns_with_the_run_context(
    server: DevServerHandle, caplog: pytest.LogCaptureFixture
) -> None:
    length = int(1.8 * MIB * 3 / 4)
    async with Client(server.url, token=server.token, namespace="default") as client:
        handle = await client.start_workflow(
            workflow_type="ps-big-result",
            task_queue=QUEUE,
            workflow_id=new_id("wf-near"),
            input=[length],
        )
        with caplog.at_level(logging.WARNING, logger="durable_workflow.serializer"):
            execution = await make_worker(client).run_until(
                workflow_id=handle.workflow_id, timeout=60
            )
        assert execution.status == "completed"
    warnings = [
        record.__dict__["durable_workflow_payload"]
        for record in caplog.records
        if record.__dict__.get("durable_workflow_payload", {}).get("kind") == "workflow_result"
    ]
    assert warnings, "no workflow_result size warning"
    details = warnings[0]
    assert (details["workflow_id"], details["run_id"]) == (handle.workflow_id, handle.run_id)
    assert (details["workflow_type"], details["task_queue"]) == ("ps-big-result", QUEUE)
    assert details["namespace"] == "default"
    assert 1_677_721 <= details["payload_size"] < 2_097_152
