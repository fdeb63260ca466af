"""Dev-server memory at scale: N workflows completed over the raw worker protocol.

No SDK worker: a lean httpx driver starts workflows (at most ``WINDOW`` open at
once, so the figures reflect *completed* workflows, not a backlog), and
several concurrent pollers answer each workflow task -- ``complete_workflow``
straight away (variant ``bare``) or after one ``schedule_activity`` that
activity pollers complete (variant ``activity``). Each variant gets a fresh
server. Printed: the server's RSS every N/10 completed workflows, final RSS,
database bytes per completed workflow, workflows/s and the server's CPU time
per workflow (steadier than wall-clock rates on a shared machine).

``BENCH_SERVER_MEMORY_WORKFLOWS`` (default 2000; 100000 for the full figure),
``BENCH_SERVER_MEMORY_VARIANTS`` (default ``bare,activity``),
``BENCH_SERVER_MEMORY_POLLERS`` (default 8 per task kind).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from durable_workflow.server.engine.payload_codec import encode_avro

from ._devserver import CONTROL, WORKER, ServerProcess, dev_server_process

WINDOW = 256
STARTERS = 4
RESULT = {"codec": "avro", "blob": encode_avro("ok")}
VARIANTS = {
    "bare": "start -> workflow task -> complete_workflow",
    "activity": "start -> schedule_activity -> activity complete -> complete_workflow",
}


@dataclass
class Progress:
    target: int
    server: ServerProcess
    began: float = field(default_factory=time.perf_counter)
    completed: int = 0
    samples: list[tuple[int, float, float]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self) -> None:
        self.completed += 1
        step = max(self.target // 10, 1)
        if self.completed % step == 0 or self.completed == self.target:
            elapsed = time.perf_counter() - self.began
            sample = (self.completed, self.server.rss_mib(), elapsed)
            self.samples.append(sample)
            print(
                f"  {sample[0]:>10,}  {sample[1]:>8.1f}  {sample[0] / elapsed:>11.1f}", flush=True
            )
        if self.completed >= self.target:
            self.done.set()


async def _drive(server: ServerProcess, variant: str, count: int, pollers: int) -> Progress:
    queue = f"mem-{variant}"
    worker = {"worker_id": "mem-driver", "task_queue": queue}
    # Idle connections are dropped before uvicorn's 5 s keep-alive closes them, so a starter
    # that waited on the window never sends on a connection the server is closing.
    limits = httpx.Limits(max_connections=2 * pollers + STARTERS + 4, keepalive_expiry=2.0)
    window = asyncio.Semaphore(WINDOW)
    numbers = iter(range(count))
    # As the SDK does with a server on this machine: no response compression asked for.
    plain = {"Accept-Encoding": "identity"}
    async with httpx.AsyncClient(
        base_url=server.url, timeout=60, limits=limits, headers=plain
    ) as http:

        async def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            response = await http.post(path, json=body, headers=headers)
            assert response.status_code < 300, (path, response.status_code, response.text)
            return response.json()

        registered = {**worker, "runtime": "python"}
        await post("/api/worker/register", registered, WORKER)
        progress = Progress(count, server)

        async def starter() -> None:
            for i in numbers:
                await window.acquire()
                body = {"workflow_id": f"mem-{variant}-{i}", "workflow_type": "bench-memory",
                        "task_queue": queue, "input": [i]}  # fmt: skip
                await post("/api/workflows", body, CONTROL)

        async def workflow_poller() -> None:
            while not progress.done.is_set():
                # A fresh poll_request_id per poll, as the SDK sends (server-side poll cache).
                poll = {**worker, "poll_request_id": f"wf-poll-{uuid.uuid4().hex}"}
                task = (await post("/api/worker/workflow-tasks/poll", poll, WORKER))["task"]
                if task is None:
                    continue
                seen = {event["event_type"] for event in task["history_events"]}
                if variant == "activity" and "ActivityCompleted" not in seen:
                    command = {"type": "schedule_activity", "activity_type": "bench-echo",
                               "queue": queue, "arguments": task["arguments"]}  # fmt: skip
                else:
                    command = {"type": "complete_workflow", "result": RESULT}
                answer = {"lease_owner": worker["worker_id"], "commands": [command],
                          "workflow_task_attempt": task["workflow_task_attempt"]}  # fmt: skip
                path = f"/api/worker/workflow-tasks/{task['task_id']}/complete"
                if (await post(path, answer, WORKER)).get("run_status") == "completed":
                    window.release()
                    progress.record()

        async def activity_poller() -> None:
            while not progress.done.is_set():
                task = (await post("/api/worker/activity-tasks/poll", worker, WORKER))["task"]
                if task is None:
                    continue
                answer = {"lease_owner": worker["worker_id"], "result": RESULT,
                          "activity_attempt_id": task["activity_attempt_id"]}  # fmt: skip
                await post(f"/api/worker/activity-tasks/{task['task_id']}/complete", answer, WORKER)

        jobs = [*(starter() for _ in range(STARTERS)), *(workflow_poller() for _ in range(pollers))]
        if variant == "activity":
            jobs.extend(activity_poller() for _ in range(pollers))
        tasks = [asyncio.ensure_future(job) for job in jobs]
        finished = asyncio.ensure_future(progress.done.wait())
        # A failing job (unexpected status) ends the run instead of hanging it.
        await asyncio.wait([finished, *tasks], return_when=asyncio.FIRST_EXCEPTION)
        for task in [finished, *tasks]:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return progress


def _run_variant(variant: str, count: int, pollers: int) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="dw-bench-mem-") as tmp,
        dev_server_process(Path(tmp)) as server,
    ):
        empty = server.checkpointed_size()
        print(f"{variant}: {VARIANTS[variant]} ({count} workflows, {pollers} pollers per kind)")
        print(f"  server RSS before: {server.rss_mib():,.1f} MiB")
        cpu_before = server.cpu_seconds()
        print(f"  {'completed':>10}  {'RSS MiB':>8}  {'workflows/s':>11}", flush=True)
        progress = asyncio.run(_drive(server, variant, count, pollers))
        cpu = server.cpu_seconds() - cpu_before
        per = max(server.checkpointed_size() - empty, 0) / count
        _, final_rss, elapsed = progress.samples[-1]
        print(f"  final RSS after {count:,} completed workflows: {final_rss:,.1f} MiB")
        print(f"  database size per completed workflow: {per / 1024:,.2f} KiB")
        print(f"  throughput: {count / elapsed:,.1f} workflows/s")
        print(f"  server CPU per workflow: {cpu / count * 1000:,.2f} ms")


def main() -> None:
    count = int(os.environ.get("BENCH_SERVER_MEMORY_WORKFLOWS", "2000"))
    pollers = int(os.environ.get("BENCH_SERVER_MEMORY_POLLERS", "8"))
    variants = os.environ.get("BENCH_SERVER_MEMORY_VARIANTS", "bare,activity")
    for variant in (v.strip() for v in variants.split(",") if v.strip()):
        if variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")
        _run_variant(variant, count, pollers)


if __name__ == "__main__":
    main()
