"""Bounded fault runs for CI (``nox -s soak`` is the long one).

- server SIGKILLs under load with workers running (and a worker SIGKILL): nothing
  acknowledged is lost, nothing completes twice, the file stays intact;
- a worker SIGKILLed while it holds activities: they are leased again after the lease
  expires, run on the next worker, and each workflow completes exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from soak import CONTROL, SoakReport, _free_port, _kill, soak, spawn_server, spawn_worker, verify


@pytest.mark.timeout(300)
def test_server_sigkills_under_load_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    report = asyncio.run(
        soak(tmp_path / "soak.sqlite", cycles=3, kill_every=2.0, worker_kill_every=3.0,
             starters=4, workers=2, drain_timeout=120)
    )  # fmt: skip
    print(report.summary())
    assert report.server_kills == 3 and report.worker_kills >= 1
    assert len(report.acknowledged) > 0
    assert report.ok, report.summary()


@pytest.mark.timeout(300)
def test_worker_sigkill_mid_activity_retries_after_the_lease_once(tmp_path: Path) -> None:
    db = tmp_path / "worker-kill.sqlite"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = spawn_server(db, port)
    stuck = spawn_worker(url, activity_sleep=600)
    try:
        ids = [f"soak-{n}" for n in range(5)]
        with httpx.Client(base_url=url, timeout=10) as http:
            for n, workflow_id in enumerate(ids):
                body = {"workflow_id": workflow_id, "workflow_type": "soak-workflow",
                        "task_queue": "soak", "input": [n]}  # fmt: skip
                assert http.post("/api/workflows", json=body, headers=CONTROL).status_code == 201
        deadline = time.monotonic() + 60
        while _leased_activities(db) < len(ids):
            assert time.monotonic() < deadline, "activities were never leased"
            time.sleep(0.2)
        _kill(stuck)
        fresh = spawn_worker(url)
        try:
            while _completed(db) < len(ids):
                assert time.monotonic() < deadline + 60, "workflows did not complete"
                time.sleep(0.2)
        finally:
            _kill(fresh)
    finally:
        server.send_signal(signal.SIGINT)
        with contextlib.suppress(Exception):
            server.wait(timeout=15)
        _kill(server)
    report = SoakReport(acknowledged=set(ids))
    verify(db, report)
    assert report.ok, report.summary()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        attempts = conn.execute("SELECT MIN(attempt_count) FROM activity_executions").fetchone()[0]
    assert attempts >= 2  # each activity ran again after the dead worker's lease expired


def _leased_activities(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM tasks WHERE task_type = 'activity' AND status = 'leased'"
        ).fetchone()
    return int(row[0])


def _completed(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM workflow_runs WHERE status = 'completed'"
        ).fetchone()
    return int(row[0])
