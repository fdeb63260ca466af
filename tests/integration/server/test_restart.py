"""State survives a restart of the server on the same SQLite file."""

from __future__ import annotations

from pathlib import Path

import httpx
from server_http_helpers import CONTROL, WORKER

from durable_workflow.testing import dev_server


def test_restart_keeps_runs_tasks_and_history(tmp_path: Path) -> None:
    db = tmp_path / "dev.sqlite"
    with (
        dev_server(db_path=db, poll_timeout=1.0) as first,
        httpx.Client(base_url=first.url) as http,
    ):
        run_id = http.post(
            "/api/workflows",
            json={"workflow_type": "t", "workflow_id": "a", "task_queue": "q", "input": [1]},
            headers=CONTROL,
        ).json()["run_id"]
        http.post(
            "/api/worker/register",
            json={"worker_id": "w1", "task_queue": "q", "runtime": "python"},
            headers=WORKER,
        )
        task = http.post(
            "/api/worker/workflow-tasks/poll",
            json={"worker_id": "w1", "task_queue": "q"},
            headers=WORKER,
        ).json()["task"]
        http.post(
            f"/api/worker/workflow-tasks/{task['task_id']}/complete",
            json={
                "lease_owner": "w1",
                "workflow_task_attempt": 1,
                "commands": [{"type": "schedule_activity", "activity_type": "x"}],
            },
            headers=WORKER,
        )
    with (
        dev_server(db_path=db, poll_timeout=1.0) as second,
        httpx.Client(base_url=second.url) as http,
    ):
        described = http.get("/api/workflows/a", headers=CONTROL).json()
        assert described["run_id"] == run_id and described["status"] == "waiting"
        assert described["input"] == [1]
        events = http.get(f"/api/workflows/a/runs/{run_id}/history", headers=CONTROL).json()[
            "events"
        ]
        assert [e["event_type"] for e in events] == [
            "StartAccepted",
            "WorkflowStarted",
            "ActivityScheduled",
        ]
        act = http.post(
            "/api/worker/activity-tasks/poll",
            json={"worker_id": "w1", "task_queue": "q"},
            headers=WORKER,
        ).json()["task"]
        assert act is not None and act["activity_type"] == "x"


def test_committed_state_survives_a_process_kill(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from durable_workflow.server.runner import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    sock.close()
    db = tmp_path / "dev.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "durable_workflow.cli", "server", "start-dev",
         "--port", str(port), "--db", str(db)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        started = httpx.post(
            url + "/api/workflows",
            headers=CONTROL,
            json={"workflow_type": "t", "workflow_id": "kept", "task_queue": "q"},
        )
        assert started.status_code == 201
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    with (
        dev_server(db_path=db, poll_timeout=1.0) as again,
        httpx.Client(base_url=again.url) as http,
    ):
        described = http.get("/api/workflows/kept", headers=CONTROL)
        assert described.status_code == 200
        assert described.json()["run_id"] == started.json()["run_id"]
