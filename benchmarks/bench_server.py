"""Dev-server throughput: start_workflow requests/s, end-to-end 1-activity workflows/s with
one SDK worker, database bytes per completed workflow and the server's resident memory.

Sizes come from the environment: ``BENCH_SERVER_STARTS`` (default 2000),
``BENCH_SERVER_WORKFLOWS`` (default 300). The server runs as a subprocess so its
memory and CPU time are measured alone (server CPU per request is the steadier figure on a
shared machine, where the driver competes for the cores); the memory-after-100k figure is
``bench_server_memory``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import httpx

from durable_workflow import Client, Worker, activity, workflow

from ._devserver import CONTROL, dev_server_process


@activity.defn(name="bench-echo")
def echo(value: int) -> int:
    return value


@workflow.defn(name="bench-one-activity")
class OneActivity:
    def run(self, ctx: object, value: int) -> object:
        return (yield ctx.schedule_activity("bench-echo", [value]))  # type: ignore[attr-defined]


async def _starts(url: str, count: int, concurrency: int = 16) -> float:
    async with httpx.AsyncClient(base_url=url, headers=CONTROL, timeout=30) as http:
        queue = list(range(count))

        async def one_worker() -> None:
            while queue:
                i = queue.pop()
                body = {"workflow_id": f"start-{i}", "workflow_type": "bench-start",
                        "task_queue": "bench-starts"}  # fmt: skip
                response = await http.post("/api/workflows", json=body)
                assert response.status_code == 201, response.text

        started = time.perf_counter()
        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)


def _completed(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM workflow_runs WHERE workflow_type = 'bench-one-activity'"
            " AND status = 'completed'"
        ).fetchone()
    return int(row[0])


async def _end_to_end(url: str, db: Path, count: int) -> float:
    async with Client(url) as client:
        for i in range(count):
            await client.start_workflow(
                workflow_type="bench-one-activity",
                workflow_id=f"e2e-{i}",
                task_queue="bench",
                input=[i],
            )
        worker = Worker(
            client,
            task_queue="bench",
            workflows=[OneActivity],
            activities=[echo],
            max_concurrent_workflow_tasks=32,
            max_concurrent_activity_tasks=32,
        )
        started = time.perf_counter()
        running = asyncio.create_task(worker.run())
        while _completed(db) < count:
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        running.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(running, 5)
    return count / elapsed


def main() -> None:
    starts = int(os.environ.get("BENCH_SERVER_STARTS", "2000"))
    workflows = int(os.environ.get("BENCH_SERVER_WORKFLOWS", "300"))
    with (
        tempfile.TemporaryDirectory(prefix="dw-bench-") as tmp,
        dev_server_process(Path(tmp)) as server,
    ):
        cpu = server.cpu_seconds()
        rate = asyncio.run(_starts(server.url, starts))
        cpu_per_start = (server.cpu_seconds() - cpu) / starts
        print(f"start_workflow: {rate:,.0f} requests/s ({starts} starts, 16 concurrent); "
              f"server CPU {cpu_per_start * 1000:,.2f} ms per start "
              f"(~{1 / cpu_per_start:,.0f}/s on one free core)")  # fmt: skip
        before, cpu = server.checkpointed_size(), server.cpu_seconds()
        e2e = asyncio.run(_end_to_end(server.url, server.db, workflows))
        cpu_per_workflow = (server.cpu_seconds() - cpu) / workflows
        print(f"end-to-end 1-activity workflows: {e2e:,.1f} workflows/s "
              f"({workflows} workflows, one worker); server CPU "
              f"{cpu_per_workflow * 1000:,.2f} ms per workflow")  # fmt: skip
        per = max(server.checkpointed_size() - before, 0) / workflows
        print(f"database size per completed workflow: {per / 1024:,.1f} KiB")
        print(f"server resident memory after {workflows} completed workflows: "
              f"{server.rss_mib():,.1f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
