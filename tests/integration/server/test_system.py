"""Admin system endpoints (control-plane.md §13) over real HTTP."""

from __future__ import annotations

import pytest
from server_http_helpers import Api, check_model


@pytest.mark.parametrize(
    ("operation", "path"),
    [
        ("system.metrics", "/system/metrics"),
        ("system.operator_metrics", "/system/operator-metrics"),
        ("system.repair.status", "/system/repair"),
        ("system.activity_timeout.status", "/system/activity-timeouts"),
        ("system.retention.status", "/system/retention"),
    ],
)
def test_status_endpoints_answer_their_models(api: Api, operation: str, path: str) -> None:
    api.start()
    response = api.control("GET", path)
    assert response.status_code == 200, response.text
    check_model(operation, response)


def test_limits_are_validated(api: Api) -> None:
    assert api.control("GET", "/system/retention", params={"limit": "0"}).status_code == 422
    bad = api.control("POST", "/system/activity-timeouts/pass", json={"limit": "x"})
    assert bad.status_code == 422
    too_many = api.control("POST", "/system/repair/pass", json={"run_ids": ["a"] * 101})
    assert too_many.status_code == 422


def test_repair_pass_creates_a_missing_task_for_a_named_run(api: Api) -> None:
    run_id = api.start().json()["run_id"]
    api.register()
    task = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()["task"]
    api.worker(
        f"/workflow-tasks/{task['task_id']}/fail",
        {"lease_owner": "w1", "workflow_task_attempt": 1, "failure": {"message": "x"}},
    )
    report = api.control("POST", "/system/repair/pass", json={"run_ids": [run_id]})
    assert report.status_code == 200, report.text
    check_model("system.repair.pass", report)
    assert report.json()["repaired_missing_tasks"] == 1


def test_retention_pass_skips_open_and_unknown_runs(api: Api) -> None:
    run_id = api.start().json()["run_id"]
    report = api.control("POST", "/system/retention/pass", json={"run_ids": [run_id, "nope"]})
    assert report.status_code == 200
    check_model("system.retention.pass", report)
    reasons = [r["reason"] for r in report.json()["results"]]
    assert reasons == ["run_not_terminal", "run_not_found"]
    timeouts = api.control("POST", "/system/activity-timeouts/pass", json={"execution_ids": ["e"]})
    check_model("system.activity_timeout.pass", timeouts)
    assert timeouts.json()["results"][0]["outcome"] == "skipped"
