"""A task poll whose HTTP client has gone never leases the task that becomes ready:
the next poller gets it at once, as the first attempt (no lease left to expire).
The real server leases it to the gone poller (docs/compat.md)."""

from __future__ import annotations

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from server_http_helpers import CONTROL, WORKER

from durable_workflow._generated import manifest
from durable_workflow.testing import dev_server

POLL_TIMEOUT = 10.0  # a gone poller that still leased would leave the next poll empty this long


def _park_then_leave(url: str, path: str, body: dict[str, Any]) -> None:
    """Send a poll over a raw socket, let it park, close the socket without reading."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"{manifest.WORKER_PROTOCOL_HEADER}: {manifest.WORKER_PROTOCOL_VERSION}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(head.encode() + payload)
        time.sleep(0.5)  # the poll is parked: nothing is ready yet
    time.sleep(1.0)  # the server reads the disconnect (an event, not a timeout)


def _setup(http: httpx.Client) -> None:
    registered = http.post(
        "/api/worker/register",
        json={"worker_id": "w1", "task_queue": "q", "runtime": "python"},
        headers=WORKER,
    )
    assert registered.status_code == 201, registered.text


def _start(http: httpx.Client) -> None:
    started = http.post(
        "/api/workflows",
        json={"workflow_type": "t", "workflow_id": "a", "task_queue": "q"},
        headers=CONTROL,
    )
    assert started.status_code == 201, started.text


def _event_types(http: httpx.Client) -> list[str]:
    run_id = http.get("/api/workflows/a", headers=CONTROL).json()["run_id"]
    history = http.get(f"/api/workflows/a/runs/{run_id}/history", headers=CONTROL).json()
    return [event["event_type"] for event in history["events"]]


@pytest.mark.parametrize(
    ("gone_id", "next_id"),
    [
        (None, None),
        ("poll-1", "poll-2"),
        # The SDK retries a failed poll with the same poll_request_id: the retry must not
        # be answered from the gone poll's outcome.
        ("poll-1", "poll-1"),
    ],
)
def test_a_gone_workflow_poller_leaves_the_task_to_the_next_poll(
    gone_id: str | None, next_id: str | None
) -> None:
    with (
        dev_server(poll_timeout=POLL_TIMEOUT) as handle,
        httpx.Client(base_url=handle.url, timeout=30) as http,
    ):
        _setup(http)
        poll = {"worker_id": "w1", "task_queue": "q"}
        gone = {**poll, "poll_request_id": gone_id} if gone_id else poll
        _park_then_leave(handle.url, "/api/worker/workflow-tasks/poll", gone)
        _start(http)
        began = time.monotonic()
        body = {**poll, "poll_request_id": next_id} if next_id else poll
        task = http.post("/api/worker/workflow-tasks/poll", json=body, headers=WORKER).json()
        assert task["task"] is not None, "the task went to the poller that had gone"
        assert time.monotonic() - began < POLL_TIMEOUT / 2
        assert task["task"]["workflow_task_attempt"] == 1
        assert "RepairRequested" not in _event_types(http)


def test_a_gone_activity_poller_leaves_the_task_to_the_next_poll() -> None:
    with (
        dev_server(poll_timeout=POLL_TIMEOUT) as handle,
        httpx.Client(base_url=handle.url, timeout=30) as http,
    ):
        _setup(http)
        _start(http)
        poll = {"worker_id": "w1", "task_queue": "q"}
        wf_task = http.post("/api/worker/workflow-tasks/poll", json=poll, headers=WORKER).json()
        _park_then_leave(handle.url, "/api/worker/activity-tasks/poll", poll)
        command = {"type": "schedule_activity", "activity_type": "greet", "queue": "q"}
        done = http.post(
            f"/api/worker/workflow-tasks/{wf_task['task']['task_id']}/complete",
            json={"lease_owner": "w1", "workflow_task_attempt": 1, "commands": [command]},
            headers=WORKER,
        )
        assert done.status_code == 200, done.text
        began = time.monotonic()
        task = http.post("/api/worker/activity-tasks/poll", json=poll, headers=WORKER).json()
        assert task["task"] is not None, "the activity went to the poller that had gone"
        assert time.monotonic() - began < POLL_TIMEOUT / 2
        assert task["task"]["attempt_number"] == 1
        assert _event_types(http).count("ActivityStarted") == 1


def test_a_poller_that_stays_still_gets_the_task() -> None:
    """The disconnect watch does not end a poll whose client is still there."""
    with (
        dev_server(poll_timeout=POLL_TIMEOUT) as handle,
        httpx.Client(base_url=handle.url, timeout=30) as http,
        httpx.Client(base_url=handle.url, timeout=30) as control,
    ):
        _setup(http)
        began = time.monotonic()
        result: dict[str, Any] = {}

        def poll() -> None:
            body = {"worker_id": "w1", "task_queue": "q"}
            result["body"] = http.post(
                "/api/worker/workflow-tasks/poll", json=body, headers=WORKER
            ).json()

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.5)
        _start(control)
        poller.join(timeout=30)
        assert result["body"]["task"] is not None
        assert time.monotonic() - began < POLL_TIMEOUT / 2


def test_a_gone_query_poller_leaves_the_query_to_the_next_poll() -> None:
    with (
        dev_server(poll_timeout=POLL_TIMEOUT) as handle,
        httpx.Client(base_url=handle.url, timeout=30) as http,
        httpx.Client(base_url=handle.url, timeout=60) as control,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        _setup(http)
        _start(http)
        poll = {"worker_id": "w1", "task_queue": "q"}
        _park_then_leave(handle.url, "/api/worker/query-tasks/poll", poll)
        asked = pool.submit(control.post, "/api/workflows/a/query/status", json={}, headers=CONTROL)
        began = time.monotonic()
        task = http.post("/api/worker/query-tasks/poll", json=poll, headers=WORKER).json()["task"]
        assert task is not None, "the query went to the poller that had gone"
        assert time.monotonic() - began < POLL_TIMEOUT / 2
        assert task["query_task_attempt"] == 1
        done = http.post(
            f"/api/worker/query-tasks/{task['query_task_id']}/complete",
            json={"lease_owner": "w1", "query_task_attempt": 1, "result": "ok"},
            headers=WORKER,
        )
        assert done.status_code == 200, done.text
        answer = asked.result(timeout=60)
        assert answer.status_code == 200 and answer.json()["result"] == "ok", answer.text
