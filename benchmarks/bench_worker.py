"""End-to-end worker figures against the dev server (a separate process) over loopback.

- throughput (workflows/s) for a 1-activity and a 10-sequential-activity
  workflow, with 1 and with 50 concurrent starts;
- p50/p99 latency from ``start_workflow`` to the result for the 1-activity
  workflow on an idle system (result read by polling every 5 ms; 250 ms with 50 in flight, so
  the pollers do not saturate the server);
- worker-process CPU seconds for one workflow of 100 vs 1000 sequential
  activities (roughly linear with the sticky cache; quadratic without).

The worker, the client and this harness share one process; the dev server
runs in its own (``durable-workflow server start-dev``). Numbers are printed,
never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from durable_workflow import activity, workflow
from durable_workflow.client import Client
from durable_workflow.worker import Worker

QUEUE = "bench-worker"


@activity.defn(name="bench-echo")
def echo(value: int) -> int:
    return value


@workflow.defn(name="bench-steps")
class Steps:
    def run(self, ctx: Any, steps: int) -> Any:
        total = 0
        for i in range(steps):
            total += yield ctx.schedule_activity("bench-echo", [i])
        return total


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def dev_server_process() -> Iterator[str]:
    """A dev server in its own process on a free port; yields its URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "durable_workflow.cli",
                "server",
                "start-dev",
                "--port",
                str(port),
                "--db",
                str(Path(tmp) / "bench.sqlite"),
                "--poll-timeout",
                "10",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                        break
                time.sleep(0.05)
            else:
                raise RuntimeError("dev server did not start")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


async def _run_one(client: Client, steps: int, poll: float = 0.005) -> float:
    started = time.perf_counter()
    handle = await client.start_workflow(
        workflow_type="bench-steps",
        task_queue=QUEUE,
        workflow_id=f"bench-{uuid.uuid4().hex[:12]}",
        input=[steps],
    )
    result = await client.get_result(handle, poll_interval=poll, timeout=600)
    if result != sum(range(steps)):
        raise RuntimeError(f"wrong result {result!r}")
    return time.perf_counter() - started


async def _with_worker(url: str, body: Callable[[Client, Worker], Awaitable[None]]) -> None:
    async with Client(url) as client:
        worker = Worker(
            client,
            task_queue=QUEUE,
            workflows=[Steps],
            activities=[echo],
            poll_timeout=15.0,
            max_concurrent_workflow_tasks=20,
            max_concurrent_activity_tasks=20,
        )
        running = asyncio.create_task(worker.run())
        try:
            await body(client, worker)
        finally:
            await worker.stop()
            await running


async def _throughput(url: str) -> None:
    async def body(client: Client, worker: Worker) -> None:
        await _run_one(client, 1)  # warm-up: registration, connections
        for steps, total in ((1, 50), (10, 20)):
            for concurrency in (1, 50):
                count = total if concurrency == 1 else 50
                started = time.perf_counter()
                if concurrency == 1:
                    for _ in range(count):
                        await _run_one(client, steps, poll=0.005)
                else:
                    await asyncio.gather(
                        *(_run_one(client, steps, poll=0.25) for _ in range(count))
                    )
                elapsed = time.perf_counter() - started
                print(
                    f"   throughput {steps:>2} activit{'y' if steps == 1 else 'ies'}, "
                    f"{concurrency:>2} concurrent: {count / elapsed:7.1f} workflows/s "
                    f"({count} in {elapsed:.2f}s)",
                    flush=True,
                )

    await _with_worker(url, body)


async def _latency(url: str) -> None:
    async def body(client: Client, worker: Worker) -> None:
        await _run_one(client, 1)
        samples = sorted([await _run_one(client, 1) for _ in range(100)])
        p50 = statistics.median(samples)
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        print(f"   latency 1 activity, idle: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")

    await _with_worker(url, body)


async def _lifetime_cpu(url: str) -> None:
    async def body(client: Client, worker: Worker) -> None:
        await _run_one(client, 1)
        figures = {}
        for steps in (100, 1000):
            cpu = time.process_time()
            wall = await _run_one(client, steps, poll=0.25)
            figures[steps] = time.process_time() - cpu
            stats = worker.workflow_cache.stats if worker.workflow_cache else None
            print(
                f"   {steps:>4} sequential activities: worker CPU {figures[steps]:.2f}s, "
                f"wall {wall:.2f}s, cache {stats}",
                flush=True,
            )
        print(f"   CPU ratio 1000/100: {figures[1000] / figures[100]:.1f} (10 = linear)")

    await _with_worker(url, body)


def main() -> None:
    with dev_server_process() as url:
        asyncio.run(_latency(url))
        asyncio.run(_throughput(url))
        asyncio.run(_lifetime_cpu(url))


if __name__ == "__main__":
    main()
