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
