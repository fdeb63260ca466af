"""Namespace isolation: nothing of namespace A is visible or changeable from B.

Namespace A holds a workflow with a pending task, a registered worker, a schedule
and a search attribute, all on a task queue whose name B uses too. From B every
read (list, describe, runs, history, debug, workers, schedules, search attributes)
and every change (signal, cancel, terminate, schedule pause/delete, attribute
delete, task completion) misses, B's worker never receives A's task, and A is
unchanged afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from server_http_helpers import CONTROL, WORKER

from durable_workflow.testing import dev_server

QUEUE = "shared-q"


class Ns:
    """Requests in one namespace."""

    def __init__(self, http: httpx.Client, name: str) -> None:
        self.http, self.name = http, name

    def control(self, method: str, path: str, json: Any = None) -> httpx.Response:
        headers = {**CONTROL, "X-Namespace": self.name}
        return self.http.request(method, "/api" + path, json=json, headers=headers)

    def worker(self, path: str, json: Any) -> httpx.Response:
        headers = {**WORKER, "X-Namespace": self.name}
        return self.http.post("/api/worker" + path, json=json, headers=headers)


@pytest.fixture(scope="module")
def spaces() -> Iterator[tuple[Ns, Ns, str]]:
    with dev_server(poll_timeout=0.2) as handle, httpx.Client(base_url=handle.url) as http:
        a, b = Ns(http, "ns-a"), Ns(http, "ns-b")
        for ns in (a, b):
            assert ns.control("POST", "/namespaces", {"name": ns.name}).status_code == 201
        reg = {"worker_id": "w-a", "task_queue": QUEUE, "runtime": "python"}
        assert a.worker("/register", reg).status_code == 201
        reg = {"worker_id": "w-b", "task_queue": QUEUE, "runtime": "python"}
        assert b.worker("/register", reg).status_code == 201
        start = {"workflow_id": "iso-wf", "workflow_type": "t", "task_queue": QUEUE}
        started = a.control("POST", "/workflows", start)
        assert started.status_code == 201
        schedule = {"schedule_id": "iso-sched", "spec": {"cron_expressions": ["0 0 1 1 *"]},
                    "action": {"workflow_type": "t", "task_queue": QUEUE}}  # fmt: skip
        assert a.control("POST", "/schedules", schedule).status_code == 201
        attribute = {"name": "IsoAttr", "type": "keyword"}
        assert a.control("POST", "/search-attributes", attribute).status_code == 201
        yield a, b, started.json()["run_id"]


def test_reads_from_b_see_nothing_of_a(spaces: tuple[Ns, Ns, str]) -> None:
    a, b, run_id = spaces
    listed = b.control("GET", "/workflows").json()
    assert all(item["workflow_id"] != "iso-wf" for item in listed["workflows"])
    run = f"/workflows/iso-wf/runs/{run_id}"
    reads = ("/workflows/iso-wf", "/workflows/iso-wf/runs", run, f"{run}/history",
             "/workflows/iso-wf/debug", "/schedules/iso-sched", "/schedules/iso-sched/history",
             "/workers/w-a")  # fmt: skip
    for path in reads:
        response = b.control("GET", path)
        assert response.status_code == 404, (path, response.text)
        assert a.control("GET", path).status_code == 200, path
    assert "iso-sched" not in b.control("GET", "/schedules").text
    assert "w-a" not in b.control("GET", "/workers").text
    assert "IsoAttr" not in b.control("GET", "/search-attributes").text
    assert "IsoAttr" in a.control("GET", "/search-attributes").text


def test_changes_from_b_miss_and_leave_a_unchanged(spaces: tuple[Ns, Ns, str]) -> None:
    a, b, run_id = spaces
    before = a.control("GET", f"/workflows/iso-wf/runs/{run_id}/history").json()
    for method, path, body in [
        ("POST", "/workflows/iso-wf/signal/go", {"input": [1]}),
        ("POST", f"/workflows/iso-wf/runs/{run_id}/signal/go", {"input": [1]}),
        ("POST", "/workflows/iso-wf/cancel", {}),
        ("POST", "/workflows/iso-wf/terminate", {}),
        ("POST", "/workflows/iso-wf/update/u", {"input": []}),
        ("POST", "/workflows/iso-wf/query/q", {"input": []}),
        ("POST", "/schedules/iso-sched/pause", {}),
        ("POST", "/schedules/iso-sched/trigger", {}),
        ("DELETE", "/schedules/iso-sched", None),
        ("DELETE", "/search-attributes/IsoAttr", None),
        ("DELETE", "/workers/w-a", None),
    ]:
        response = b.control(method, path, body)
        assert response.status_code == 404, (path, response.text)
    after = a.control("GET", f"/workflows/iso-wf/runs/{run_id}/history").json()
    assert after["events"] == before["events"]
    assert a.control("GET", "/workflows/iso-wf").json()["status"] in ("pending", "running")
    assert a.control("GET", "/schedules/iso-sched").json()["state"]["status"] == "active"
    assert "IsoAttr" in a.control("GET", "/search-attributes").text


def test_task_polls_only_see_their_own_namespace(spaces: tuple[Ns, Ns, str]) -> None:
    a, b, _ = spaces
    poll_b = b.worker("/workflow-tasks/poll", {"worker_id": "w-b", "task_queue": QUEUE})
    assert poll_b.status_code == 200 and poll_b.json()["task"] is None
    for kind in ("/activity-tasks/poll", "/query-tasks/poll"):
        empty = b.worker(kind, {"worker_id": "w-b", "task_queue": QUEUE})
        assert empty.status_code == 200 and empty.json()["task"] is None, kind
    poll_a = a.worker("/workflow-tasks/poll", {"worker_id": "w-a", "task_queue": QUEUE})
    task = poll_a.json()["task"]
    assert task is not None and task["workflow_id"] == "iso-wf"
    # B cannot touch A's leased task, even with A's lease owner.
    steal = {"lease_owner": task["lease_owner"],
             "workflow_task_attempt": task["workflow_task_attempt"],
             "commands": [{"type": "complete_workflow", "result": None}]}  # fmt: skip
    refused = b.worker(f"/workflow-tasks/{task['task_id']}/complete", steal)
    assert refused.status_code == 404, refused.text
    page = {**steal, "next_history_page_token": task.get("next_history_page_token") or "x"}
    history = b.worker(f"/workflow-tasks/{task['task_id']}/history", page)
    assert history.status_code == 404, history.text
