"""Long-poll wake-ups and timers over real HTTP (no fixed-interval sleeping)."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from server_http_helpers import CONTROL, WORKER

from durable_workflow.testing import DevServerHandle, dev_server


def test_waiting_poll_returns_as_soon_as_a_workflow_starts() -> None:
    with (
        dev_server(poll_timeout=10.0) as handle,
        httpx.Client(base_url=handle.url, timeout=20) as http,
    ):
        http.post(
            "/api/worker/register",
            json={"worker_id": "w1", "task_queue": "q", "runtime": "python"},
            headers=WORKER,
        )
        result: dict[str, Any] = {}

        def poll() -> None:
            began = time.monotonic()
            response = http.post(
                "/api/worker/workflow-tasks/poll",
                json={"worker_id": "w1", "task_queue": "q"},
                headers=WORKER,
            )
            result["elapsed"] = time.monotonic() - began
            result["task"] = response.json()["task"]

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.5)  # the poll is now parked
        started_at = time.monotonic()
        http.post(
            "/api/workflows",
            json={"workflow_type": "t", "workflow_id": "a", "task_queue": "q"},
            headers=CONTROL,
        )
        poller.join(timeout=15)
        assert result["task"] is not None and result["task"]["workflow_id"] == "a"
        assert time.monotonic() - started_at < 2.0  # far below the 10 s poll timeout
        assert result["elapsed"] < 5.0


def test_empty_poll_returns_null_after_the_timeout(server: DevServerHandle) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.post(
            "/api/worker/register",
            json={"worker_id": "w1", "task_queue": "q", "runtime": "python"},
            headers=WORKER,
        )
        began = time.monotonic()
        response = http.post(
            "/api/worker/activity-tasks/poll",
            json={"worker_id": "w1", "task_queue": "q"},
            headers=WORKER,
        )
        assert response.status_code == 200 and response.json()["task"] is None
        assert 0.9 <= time.monotonic() - began < 3.0


def test_timer_fires_and_wakes_a_workflow_task(server: DevServerHandle) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        http.post(
            "/api/worker/register",
            json={"worker_id": "w1", "task_queue": "q", "runtime": "python"},
            headers=WORKER,
        )
        http.post(
            "/api/workflows",
            json={"workflow_type": "t", "workflow_id": "a", "task_queue": "q"},
            headers=CONTROL,
        )
        poll = {"worker_id": "w1", "task_queue": "q"}
        task = http.post("/api/worker/workflow-tasks/poll", json=poll, headers=WORKER).json()[
            "task"
        ]
        done = http.post(
            f"/api/worker/workflow-tasks/{task['task_id']}/complete",
            json={
                "lease_owner": "w1",
                "workflow_task_attempt": 1,
                "commands": [{"type": "start_timer", "delay_seconds": 0}],
            },
            headers=WORKER,
        )
        assert done.status_code == 200
        fired = None
        for _ in range(3):
            fired = http.post("/api/worker/workflow-tasks/poll", json=poll, headers=WORKER).json()[
                "task"
            ]
            if fired is not None:
                break
        assert fired is not None and fired["workflow_wait_kind"] == "timer"
        assert [e["event_type"] for e in fired["history_events"]][-2:] == [
            "TimerScheduled",
            "TimerFired",
        ]


def test_history_wait_new_event_wakes_on_the_next_event() -> None:
    with (
        dev_server(poll_timeout=10.0) as handle,
        httpx.Client(base_url=handle.url, timeout=20) as http,
    ):
        run_id = http.post(
            "/api/workflows",
            json={"workflow_type": "t", "workflow_id": "a", "task_queue": "q"},
            headers=CONTROL,
        ).json()["run_id"]
        result: dict[str, Any] = {}

        def wait() -> None:
            response = http.get(
                f"/api/workflows/a/runs/{run_id}/history",
                params={"next_page_token": "Mg==", "wait_new_event": "1"},
                headers=CONTROL,
            )
            result["events"] = response.json()["events"]

        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(0.5)
        began = time.monotonic()
        dup = http.post(
            "/api/workflows",
            json={"workflow_type": "t", "workflow_id": "a", "task_queue": "q"},
            headers=CONTROL,
        )
        assert dup.status_code == 409
        waiter.join(timeout=15)
        assert time.monotonic() - began < 3.0
        assert [e["event_type"] for e in result["events"]] == ["StartRejected"]


def test_duplicate_poll_in_flight_shares_the_first_result() -> None:
    with (
        dev_server(poll_timeout=10.0) as handle,
        httpx.Client(base_url=handle.url, timeout=20) as http,
    ):
        http.post(
            "/api/worker/register",
            json={"worker_id": "w1", "task_queue": "q", "runtime": "python"},
            headers=WORKER,
        )
        results: list[Any] = []
        body = {"worker_id": "w1", "task_queue": "q", "poll_request_id": "same"}

        def poll() -> None:
            response = http.post("/api/worker/workflow-tasks/poll", json=body, headers=WORKER)
            results.append(response.json()["task"])

        pollers = [threading.Thread(target=poll) for _ in range(2)]
        for poller in pollers:
            poller.start()
        time.sleep(0.5)
        http.post(
            "/api/workflows",
            json={"workflow_type": "t", "workflow_id": "a", "task_queue": "q"},
            headers=CONTROL,
        )
        for poller in pollers:
            poller.join(timeout=15)
        assert len(results) == 2 and results[0] is not None
        assert results[0]["task_id"] == results[1]["task_id"]
        assert results[0]["workflow_task_attempt"] == results[1]["workflow_task_attempt"] == 1
