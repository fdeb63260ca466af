"""One side of ``bench_end_to_end``, runnable by either SDK (same import name).

Only the public 0.4.53 API is used, so the same file drives our SDK (source tree on
PYTHONPATH) and upstream 0.4.53 (its own venv). Modes, each printing one JSON line:

- ``worker URL QUEUE``: a worker until SIGTERM;
- ``gather URL QUEUE COUNT``: start COUNT one-activity workflows at once, then gather
  every result; prints the seconds from the first start to the last result and the
  CPU seconds this (client) process used meanwhile;
- ``latency URL QUEUE COUNT``: a worker in this process and COUNT sequential
  start -> result round trips on an idle system; prints each in seconds;
- ``chain URL QUEUE STEPS``: a worker in this process runs one workflow of STEPS
  sequential activities; prints this process's CPU seconds for it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import uuid
from typing import Any

from durable_workflow import Client, Worker, activity, workflow


@activity.defn(name="bench-e2e-echo")
def echo(value: int) -> int:
    return value


@workflow.defn(name="bench-e2e-one-activity")
class OneActivity:
    def run(self, ctx: Any, value: int) -> Any:
        return (yield ctx.schedule_activity("bench-e2e-echo", [value]))


@workflow.defn(name="bench-e2e-chain")
class Chain:
    def run(self, ctx: Any, steps: int) -> Any:
        total = 0
        for step in range(steps):
            total += yield ctx.schedule_activity("bench-e2e-echo", [step])
        return total


def make_worker(client: Client, queue: str) -> Worker:
    return Worker(
        client,
        task_queue=queue,
        workflows=[OneActivity, Chain],
        activities=[echo],
        poll_timeout=10.0,
        max_concurrent_workflow_tasks=32,
        max_concurrent_activity_tasks=32,
        shutdown_timeout=2.0,
    )


async def one(client: Client, queue: str, value: int) -> Any:
    handle = await client.start_workflow(
        workflow_type="bench-e2e-one-activity",
        task_queue=queue,
        workflow_id=f"e2e-{uuid.uuid4().hex[:16]}",
        input=[value],
    )
    return await client.get_result(handle, timeout=300)


async def run_worker(url: str, queue: str) -> None:
    async with Client(url) as client:
        worker = make_worker(client, queue)
        running = asyncio.ensure_future(worker.run())
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print(json.dumps({"ready": True}), flush=True)
        await stop.wait()
        await worker.stop()
        await running


async def gather(url: str, queue: str, count: int) -> None:
    async with Client(url) as client:
        cpu = time.process_time()
        started = time.perf_counter()
        results = await asyncio.gather(*(one(client, queue, i) for i in range(count)))
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    assert results == list(range(count)), "wrong results"
    print(json.dumps({"seconds": elapsed, "cpu": cpu}), flush=True)


async def latency(url: str, queue: str, count: int) -> None:
    async with Client(url) as client:
        worker = make_worker(client, queue)
        running = asyncio.ensure_future(worker.run())
        try:
            for i in range(3):  # warm-up: registration, connections, first polls
                await one(client, queue, i)
            samples = []
            for i in range(count):
                started = time.perf_counter()
                assert await one(client, queue, i) == i
                samples.append(time.perf_counter() - started)
        finally:
            await worker.stop()
            await running
    print(json.dumps({"samples": samples}), flush=True)


async def chain(url: str, queue: str, steps: int) -> None:
    async with Client(url) as client:
        worker = make_worker(client, queue)
        running = asyncio.ensure_future(worker.run())
        try:
            await one(client, queue, 0)  # warm-up: registration, connections, first polls
            cpu = time.process_time()
            handle = await client.start_workflow(
                workflow_type="bench-e2e-chain",
                task_queue=queue,
                workflow_id=f"chain-{uuid.uuid4().hex[:16]}",
                input=[steps],
            )
            total = await client.get_result(handle, timeout=3600)
            cpu = time.process_time() - cpu
        finally:
            await worker.stop()
            await running
    # Upstream 0.4.53's get_result reads only the first history page and returns None
    # for a history this long (docs/compat.md); the run itself completed.
    assert total in (steps * (steps - 1) // 2, None), "wrong result"
    print(json.dumps({"cpu": cpu}), flush=True)


def main(argv: list[str]) -> None:
    mode, url, queue = argv[:3]
    if mode == "worker":
        asyncio.run(run_worker(url, queue))
    elif mode == "gather":
        asyncio.run(gather(url, queue, int(argv[3])))
    elif mode == "latency":
        asyncio.run(latency(url, queue, int(argv[3])))
    elif mode == "chain":
        asyncio.run(chain(url, queue, int(argv[3])))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
