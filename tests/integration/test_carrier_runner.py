"""Carrier runner end to end: dev server + runner + an ASGI endpoint under uvicorn (loopback).

A workflow (run by an SDK Worker that hosts no activities) schedules
activities on the runner's queue; the runner leases them, POSTs input
envelopes to real HTTP endpoints and reports the results. Covered: a real
activity succeeding, an endpoint that times out (failure kind timeout) and one
answering 500 (retried per the carrier policy, then malformed_output).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from durable_workflow import errors, workflow
from durable_workflow._connection_config import ConnectionFlags, resolve_connection
from durable_workflow.carriers import asgi_app
from durable_workflow.carriers.executor_config import load_executor_config
from durable_workflow.carriers.runner import CarrierRunner
from durable_workflow.client import Client
from durable_workflow.testing import DevServerHandle, async_dev_server
from durable_workflow.worker import Worker

WORKFLOW_QUEUE = "carrier-it-workflows"
CARRIER_QUEUE = "carrier-it-activities"
ONE_ATTEMPT = {"max_attempts": 1}


def charge(amount: int, currency: str) -> dict[str, Any]:
    """A real activity: computes the charge it would submit."""
    return {"charged_minor_units": amount * 100, "currency": currency.upper()}


async def sleepy(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "too late"


@workflow.defn(name="carrier-it-charge")
class ChargeWorkflow:
    def run(self, ctx: Any, amount: int) -> Any:
        receipt = yield ctx.schedule_activity(
            "billing.charge", [amount, "eur"], queue=CARRIER_QUEUE, retry_policy=ONE_ATTEMPT
        )
        return receipt


@workflow.defn(name="carrier-it-catch")
class CatchWorkflow:
    def run(self, ctx: Any, activity_type: str) -> Any:
        try:
            yield ctx.schedule_activity(
                activity_type, [5], queue=CARRIER_QUEUE, retry_policy=ONE_ATTEMPT
            )
        except errors.ActivityFailed as failure:
            return {"type": failure.exception_type, "message": failure.message}
        return "not reached"


class BrokenEndpoint:
    """Answers every POST with a bare 500 and counts the deliveries."""

    def __init__(self) -> None:
        self.hits = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.hits += 1
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b"internal error"})


def endpoints(broken: BrokenEndpoint) -> Any:
    invocable = asgi_app({"billing.charge": charge, "billing.sleepy": sleepy}, path="/invoke")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/broken":
            await broken(scope, receive, send)
        else:
            await invocable(scope, receive, send)

    return app


@pytest.fixture
async def endpoint_url() -> AsyncIterator[tuple[str, BrokenEndpoint]]:
    broken = BrokenEndpoint()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(endpoints(broken), log_level="warning", lifespan="on", access_log=False)
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", broken
    finally:
        server.should_exit = True
        await serving
        sock.close()


@pytest.fixture
async def dev() -> AsyncIterator[DevServerHandle]:
    async with async_dev_server(poll_timeout=2.0) as handle:
        yield handle


def write_config(tmp_path: Path, base: str) -> Path:
    document = {
        "schema": "durable-workflow.external-executor.config",
        "version": 1,
        "defaults": {"task_queue": CARRIER_QUEUE},
        "carriers": {
            "billing-http": {
                "type": "invocable_http",
                "url": f"{base}/invoke",
                "timeout_seconds": 20,
                "capabilities": ["activity_task"],
            },
            "slow-http": {"type": "invocable_http", "url": f"{base}/invoke", "timeout_seconds": 1},
            "broken-http": {
                "type": "invocable_http",
                "url": f"{base}/broken",
                "retry_policy": {
                    "max_attempts": 3,
                    "backoff_seconds": [0, 0],
                    "retryable_status_codes": [500, 503],
                },
            },
        },
        "mappings": [
            {
                "name": "charge",
                "kind": "activity",
                "activity_type": "billing.charge",
                "carrier": "billing-http",
                "handler": "billing.charge",
            },
            {
                "name": "sleepy",
                "kind": "activity",
                "activity_type": "billing.sleepy",
                "carrier": "slow-http",
                "handler": "billing.sleepy",
            },
            {
                "name": "flaky",
                "kind": "activity",
                "activity_type": "billing.flaky",
                "carrier": "broken-http",
                "handler": "billing.flaky",
            },
        ],
    }
    path = tmp_path / "executor.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


async def run_with_carrier(
    dev: DevServerHandle, tmp_path: Path, base: str, workflow_type: str, argument: Any
) -> tuple[Any, CarrierRunner]:
    config = load_executor_config(write_config(tmp_path, base), environ={})
    connection = resolve_connection(
        ConnectionFlags(server_url=dev.url, token=dev.token),
        environ={},
        profiles=tmp_path / "no-profiles.json",
    )
    runner = CarrierRunner(config, connection, poll_timeout=2.0, environ={})
    running = asyncio.create_task(runner.run())
    try:
        async with Client(dev.url, token=dev.token) as client:
            workflow_id = f"carrier-{uuid.uuid4().hex[:8]}"
            await client.start_workflow(
                workflow_type=workflow_type,
                task_queue=WORKFLOW_QUEUE,
                workflow_id=workflow_id,
                input=[argument],
            )
            worker = Worker(
                client,
                task_queue=WORKFLOW_QUEUE,
                workflows=[ChargeWorkflow, CatchWorkflow],
                poll_timeout=2.0,
                shutdown_timeout=5.0,
            )
            until = asyncio.create_task(worker.run_until(workflow_id=workflow_id, timeout=60))
            await asyncio.wait({until, running}, return_when=asyncio.FIRST_COMPLETED)
            if running.done():  # the runner must not stop on its own: surface why it did
                until.cancel()
                await asyncio.gather(until, return_exceptions=True)
                running.result()
                pytest.fail("the carrier runner stopped before the workflow finished")
            execution = until.result()
    finally:
        runner.stop()
        await running
    return execution, runner


async def test_real_activity_through_the_runner(
    dev: DevServerHandle, tmp_path: Path, endpoint_url: tuple[str, BrokenEndpoint]
) -> None:
    execution, runner = await run_with_carrier(
        dev, tmp_path, endpoint_url[0], "carrier-it-charge", 12
    )
    assert execution.status == "completed"
    assert execution.output == {"charged_minor_units": 1200, "currency": "EUR"}
    [outcome] = runner.outcomes
    assert outcome.activity_type == "billing.charge"
    assert outcome.envelope["outcome"] == {"status": "succeeded", "recorded": True}
    assert outcome.envelope["metadata"]["carrier"] == "python-invocable"


async def test_endpoint_timeout_is_failure_kind_timeout(
    dev: DevServerHandle, tmp_path: Path, endpoint_url: tuple[str, BrokenEndpoint]
) -> None:
    execution, runner = await run_with_carrier(
        dev, tmp_path, endpoint_url[0], "carrier-it-catch", "billing.sleepy"
    )
    assert execution.status == "completed"
    assert execution.output["type"] == "InvocableTransportTimeout"
    [outcome] = runner.outcomes
    failure = outcome.envelope["failure"]
    assert (failure["kind"], failure["classification"]) == ("timeout", "deadline_exceeded")
    assert failure["timeout_type"] == "deadline_exceeded"
    assert outcome.envelope["outcome"]["recorded"] is True
    assert outcome.dispatch_attempts == 1


async def test_endpoint_500_is_retried_then_malformed_output(
    dev: DevServerHandle, tmp_path: Path, endpoint_url: tuple[str, BrokenEndpoint]
) -> None:
    base, broken = endpoint_url
    execution, runner = await run_with_carrier(
        dev, tmp_path, base, "carrier-it-catch", "billing.flaky"
    )
    assert execution.status == "completed"
    assert execution.output["type"] == "MalformedExternalTaskOutput"
    assert broken.hits == 3  # max_attempts of the carrier's retry policy
    [outcome] = runner.outcomes
    assert outcome.dispatch_attempts == 3
    envelope = outcome.envelope
    assert envelope["failure"]["kind"] == "malformed_output"
    assert envelope["outcome"]["retryable"] is False
    assert envelope["raw_output"]["status_code"] == 500
    assert envelope["raw_output"]["body_preview"] == "internal error"


async def test_runner_cli_process_serves_and_stops_on_sigint(
    dev: DevServerHandle, tmp_path: Path, endpoint_url: tuple[str, BrokenEndpoint]
) -> None:
    """`main(argv)` in its own process: config file + env connection, clean exit on SIGINT."""
    config_path = write_config(tmp_path, endpoint_url[0])
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "DURABLE_WORKFLOW_SERVER_URL": dev.url,
    }
    env.pop("DW_ENV", None)
    if dev.token:
        env["DURABLE_WORKFLOW_AUTH_TOKEN"] = dev.token
    else:
        env.pop("DURABLE_WORKFLOW_AUTH_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "durable_workflow.carriers.runner",
        "--config",
        str(config_path),
        "--poll-timeout",
        "2",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with Client(dev.url, token=dev.token) as client:
            workflow_id = f"carrier-cli-{uuid.uuid4().hex[:8]}"
            await client.start_workflow(
                workflow_type="carrier-it-charge",
                task_queue=WORKFLOW_QUEUE,
                workflow_id=workflow_id,
                input=[3],
            )
            worker = Worker(
                client,
                task_queue=WORKFLOW_QUEUE,
                workflows=[ChargeWorkflow],
                poll_timeout=2.0,
                shutdown_timeout=5.0,
            )
            execution = await worker.run_until(workflow_id=workflow_id, timeout=60)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert execution.status == "completed"
    assert execution.output == {"charged_minor_units": 300, "currency": "EUR"}
    assert process.returncode == 0, stderr.decode()
