"""End-to-end worker figures against the dev server (a separate process) over loopback.

- throughput (workflows/s) for a 1-activity and a 10-sequential-activity
  workflow, with 1 and with 50 concurrent starts;
- p50/p99 latency from ``start_workflow`` to the result for the 1-activity
  workflow on an idle system;
- worker-process CPU seconds for one workflow of 100 vs 1000 sequential
  activities (roughly linear with the sticky cache; quadratic without).

The worker, the client and this harness share one process; the dev server
runs in its own (``durable-workflow server start-dev``). A workflow counts as
finished when the worker's ``complete_workflow`` completion is acknowledged
by the server (seen by a worker interceptor), so no result polling loads the
server while it is measured. Numbers are printed, never asserted.
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
from durable_workflow.interceptors import (
    PassthroughWorkerInterceptor,
    WorkflowTaskHandler,
    WorkflowTaskInterceptorContext,
)
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
            stderr=(Path(tmp) / "server.log").open("w"),
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
            if process.poll() is not None:
                log = (Path(tmp) / "server.log").read_text()[-2000:]
                print(f"   dev server exited early ({process.returncode}):\n{log}")
            process.terminate()
            process.wait(timeout=10)


class CompletionWatch(PassthroughWorkerInterceptor):
    """Resolves a future per workflow id once its complete_workflow was accepted."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.waiting: dict[str, asyncio.Future[None]] = {}

    def expect(self, workflow_id: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[workflow_id] = future
        return future

    async def execute_workflow_task(
        self, context: WorkflowTaskInterceptorContext, next: WorkflowTaskHandler
    ) -> list[dict[str, Any]] | None:
        commands = await next(context)
        if commands and any(c.get("type") == "complete_workflow" for c in commands):
            future = self.waiting.pop(str(context.task.get("workflow_id")), None)
            if future is not None and not future.done():
                future.set_result(None)
        return commands


async def _run_one(client: Client, watch: CompletionWatch, steps: int) -> float:
    started = time.perf_counter()
    workflow_id = f"bench-{uuid.uuid4().hex[:12]}"
    done = watch.expect(workflow_id)
    await client.start_workflow(
        workflow_type="bench-steps", task_queue=watch.queue, workflow_id=workflow_id, input=[steps]
    )
    await asyncio.wait_for(done, timeout=600)
    return time.perf_counter() - started


async def _with_worker(
    url: str, body: Callable[[Client, Worker, CompletionWatch], Awaitable[None]]
) -> None:
    # A queue per phase: a stopped worker's long poll can still be held by the
    # server and lease the next phase's first task (then lost until the lease expires).
    watch = CompletionWatch(f"{QUEUE}-{uuid.uuid4().hex[:8]}")
    async with Client(url) as client:
        worker = Worker(
            client,
            task_queue=watch.queue,
            workflows=[Steps],
            activities=[echo],
            poll_timeout=15.0,
            max_concurrent_workflow_tasks=20,
            max_concurrent_activity_tasks=20,
            interceptors=[watch],
        )
        running = asyncio.create_task(worker.run())
        try:
            await body(client, worker, watch)
        finally:
            await worker.stop()
            await running


async def _throughput(url: str) -> None:
    async def body(client: Client, worker: Worker, watch: CompletionWatch) -> None:
        await _run_one(client, watch, 1)  # warm-up: registration, connections
        for steps, total in ((1, 50), (10, 20)):
            for concurrency in (1, 50):
                count = total if concurrency == 1 else 50
                started = time.perf_counter()
                if concurrency == 1:
                    for _ in range(count):
                        await _run_one(client, watch, steps)
                else:
                    await asyncio.gather(*(_run_one(client, watch, steps) for _ in range(count)))
                elapsed = time.perf_counter() - started
                print(
                    f"   throughput {steps:>2} activit{'y' if steps == 1 else 'ies'}, "
                    f"{concurrency:>2} concurrent: {count / elapsed:7.1f} workflows/s "
                    f"({count} in {elapsed:.2f}s)",
                    flush=True,
                )

    await _with_worker(url, body)


async def _latency(url: str) -> None:
    async def body(client: Client, worker: Worker, watch: CompletionWatch) -> None:
        await _run_one(client, watch, 1)
        samples = sorted([await _run_one(client, watch, 1) for _ in range(100)])
        p50 = statistics.median(samples)
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        print(f"   latency 1 activity, idle: p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")

    await _with_worker(url, body)


async def _lifetime_cpu(url: str) -> None:
    async def body(client: Client, worker: Worker, watch: CompletionWatch) -> None:
        await _run_one(client, watch, 1)
        cache = worker.workflow_cache
        assert cache is not None
        replay_seconds = [0.0]
        resume = cache.get_or_replay

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return resume(*args, **kwargs)
            finally:
                replay_seconds[0] += time.process_time() - started

        cache.get_or_replay = timed  # type: ignore[method-assign]
        figures: dict[int, tuple[float, float]] = {}
        for steps in (100, 1000):
            cpu, replay_seconds[0] = time.process_time(), 0.0
            wall = await _run_one(client, watch, steps)
            figures[steps] = (time.process_time() - cpu, replay_seconds[0])
            print(
                f"   {steps:>4} sequential activities: worker process CPU {figures[steps][0]:.2f}s "
                f"(replay {figures[steps][1]:.3f}s), wall {wall:.2f}s, {cache.stats}",
                flush=True,
            )
        total = figures[1000][0] / figures[100][0]
        replay = figures[1000][1] / figures[100][1]
        print(f"   ratio 1000/100 (10 = linear): process CPU {total:.1f}, replay {replay:.1f}")

    await _with_worker(url, body)


def main() -> None:
    with dev_server_process() as url:
        asyncio.run(_latency(url))
        asyncio.run(_throughput(url))
        asyncio.run(_lifetime_cpu(url))


if __name__ == "__main__":
    main()
