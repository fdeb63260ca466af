"""Repair and archive over real HTTP (control-plane.md §7.12, §7.13)."""

from __future__ import annotations

from server_http_helpers import Api, check_model


def test_repair_not_needed_while_a_task_is_ready_then_dispatched(api: Api) -> None:
    run_id = api.start().json()["run_id"]
    ready = api.control("POST", "/workflows/wf-1/repair", json={})
    assert ready.status_code == 200, ready.text
    check_model("workflow.repair", ready)
    assert ready.json()["outcome"] == "repair_not_needed"
    assert ready.json()["control_plane"]["operation"] == "repair"
    api.register()
    task = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()["task"]
    api.worker(
        f"/workflow-tasks/{task['task_id']}/fail",
        {"lease_owner": "w1", "workflow_task_attempt": 1, "failure": {"message": "boom"}},
    )
    stuck = api.control("POST", "/workflows/wf-1/repair", json={"request_id": "r-1"})
    assert stuck.json()["outcome"] == "repair_dispatched"
    again = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    assert again.json()["task"]["run_id"] == run_id
    history = api.control("GET", f"/workflows/wf-1/runs/{run_id}/history").json()["events"]
    assert history[-1]["event_type"] == "RepairRequested"


def test_repair_errors(api: Api) -> None:
    missing = api.control("POST", "/workflows/nope/repair", json={})
    assert missing.status_code == 404 and missing.json()["reason"] == "instance_not_found"
    api.start()
    invalid = api.control("POST", "/workflows/wf-1/repair", json={"request_id": 5})
    assert invalid.status_code == 422
    api.control("POST", "/workflows/wf-1/terminate", json={})
    closed = api.control("POST", "/workflows/wf-1/repair", json={})
    assert closed.status_code == 409 and closed.json()["reason"] == "run_not_active"


def test_archive_only_closed_runs_once(api: Api) -> None:
    api.start()
    open_run = api.control("POST", "/workflows/wf-1/archive", json={})
    assert open_run.status_code == 409 and open_run.json()["reason"] == "run_not_closed"
    api.control("POST", "/workflows/wf-1/terminate", json={})
    first = api.control("POST", "/workflows/wf-1/archive", json={"reason": "tidy"})
    assert first.status_code == 200, first.text
    check_model("workflow.archive", first)
    assert first.json()["outcome"] == "archived" and first.json()["reason"] == "tidy"
    second = api.control("POST", "/workflows/wf-1/archive", json={})
    assert second.json()["outcome"] == "archive_not_needed"
    missing = api.control("POST", "/workflows/nope/archive", json={})
    assert missing.status_code == 404
    too_long = api.control("POST", "/workflows/wf-1/archive", json={"reason": "x" * 1001})
    assert too_long.status_code == 422


def _events(api: Api, run_id: str) -> list[dict[str, object]]:
    events: list[dict[str, object]] = api.control(
        "GET", f"/workflows/wf-1/runs/{run_id}/history"
    ).json()["events"]
    return events


def test_every_repair_records_repair_requested(api: Api) -> None:
    """history-events.md §3.1: recorded even when nothing needed repair."""
    run_id = api.start().json()["run_id"]
    reply = api.control("POST", "/workflows/wf-1/repair", json={}).json()
    last = _events(api, run_id)[-1]
    assert last["event_type"] == "RepairRequested"
    assert last["payload"] == {
        "workflow_command_id": reply["command_id"], "workflow_instance_id": "wf-1",
        "workflow_run_id": run_id, "command_type": "repair", "outcome": "repair_not_needed",
        "liveness_state": "workflow_task_ready", "wait_kind": None, "task_id": None,
        "task_type": None,
    }  # fmt: skip


def test_archive_records_archive_requested_then_workflow_archived(api: Api) -> None:
    run_id = api.start().json()["run_id"]
    api.control("POST", "/workflows/wf-1/terminate", json={})
    first = api.control("POST", "/workflows/wf-1/archive", json={"reason": "tidy"}).json()
    api.control("POST", "/workflows/wf-1/archive", json={})
    events = _events(api, run_id)
    assert [e["event_type"] for e in events[-3:]] == [
        "ArchiveRequested", "WorkflowArchived", "ArchiveRequested",
    ]  # fmt: skip
    ids = {"workflow_command_id": first["command_id"], "workflow_instance_id": "wf-1",
           "workflow_run_id": run_id}  # fmt: skip
    assert events[-3]["payload"] == {
        **ids, "command_type": "archive", "outcome": "archived", "reason": "tidy",
    }  # fmt: skip
    assert events[-2]["payload"] == {
        **ids,
        "archive_command_id": first["command_id"],
        "reason": "tidy",
    }
    assert events[-1]["payload"]["outcome"] == "archive_not_needed"  # type: ignore[index]
    assert "reason" not in events[-1]["payload"]  # type: ignore[operator]
