"""Crash test: 200 workflows, ``kill -9`` of the dev server mid-run, restart, all complete.

Nothing acknowledged is lost (every start survives), leases held when the
server died expire (3 s here) and are re-dispatched after the restart, and
each activity result is recorded exactly once in history.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.server.engine.payload_codec import decode_avro

COUNT = 200


@activity.defn(name="crash-square")
def square(value: int) -> int:
    return value * value


@workflow.defn(name="crash-workflow")
class Squaring:
    def run(self, ctx: object, value: int) -> object:
        result = yield ctx.schedule_activity("crash-square", [value])  # type: ignore[attr-defined]
        return result + 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(db: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "durable_workflow.cli", "server", "start-dev",
         "--port", str(port), "--db", str(db), "--poll-timeout", "1",
         "--lease-seconds", "3"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("dev server did not start")


def _completed(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM workflow_runs WHERE workflow_type = 'crash-workflow'"
            " AND status = 'completed'"
        ).fetchone()
    return int(row[0])


async def _work_until(url: str, db: Path, target: int, timeout: float) -> None:
    async with Client(url) as client:
        worker = Worker(
            client, task_queue="crash", workflows=[Squaring], activities=[square],
            max_concurrent_workflow_tasks=20, max_concurrent_activity_tasks=20,
        )  # fmt: skip
        running = asyncio.create_task(worker.run())
        deadline = time.monotonic() + timeout
        try:
            while _completed(db) < target and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
        finally:
            running.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(running, 5)


@pytest.mark.timeout(300)
async def test_kill_9_mid_run_loses_nothing_and_records_each_result_once(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _spawn(db, port)
    try:
        async with Client(url) as client:
            for i in range(COUNT):
                await client.start_workflow(
                    workflow_type="crash-workflow", workflow_id=f"crash-{i}",
                    task_queue="crash", input=[i],
                )  # fmt: skip
        await _work_until(url, db, COUNT // 4, timeout=60)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        assert 0 < _completed(db) < COUNT, "the kill must land mid-run"
        server = _spawn(db, port)
        await _work_until(url, db, COUNT, timeout=180)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        runs = conn.execute(
            "SELECT workflow_id, run_id, status, output FROM workflow_runs"
            " WHERE workflow_type = 'crash-workflow'"
        ).fetchall()
        completions = dict(
            conn.execute(
                "SELECT run_id, COUNT(*) FROM history_events WHERE event_type = 'ActivityCompleted'"
                " GROUP BY run_id"
            ).fetchall()
        )
    assert len(runs) == COUNT
    for workflow_id, run_id, status, output in runs:
        value = int(workflow_id.removeprefix("crash-"))
        assert status == "completed", workflow_id
        assert decode_avro(output) == value * value + 1, workflow_id
        assert completions.get(run_id) == 1, (workflow_id, completions.get(run_id))
