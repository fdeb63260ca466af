"""``POST /api/dev/closed-runs`` (generation 1's ``closed_runs_wait``) over real HTTP."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from server_http_helpers import CONTROL, Api

from durable_workflow.testing import DevServerHandle, dev_server

PATH = "/api/dev/closed-runs"


def _start(http: httpx.Client, workflow_id: str, **extra: Any) -> str:
    body = {"workflow_id": workflow_id, "workflow_type": "t", "task_queue": "q", **extra}
    started = http.post("/api/workflows", json=body, headers=CONTROL)
    assert started.status_code == 201, started.text
    run_id = started.json()["run_id"]
    assert isinstance(run_id, str)
    return run_id


def _terminate(http: httpx.Client, workflow_id: str) -> None:
    closed = http.post(
        f"/api/workflows/{workflow_id}/terminate", json={"reason": "done"}, headers=CONTROL
    )
    assert closed.status_code == 200, closed.text


def _closed_runs(http: httpx.Client, runs: list[tuple[str, str]], *, wait: bool) -> httpx.Response:
    body = {"runs": [{"workflow_id": w, "run_id": r} for w, r in runs], "wait": wait}
    return http.post(PATH, json=body, headers=CONTROL)


def test_closed_runs_answer_their_terminal_event_and_codec(api: Api) -> None:
    http = api.http
    open_run = _start(http, "open")
    closed_run = _start(http, "closed", input={"codec": "json", "blob": "[1]"})
    _terminate(http, "closed")
    answer = _closed_runs(http, [("open", open_run), ("closed", closed_run)], wait=True)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["unknown"] == []
    [closed] = body["closed"]
    assert (closed["workflow_id"], closed["run_id"]) == ("closed", closed_run)
    assert (closed["status"], closed["payload_codec"]) == ("terminated", "json")
    # Exactly the terminal event of the run's history page.
    page = http.get(f"/api/workflows/closed/runs/{closed_run}/history", headers=CONTROL).json()
    assert closed["events"] == [page["events"][-1]]
    assert closed["events"][0]["event_type"] == "WorkflowTerminated"


def test_a_held_request_returns_when_a_run_closes() -> None:
    with dev_server(poll_timeout=10.0) as handle, httpx.Client(base_url=handle.url) as http:
        runs = [("a", _start(http, "a")), ("b", _start(http, "b"))]
        answered: dict[str, Any] = {}

        def hold() -> None:
            with httpx.Client(base_url=handle.url, timeout=20) as own:
                began = time.monotonic()
                answered["body"] = _closed_runs(own, runs, wait=True).json()
                answered["elapsed"] = time.monotonic() - began

        holder = threading.Thread(target=hold)
        holder.start()
        time.sleep(0.5)  # the request is now held
        assert "body" not in answered
        _terminate(http, "b")
        holder.join(timeout=15)
        assert [c["run_id"] for c in answered["body"]["closed"]] == [runs[1][1]]
        assert 0.4 < answered["elapsed"] < 5.0  # far below the 10 s poll timeout


def test_a_held_request_answers_nothing_at_the_poll_timeout(server: DevServerHandle) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        run_id = _start(http, "a")
        began = time.monotonic()
        answer = _closed_runs(http, [("a", run_id)], wait=True)
        assert answer.json() == {"closed": [], "unknown": []}
        assert 0.9 <= time.monotonic() - began < 3.0
        # Without wait: at once.
        began = time.monotonic()
        assert _closed_runs(http, [("a", run_id)], wait=False).json()["closed"] == []
        assert time.monotonic() - began < 0.5


def test_runs_not_in_the_namespace_are_unknown_at_once(api: Api) -> None:
    http = api.http
    run_id = _start(http, "a")
    began = time.monotonic()
    answer = _closed_runs(http, [("a", run_id), ("a", "no-such-run")], wait=True)
    assert time.monotonic() - began < 0.5
    assert answer.json() == {"closed": [], "unknown": ["no-such-run"]}
    # A run named under another workflow id is not that workflow's run.
    assert _closed_runs(http, [("b", run_id)], wait=False).json()["unknown"] == [run_id]
    elsewhere = http.post(
        PATH,
        json={"runs": [{"workflow_id": "a", "run_id": run_id}]},
        headers={**CONTROL, "X-Namespace": "other"},
    )
    assert elsewhere.status_code == 404 and elsewhere.json()["reason"] == "namespace_not_found"


def test_a_bad_body_is_422_naming_the_field(api: Api) -> None:
    http = api.http
    cases: list[tuple[Any, str]] = [
        ({}, "runs"),
        ({"runs": []}, "runs"),
        ({"runs": [{"workflow_id": "a", "run_id": "r"}] * 1001}, "runs"),
        ({"runs": [{"workflow_id": "a"}]}, "runs.0.run_id"),
        ({"runs": [{"workflow_id": "a", "run_id": "r"}, "x"]}, "runs.1.workflow_id"),
        ({"runs": [{"workflow_id": "a", "run_id": "r"}], "wait": "yes"}, "wait"),
    ]
    for body, field in cases:
        answer = http.post(PATH, json=body, headers=CONTROL)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["reason"] == "validation_failed"
        assert field in answer.json()["errors"], (field, answer.json())
    unversioned = http.post(PATH, json={"runs": [{"workflow_id": "a", "run_id": "r"}]})
    assert unversioned.status_code == 400


def test_generation_2_has_no_closed_runs_route(server2: DevServerHandle) -> None:
    with httpx.Client(base_url=server2.url, timeout=10) as http:
        info = http.get("/api/cluster/info").json()
        assert "closed_runs_wait" not in str(info)
        answer = http.post(
            PATH, json={"runs": [{"workflow_id": "a", "run_id": "r"}]}, headers=CONTROL
        )
        assert answer.status_code in (404, 405)


def test_generation_1_advertises_closed_runs_wait(server: DevServerHandle) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        info = http.get("/api/cluster/info").json()
        assert "closed_runs_wait" in info["capabilities"]["extensions"]
