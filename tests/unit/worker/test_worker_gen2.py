"""The Worker against a 2.x server (MockTransport): validators, deregistration, backoff."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from gen2_support import Gen2Server, cluster_info, worker_envelope

from durable_workflow import errors, serializer, workflow
from durable_workflow.client import Client
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow.worker import Worker
from durable_workflow.worker._support import Backoff

pytestmark = pytest.mark.usefixtures("auto_generation")


async def eventually(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"not reached in {timeout}s"
        await asyncio.sleep(0.01)


@workflow.defn(name="unit-account")
class Account:
    def __init__(self) -> None:
        self.balance = 0

    def run(self, ctx: Any, opening: int) -> Any:
        self.balance = opening
        yield ctx.wait_condition(lambda: False)

    @workflow.update("withdraw")
    def withdraw(self, amount: int) -> int:
        self.balance -= amount
        return self.balance

    @withdraw.validator
    def check_withdraw(self, amount: int) -> None:
        if amount > self.balance:
            raise ValueError(f"only {self.balance} available")


@workflow.defn(name="unit-plain")
class Plain:
    def run(self, ctx: Any) -> Any:
        return 1
        yield


def validation_task(amount: int, task_id: str) -> dict[str, Any]:
    value = serializer.envelope  # the 2.x server sends Value frames; both are read
    return {
        "task_kind": "update_validation",
        "update_validation_task_id": task_id,
        "update_id": f"up-{task_id}",
        "update_validation_attempt": 1,
        "workflow_id": "acct-1",
        "run_id": "run-1",
        "workflow_type": "unit-account",
        "update_name": "withdraw",
        "update_arguments": value([amount], framing=serializer.VALUE_FRAMING),
        "workflow_arguments": value([10], framing=serializer.VALUE_FRAMING),
        "history_events": [{"sequence": 1, "event_type": "WorkflowStarted", "payload": {}}],
        "payload_codec": "avro",
        "task_queue": "q",
        "lease_owner": "wk-1",
        "lease_expires_at": "2026-12-01T00:00:00Z",
    }


def gen2_worker_server(tasks: list[dict[str, Any]]) -> Gen2Server:
    server = Gen2Server()

    def register(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(
            201,
            json=worker_envelope(
                worker_id=body["worker_id"],
                registered=True,
                namespace="default",
                task_queue=body["task_queue"],
                runtime="python",
                capabilities=body.get("capabilities", []),
                capability_manifest=body["capability_manifest"],
                status="active",
                heartbeat_interval_seconds=60,
            ),
        )

    server.on("POST", "/api/worker/register", register)
    server.on(
        "POST",
        "/api/worker/workflow-tasks/poll",
        lambda _r: worker_envelope(task=tasks.pop(0) if tasks else None),
    )
    server.on("POST", "/api/worker/activity-tasks/poll", worker_envelope(task=None))
    server.on("POST", "/api/worker/query-tasks/poll", worker_envelope(task=None))
    for verdict in ("approve", "reject"):
        for task_id in ("ok", "no"):
            server.on(
                "POST",
                f"/api/worker/update-validation-tasks/{task_id}/{verdict}",
                worker_envelope(
                    update_validation_task_id=task_id,
                    update_id=f"up-{task_id}",
                    update_validation_attempt=1,
                    outcome="approved" if verdict == "approve" else "rejected",
                    status=200,
                ),
            )
    server.on(
        "DELETE",
        "/api/worker/registrations/wk-1",
        worker_envelope(worker_id="wk-1", outcome="deregistered", recovered_workflow_task_count=0),
    )
    return server


def client_for(server: Gen2Server) -> Client:
    return Client(
        "http://dw.test",
        retry_policy=TransportRetryPolicy(initial_backoff_seconds=0, jitter=False),
        transport=httpx.MockTransport(server),
    )


async def test_validators_run_before_acceptance_and_the_worker_leaves_gracefully() -> None:
    server = gen2_worker_server([validation_task(4, "ok"), validation_task(40, "no")])
    async with client_for(server) as client:
        worker = Worker(
            client, task_queue="q", workflows=[Account], worker_id="wk-1", poll_timeout=1
        )
        run = asyncio.create_task(worker.run())
        await eventually(lambda: server.sent("/api/worker/update-validation-tasks/no/reject"))
        await worker.stop()
        await run
    (register,) = server.bodies("/api/worker/register")
    assert register["capabilities"] == ["query_tasks", "update_validation_tasks"]
    assert register["workflow_command_contracts"]["unit-account"]["update_validators"] == [
        "withdraw"
    ]
    polls = server.bodies("/api/worker/workflow-tasks/poll")
    assert all(poll["task_kinds"] == ["workflow", "update_validation"] for poll in polls)
    assert server.bodies("/api/worker/update-validation-tasks/ok/approve") == [
        {"lease_owner": "wk-1", "update_validation_attempt": 1}
    ]
    (rejected,) = server.bodies("/api/worker/update-validation-tasks/no/reject")
    assert rejected["failure"]["reason"] == "update_validator_rejected"
    assert rejected["failure"]["message"] == "only 10 available"
    assert rejected["failure"]["type"] == "ValueError"
    assert len(server.sent("/api/worker/registrations/wk-1")) == 1
    assert server.sent("/api/workers/wk-1") == []  # not the operator's route


async def test_a_worker_with_validators_refuses_a_server_without_validation_tasks() -> None:
    info = cluster_info()
    info["worker_protocol"]["server_capabilities"]["update_validation_tasks"] = False
    server = gen2_worker_server([])
    server.info = info
    async with client_for(server) as client:
        worker = Worker(client, task_queue="q", workflows=[Account], worker_id="wk-1")
        with pytest.raises(errors.UnsupportedServerCapability, match="update_validation_tasks"):
            await worker.run()
    assert server.sent("/api/worker/register") == []


async def test_a_worker_without_validators_polls_workflow_tasks_only() -> None:
    server = gen2_worker_server([])
    async with client_for(server) as client:
        worker = Worker(client, task_queue="q", workflows=[Plain], worker_id="wk-1", poll_timeout=1)
        run = asyncio.create_task(worker.run())
        await eventually(lambda: server.sent("/api/worker/workflow-tasks/poll"))
        await worker.stop()
        await run
    assert "task_kinds" not in server.bodies("/api/worker/workflow-tasks/poll")[0]
    assert server.bodies("/api/worker/register")[0]["capabilities"] == ["query_tasks"]


async def test_a_capacity_refusal_waits_as_long_as_the_server_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    server = gen2_worker_server([])
    async with client_for(server) as client:
        worker = Worker(client, task_queue="q", workflows=[Plain])
        refusal = errors.LongPollCapacityExhausted(
            429, {"reason": "long_poll_capacity_exhausted", "retry_after_seconds": 9}
        )
        monkeypatch.setattr(asyncio, "sleep", sleep)
        await worker._recover_from_poll_error("activity", refusal, Backoff(initial=0.01))
    assert slept == [9.0]


async def test_a_worker_with_a_payload_codec_chain_refuses_a_2x_server() -> None:
    from durable_workflow.codecs import GzipCodec

    server = gen2_worker_server([])
    async with client_for(server) as client:
        worker = Worker(client, task_queue="q", workflows=[Plain], payload_codec=GzipCodec())
        with pytest.raises(errors.UnsupportedServerCapability, match="payload_codec_chain"):
            await worker.run()
    assert server.sent("/api/worker/register") == []
