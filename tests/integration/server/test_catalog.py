"""Every operation of the catalog has a success test over real HTTP.

Error tests: ``test_roles.py`` sends every operation without a token, with a wrong one
and with each refused role (401/403 over real HTTP); the per-feature files cover the
documented domain errors. This module adds success checks for operations not exercised
elsewhere, and fails when an operation of ``contracts/operations.json`` has no
success test at all.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from server_http_helpers import Api, check_model

from durable_workflow._generated.operations import OPERATIONS

HERE = Path(__file__).parent
_GENERIC = {"test_roles.py", "test_fuzz.py", "test_catalog.py"}


def test_every_operation_has_a_success_test() -> None:
    checked: set[str] = set()
    for path in HERE.glob("test_*.py"):
        text = path.read_text()
        if path.name == "test_catalog.py":
            checked |= set(re.findall(r'check_model\(\s*"([^"]+)"', text))
        elif path.name not in _GENERIC:
            checked |= {name for name in OPERATIONS if f'"{name}"' in text}
    assert sorted(set(OPERATIONS) - checked) == []


def _poll(api: Api) -> dict[str, Any]:
    task = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()
    return dict(task["task"])


def test_worker_plane_success_bodies(api: Api) -> None:
    run_id = api.start().json()["run_id"]
    registered = api.worker("/register", {"worker_id": "w1", "task_queue": "q",
                                          "runtime": "python"})  # fmt: skip
    check_model("worker.register", registered)
    task = _poll(api)
    owner = {"lease_owner": "w1", "workflow_task_attempt": 1}
    beat = api.worker(f"/workflow-tasks/{task['task_id']}/heartbeat", owner)
    check_model("workflow-task.heartbeat", beat)
    page = api.worker(
        f"/workflow-tasks/{task['task_id']}/history", {**owner, "next_history_page_token": "MA=="}
    )
    assert page.status_code == 200, page.text
    check_model("workflow-task.history", page)
    done = api.worker(
        f"/workflow-tasks/{task['task_id']}/complete",
        {**owner, "commands": [{"type": "schedule_activity", "activity_type": "a", "queue": "q"}]},
    )
    assert done.status_code == 200
    act = api.worker("/activity-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()["task"]
    failed = api.worker(
        f"/activity-tasks/{act['task_id']}/fail",
        {"activity_attempt_id": act["activity_attempt_id"], "lease_owner": "w1",
         "failure": {"message": "boom", "non_retryable": True}},
    )  # fmt: skip
    assert failed.status_code == 200, failed.text
    check_model("activity.fail", failed)
    resumed = _poll(api)
    wf_failed = api.worker(
        f"/workflow-tasks/{resumed['task_id']}/fail",
        {"lease_owner": "w1", "workflow_task_attempt": 1, "failure": {"message": "x"}},
    )
    check_model("workflow-task.fail", wf_failed)
    assert run_id == resumed["run_id"]


def test_run_targeted_commands_and_query_task_outcomes(api: Api) -> None:
    run_id = api.start().json()["run_id"]
    base = f"/workflows/wf-1/runs/{run_id}"
    signal = api.control("POST", f"{base}/signal/poke", json={})
    assert signal.status_code == 202
    check_model("workflow.signal_run", signal)
    update = api.control("POST", f"{base}/update/set", json={})
    assert update.status_code == 202
    check_model("workflow.update_run", update)
    query = api.control("POST", f"{base}/query/status", json={})
    assert query.status_code == 404  # no worker registered: query_not_found
    cancelled = api.control("POST", f"{base}/cancel", json={})
    check_model("workflow.cancel_run", cancelled)
    second = api.start("wf-2").json()["run_id"]
    terminated = api.control("POST", f"/workflows/wf-2/runs/{second}/terminate", json={})
    check_model("workflow.terminate_run", terminated)
    api.start("wf-3")
    check_model("workflow.terminate", api.control("POST", "/workflows/wf-3/terminate", json={}))


def test_query_run_and_query_task_fail_success(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    run_id = api.start().json()["run_id"]
    api.worker("/register", {"worker_id": "w1", "task_queue": "q", "runtime": "python"})
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(api.control, "POST", f"/workflows/wf-1/runs/{run_id}/query/a", json={})
        task = api.worker("/query-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()
        ident = {"lease_owner": "w1", "query_task_attempt": 1}
        done = api.worker(f"/query-tasks/{task['task']['query_task_id']}/complete",
                          {**ident, "result": 1})  # fmt: skip
        check_model("query-task.complete", done)
        answer = first.result(timeout=10)
        check_model("workflow.query_run", answer)
        second = pool.submit(api.control, "POST", "/workflows/wf-1/query/b", json={})
        task = api.worker("/query-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()
        failed = api.worker(f"/query-tasks/{task['task']['query_task_id']}/fail",
                            {**ident, "failure": {"message": "no"}})  # fmt: skip
        check_model("query-task.fail", failed)
        assert second.result(timeout=10).status_code == 409


def test_namespace_schedule_and_admin_success_bodies(api: Api) -> None:
    check_model("health.ready", api.http.get("/api/ready"))
    check_model("namespace.describe", api.control("GET", "/namespaces/default"))
    updated = api.control("PUT", "/namespaces/default", json={"description": "d"})
    check_model("namespace.update", updated)
    body = {"schedule_id": "s", "spec": {"intervals": [{"every": "PT1H"}]},
            "action": {"workflow_type": "t"}}  # fmt: skip
    assert api.control("POST", "/schedules", json=body).status_code == 201
    check_model("schedule.update", api.control("PUT", "/schedules/s", json={"note": "n"}))
    check_model("schedule.pause", api.control("POST", "/schedules/s/pause", json={}))
    check_model("schedule.resume", api.control("POST", "/schedules/s/resume", json={}))
    check_model("schedule.delete", api.control("DELETE", "/schedules/s"))
    api.worker("/register", {"worker_id": "w9", "task_queue": "q", "runtime": "python"})
    resumed = api.control("POST", "/task-queues/q/build-ids/resume", json={"build_id": None})
    check_model("task_queue.build_id.resume", resumed)
    check_model("worker.deregister", api.control("DELETE", "/workers/w9"))
    for name, path in (
        ("system.metrics", "/system/metrics"),
        ("system.operator_metrics", "/system/operator-metrics"),
        ("system.repair.status", "/system/repair"),
        ("system.activity_timeout.status", "/system/activity-timeouts"),
        ("system.retention.status", "/system/retention"),
    ):
        check_model(name, api.control("GET", path))
