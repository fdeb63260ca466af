"""Run and execution deadlines are enforced by the scheduler (engine-semantics.md §4.3)."""

from __future__ import annotations

import time

from server_http_helpers import Api


def _wait_closed(api: Api, workflow_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        view = api.control("GET", f"/workflows/{workflow_id}").json()
        if view["is_terminal"]:
            return dict(view)
        time.sleep(0.1)
    raise AssertionError("run did not time out")


def test_run_timeout_fails_the_run_with_workflow_timed_out(api: Api) -> None:
    run_id = api.start("wf-1", run_timeout_seconds=1).json()["run_id"]
    view = _wait_closed(api, "wf-1")
    assert view["status"] == "failed" and view["closed_reason"] == "timed_out"
    events = api.control("GET", f"/workflows/wf-1/runs/{run_id}/history").json()["events"]
    last = events[-1]
    assert last["event_type"] == "WorkflowTimedOut"
    assert last["payload"]["timeout_kind"] == "run_timeout"
    assert last["payload"]["message"] == (
        f"Workflow run deadline expired at {last['payload']['run_deadline_at']}. The run "
        "exceeded run_timeout_seconds=1; pass a larger run_timeout_seconds to start_workflow "
        "(or continue-as-new before it)."
    )
    api.register()
    poll = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    assert poll.json()["task"] is None  # its open task was cancelled


def test_execution_timeout_closes_the_run(api: Api) -> None:
    run_id = api.start("wf-2", execution_timeout_seconds=1).json()["run_id"]
    view = _wait_closed(api, "wf-2")
    assert view["closed_reason"] == "timed_out"
    events = api.control("GET", f"/workflows/wf-2/runs/{run_id}/history").json()["events"]
    payload = events[-1]["payload"]
    assert payload["message"] == (
        f"Workflow execution deadline expired at {payload['execution_deadline_at']}. The "
        "execution exceeded execution_timeout_seconds=1; pass a larger "
        "execution_timeout_seconds to start_workflow (or split the work into runs)."
    )


def test_runs_without_deadlines_stay_open(api: Api) -> None:
    api.start("wf-3")
    time.sleep(0.3)
    assert api.control("GET", "/workflows/wf-3").json()["is_terminal"] is False
