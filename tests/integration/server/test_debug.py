"""The debug diagnostic endpoints (control-plane.md §7.6)."""

from __future__ import annotations

from server_http_helpers import Api, check_model


def test_debug_reports_pending_work_and_missing_pollers(api: Api) -> None:
    run_id = api.start().json()["run_id"]
    response = api.control("GET", "/workflows/wf-1/debug?include_last_event_payload=yes")
    assert response.status_code == 200, response.text
    check_model("workflow.debug", response)
    body = response.json()
    assert body["diagnostic_status"] == "pending_work"
    assert body["control_plane"]["operation"] == "debug_workflow"
    assert [f["code"] for f in body["findings"]] == ["no_active_pollers"]
    assert len(body["pending_workflow_tasks"]) == 1
    last = body["execution"]["last_event"]
    assert last["event_type"] == "WorkflowStarted" and last["payload_preview"] is not None
    api.control("POST", "/workflows/wf-1/terminate", json={})
    closed = api.control("GET", f"/workflows/wf-1/runs/{run_id}/debug")
    assert closed.status_code == 200
    check_model("workflow.debug_run", closed)
    assert closed.json()["diagnostic_status"] == "terminal"
    assert closed.json()["execution"]["last_event"]["payload_preview"] is None


def test_debug_unknown_targets_are_404(api: Api) -> None:
    missing = api.control("GET", "/workflows/nope/debug")
    assert missing.status_code == 404 and missing.json()["reason"] == "instance_not_found"
    api.start()
    run = api.control("GET", "/workflows/wf-1/runs/nope/debug")
    assert run.status_code == 404 and run.json()["reason"] == "run_not_found"


def _findings(api: Api, workflow_id: str = "wf-1") -> list[dict[str, object]]:
    response = api.control("GET", f"/workflows/{workflow_id}/debug")
    assert response.status_code == 200, response.text
    check_model("workflow.debug", response)
    return list(response.json()["findings"])


def test_debug_names_a_workflow_type_no_polling_worker_registered(api: Api) -> None:
    api.start()  # type "greeting"
    response = api.worker(
        "/register",
        {
            "worker_id": "w1",
            "task_queue": "q",
            "runtime": "python",
            "supported_workflow_types": ["greeter", "billing"],
        },
    )
    assert response.status_code == 201, response.text
    assert _findings(api) == [
        {
            "severity": "error",
            "code": "workflow_type_not_registered",
            "message": "No worker polling task queue [q] registers workflow type [greeting] "
            "(registered there: billing, greeter).",
        }
    ]


def test_debug_reports_the_last_failed_workflow_task(api: Api) -> None:
    api.start()
    api.register()
    task = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()["task"]
    failed = api.worker(
        f"/workflow-tasks/{task['task_id']}/fail",
        {
            "lease_owner": task["lease_owner"],
            "workflow_task_attempt": task["workflow_task_attempt"],
            "failure": {"message": "workflow returned a command: did you forget `yield`?"},
        },
    )
    assert failed.status_code == 200, failed.text
    body = api.control("GET", "/workflows/wf-1/debug").json()
    assert [f for f in body["findings"] if f["code"] == "task_problem"] == [
        {
            "severity": "error",
            "code": "task_problem",
            "message": "The last workflow task failed: "
            "workflow returned a command: did you forget `yield`?",
        }
    ]
    assert body["recent_failures"][0]["source_kind"] == "workflow_task"
    assert body["recent_failures"][0]["source_id"] == task["task_id"]
