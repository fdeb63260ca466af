"""The worker-plane calls against a 2.x server (MockTransport): the bodies its documents ask for."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from gen2_support import Gen2Server, worker_envelope

from durable_workflow import errors, serializer
from durable_workflow._generated.v2.operations import OPERATIONS as V2
from durable_workflow._transport._negotiation import v2_operation_for
from durable_workflow.client import Client
from durable_workflow.retry_policy import TransportRetryPolicy

pytestmark = pytest.mark.usefixtures("auto_generation")

PROTOCOL_HEADER = "X-Durable-Workflow-Protocol-Version"


@pytest.fixture
def server() -> Gen2Server:
    return Gen2Server()


@pytest.fixture
async def client(server: Gen2Server) -> Any:
    policy = TransportRetryPolicy(initial_backoff_seconds=0, jitter=False)
    async with Client(
        "http://dw.test", retry_policy=policy, transport=httpx.MockTransport(server)
    ) as c:
        yield c


def _checked(server: Gen2Server) -> list[tuple[str, Any]]:
    """Every worker-plane request sent, each body valid for its 2.x operation's model."""
    sent = []
    for request in server.requests:
        if not request.url.path.startswith("/api/worker/"):
            continue
        operation = v2_operation_for(request.method, request.url.path)
        assert operation is not None, request.url.path
        body = json.loads(request.content) if request.content else None
        if operation.request_model is not None and body is not None:
            operation.request_model.model_validate(body)
        assert request.headers[PROTOCOL_HEADER] == "1.20"
        sent.append((operation.name, body))
    return sent


async def test_registration_carries_the_manifest_and_command_contracts(
    client: Client, server: Gen2Server
) -> None:
    server.on("POST", "/api/worker/register", worker_envelope(worker_id="w1"), status=201)
    contracts = {"t": {"signals": [], "queries": [], "updates": ["u"], "update_validators": ["u"]}}
    await client.register_worker(
        worker_id="w1",
        task_queue="q",
        supported_workflow_types=["t"],
        capabilities=["update_validation_tasks"],
        heartbeat_interval_seconds=2.5,
        workflow_command_contracts=contracts,
    )
    ((name, body),) = _checked(server)
    assert name == "registerWorker"
    assert body["workflow_command_contracts"] == contracts
    assert body["heartbeat_interval_seconds"] == 3
    assert set(body["capability_manifest"]) == {
        "local_activities",
        "worker_sessions",
        "sticky_execution",
    }
    assert all(not entry["supported"] for entry in body["capability_manifest"].values())
    assert body["supported_activity_types"] == []


async def test_polls_name_their_wait_and_queues(client: Client, server: Gen2Server) -> None:
    empty = worker_envelope(task=None, poll_status="timeout")
    for kind in ("workflow", "activity", "query"):
        server.on("POST", f"/api/worker/{kind}-tasks/poll", empty)
    assert (
        await client.poll_workflow_task(
            worker_id="w1",
            task_queue="q",
            timeout=12.2,
            task_kinds=["workflow", "update_validation"],
        )
        is None
    )
    assert await client.poll_activity_task(worker_id="w1", task_queue="q", timeout=90) is None
    assert await client.poll_query_task(worker_id="w1", task_queue="q", timeout=3) is None
    sent = dict(_checked(server))
    assert sent["pollWorkflowTask"]["timeout_seconds"] == 13
    assert sent["pollWorkflowTask"]["task_kinds"] == ["workflow", "update_validation"]
    assert sent["pollActivityTask"]["task_queues"] == ["q"]
    assert sent["pollActivityTask"]["timeout_seconds"] == 60  # a 2.x server holds at most 60 s
    assert sent["pollQueryTask"]["task_queues"] == ["q"]


async def test_an_update_validation_task_comes_back_from_the_multiplexed_poll(
    client: Client, server: Gen2Server
) -> None:
    task = {"task_kind": "update_validation", "update_validation_task_id": "uv-1"}
    server.on("POST", "/api/worker/workflow-tasks/poll", worker_envelope(task=task))
    got = await client.poll_workflow_task(worker_id="w1", task_queue="q", task_kinds=["workflow"])
    assert got == task


async def test_task_reports_name_the_worker(client: Client, server: Gen2Server) -> None:
    for path in (
        "/api/worker/activity-tasks/t1/complete",
        "/api/worker/activity-tasks/t1/fail",
        "/api/worker/activity-tasks/t1/heartbeat",
        "/api/worker/query-tasks/q1/complete",
        "/api/worker/query-tasks/q1/fail",
        "/api/worker/workflow-tasks/w1/fail",
    ):
        server.on("POST", path, worker_envelope(outcome="ok"))
    await client.complete_activity_task(
        task_id="t1", activity_attempt_id="a1", lease_owner="wk", result=b"\x01bytes"
    )
    await client.fail_activity_task(
        task_id="t1", activity_attempt_id="a1", lease_owner="wk", message="no", details={"k": 1}
    )
    await client.heartbeat_activity_task(task_id="t1", activity_attempt_id="a1", lease_owner="wk")
    await client.complete_query_task(
        query_task_id="q1", lease_owner="wk", query_task_attempt=1, result=b"\x02"
    )
    await client.fail_query_task(
        query_task_id="q1", lease_owner="wk", query_task_attempt=1, message="no"
    )
    await client.fail_workflow_task(
        task_id="w1", lease_owner="wk", workflow_task_attempt=1, message="no"
    )
    sent = _checked(server)
    assert [body["worker_id"] for _, body in sent] == ["wk"] * 6
    bodies = dict(sent)
    assert serializer.decode_envelope(bodies["completeActivityTask"]["result"]) == b"\x01bytes"
    assert serializer.decode_envelope(bodies["failActivityTask"]["failure"]["details"]) == {"k": 1}
    # Bytes cannot travel as plain JSON: only the (Value-framed) envelope carries them.
    assert bodies["completeQueryTask"]["result"] is None
    assert serializer.decode_envelope(bodies["completeQueryTask"]["result_envelope"]) == b"\x02"


async def test_update_validation_verdicts(client: Client, server: Gen2Server) -> None:
    verdict = worker_envelope(
        update_validation_task_id="uv-1",
        update_id="up-1",
        update_validation_attempt=2,
        outcome="approved",
        status=200,
    )
    server.on("POST", "/api/worker/update-validation-tasks/uv-1/approve", verdict)
    server.on("POST", "/api/worker/update-validation-tasks/uv-1/reject", verdict)
    server.on("POST", "/api/worker/update-validation-tasks/poll", worker_envelope(task=None))
    await client.approve_update_validation_task(
        update_validation_task_id="uv-1", lease_owner="wk", update_validation_attempt=2
    )
    await client.reject_update_validation_task(
        update_validation_task_id="uv-1",
        lease_owner="wk",
        update_validation_attempt=2,
        message="too big",
        reason="update_validator_rejected",
        failure_type="ValueError",
        validation_errors={"amount": ["must be < 10"]},
    )
    assert await client.poll_update_validation_task(worker_id="wk", task_queue="q") is None
    sent = dict(_checked(server))
    assert sent["approveUpdateValidationTask"] == {
        "lease_owner": "wk",
        "update_validation_attempt": 2,
    }
    assert sent["rejectUpdateValidationTask"]["failure"] == {
        "message": "too big",
        "reason": "update_validator_rejected",
        "type": "ValueError",
        "validation_errors": {"amount": ["must be < 10"]},
    }
    assert sent["pollUpdateValidationTask"]["timeout_seconds"] == 35


async def test_deregistration_on_the_worker_plane(client: Client, server: Gen2Server) -> None:
    server.on(
        "DELETE",
        "/api/worker/registrations/w 1",
        worker_envelope(worker_id="w 1", outcome="deregistered", recovered_workflow_task_count=1),
    )
    answer = await client.deregister_worker_registration("w 1")
    assert answer["recovered_workflow_task_count"] == 1
    (sent,) = server.sent("/api/worker/registrations/w 1")
    assert sent.url.raw_path == b"/api/worker/registrations/w%201"
    assert sent.headers[PROTOCOL_HEADER] == "1.20"
    assert V2["deregisterWorker"].path == "/api/worker/registrations/{workerId}"
    server.on(
        "DELETE",
        "/api/worker/registrations/gone",
        {"reason": "worker_not_found", "protocol_version": "1.20"},
        status=404,
    )
    assert (await client.deregister_worker_registration("gone"))["outcome"] == (
        "already_deregistered"
    )


async def test_a_long_poll_capacity_refusal_is_typed_and_not_retried(
    client: Client, server: Gen2Server
) -> None:
    refusal = worker_envelope(
        task=None,
        poll_status="long_poll_capacity_exhausted",
        error="no capacity",
        reason="long_poll_capacity_exhausted",
        namespace="default",
        task_queue="q",
        task_kind="activity_task",
        wait_pool="worker",
        retry_after_seconds=7,
        retryable=True,
    )
    server.on("POST", "/api/worker/activity-tasks/poll", refusal, status=429)
    with pytest.raises(errors.LongPollCapacityExhausted) as caught:
        await client.poll_activity_task(worker_id="w1", task_queue="q")
    assert (caught.value.retry_after_seconds, caught.value.task_kind) == (7.0, "activity_task")
    assert isinstance(caught.value, errors.ServerError) and caught.value.status == 429
    assert len(server.sent("/api/worker/activity-tasks/poll")) == 1


async def test_2x_only_calls_are_refused_on_a_0x_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DURABLE_WORKFLOW_SERVER_GENERATION", "1")
    server = Gen2Server()
    async with Client("http://dw.test", transport=httpx.MockTransport(server)) as c:
        with pytest.raises(errors.UnsupportedServerCapability, match="worker_deregistration"):
            await c.deregister_worker_registration("w1")
        with pytest.raises(errors.UnsupportedServerCapability, match="update_validation_tasks"):
            await c.poll_workflow_task(
                worker_id="w", task_queue="q", task_kinds=["update_validation"]
            )
        with pytest.raises(errors.UnsupportedServerCapability, match="update_validation_tasks"):
            await c.poll_update_validation_task(worker_id="w", task_queue="q")
    assert server.requests == []


async def test_task_kinds_are_checked_before_sending(client: Client, server: Gen2Server) -> None:
    for kinds in ([], ["workflow", "workflow"], ["activity"]):
        with pytest.raises(errors.InvalidArgument, match="task_kinds"):
            await client.poll_workflow_task(worker_id="w", task_queue="q", task_kinds=kinds)
    assert not server.sent("/api/worker/workflow-tasks/poll")
