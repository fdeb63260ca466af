"""Queries routed to workers as query tasks, over real HTTP (control-plane §7.9, worker §10)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_http_helpers import CONTROL, WORKER, Api, check_model

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.payload_codec import encode_avro
from durable_workflow.server.http.app import DevServer


@pytest.fixture
def pool() -> Any:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def _ask(api: Api, pool: ThreadPoolExecutor, name: str = "status", **body: Any) -> Future[Any]:
    return pool.submit(api.control, "POST", f"/workflows/wf-1/query/{name}", json=body)


def _poll(api: Api) -> dict[str, Any]:
    response = api.worker("/query-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    assert response.status_code == 200, response.text
    check_model("query-task.poll", response)
    task = response.json()["task"]
    assert task is not None
    return dict(task)


def test_query_without_a_worker_is_query_not_found(api: Api) -> None:
    api.start()
    response = api.control("POST", "/workflows/wf-1/query/status", json={})
    assert response.status_code == 404
    assert response.json()["reason"] == "query_not_found"
    assert response.json()["result"] is None


def test_query_is_answered_by_the_polling_worker(api: Api, pool: ThreadPoolExecutor) -> None:
    run_id = api.start().json()["run_id"]
    api.register()
    asked = _ask(api, pool, input=["x"])
    task = _poll(api)
    assert task["query_name"] == "status" and task["run_id"] == run_id
    assert task["query_task_attempt"] == 1 and task["lease_owner"] == "w1"
    assert task["query_arguments"] == {"codec": "avro", "blob": encode_avro(["x"])}
    assert task["workflow_arguments"] == {"codec": "avro", "blob": encode_avro(["Ada"])}
    assert [e["event_type"] for e in task["history_events"]] == ["StartAccepted", "WorkflowStarted"]
    envelope = {"codec": "avro", "blob": encode_avro({"ok": True})}
    done = api.worker(
        f"/query-tasks/{task['query_task_id']}/complete",
        {"lease_owner": "w1", "query_task_attempt": 1, "result": {"ok": True},
         "result_envelope": envelope},
    )  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["outcome"] == "completed" and done.json()["status"] == 200
    answer = asked.result(timeout=10)
    assert answer.status_code == 200, answer.text
    check_model("workflow.query", answer)
    body = answer.json()
    assert body["result"] == {"ok": True} and body["result_envelope"] == envelope
    assert body["query_name"] == "status" and body["target_scope"] == "instance"
    assert body["control_plane"]["operation"] == "query"
    again = api.worker(
        f"/query-tasks/{task['query_task_id']}/complete",
        {"lease_owner": "w1", "query_task_attempt": 1},
    )
    assert again.status_code == 409 and again.json()["reason"] == "query_task_not_leased"


@pytest.mark.parametrize(
    ("reason", "status"), [("rejected_unknown_query", 404), ("query_rejected", 409)]
)
def test_failed_query_maps_the_worker_reason(
    api: Api, pool: ThreadPoolExecutor, reason: str, status: int
) -> None:
    api.start()
    api.register()
    asked = _ask(api, pool)
    task = _poll(api)
    failed = api.worker(
        f"/query-tasks/{task['query_task_id']}/fail",
        {"lease_owner": "w1", "query_task_attempt": 1,
         "failure": {"message": "nope", "reason": reason}},
    )  # fmt: skip
    assert failed.status_code == 200
    assert failed.json()["outcome"] == "failed" and failed.json()["reason"] == reason
    answer = asked.result(timeout=10)
    assert answer.status_code == status
    assert answer.json()["reason"] == reason and answer.json()["message"] == "nope"


def test_query_task_ownership_errors(api: Api, pool: ThreadPoolExecutor) -> None:
    api.start()
    api.register()
    asked = _ask(api, pool)
    task = _poll(api)
    path = f"/query-tasks/{task['query_task_id']}/complete"
    wrong_owner = api.worker(path, {"lease_owner": "w2", "query_task_attempt": 1})
    assert wrong_owner.status_code == 409
    assert wrong_owner.json()["reason"] == "lease_owner_mismatch"
    stale = api.worker(path, {"lease_owner": "w1", "query_task_attempt": 2})
    assert stale.status_code == 409
    assert stale.json()["reason"] == "query_task_attempt_mismatch"
    assert stale.json()["current_attempt"] == 1
    missing = api.worker(
        "/query-tasks/NOPE/complete", {"lease_owner": "w1", "query_task_attempt": 1}
    )
    assert missing.status_code == 404 and missing.json()["reason"] == "query_task_not_found"
    invalid = api.worker(path, {"lease_owner": "w1"})
    assert invalid.status_code == 422 and invalid.json()["reason"] == "validation_failed"
    bad_envelope = api.worker(
        path,
        {"lease_owner": "w1", "query_task_attempt": 1,
         "result_envelope": {"codec": "avro", "external_storage": {}}},
    )  # fmt: skip
    assert bad_envelope.status_code == 422
    api.worker(path, {"lease_owner": "w1", "query_task_attempt": 1, "result": 1})
    assert asked.result(timeout=10).json()["result"] == 1


def test_query_poll_errors(api: Api) -> None:
    unregistered = api.worker("/query-tasks/poll", {"worker_id": "ghost", "task_queue": "q"})
    assert unregistered.status_code == 412
    assert unregistered.json()["reason"] == "worker_not_registered"
    api.register()
    mismatch = api.worker("/query-tasks/poll", {"worker_id": "w1", "task_queue": "other"})
    assert mismatch.status_code == 409 and mismatch.json()["reason"] == "task_queue_mismatch"
    empty = api.worker("/query-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    assert empty.status_code == 200 and empty.json()["task"] is None


def test_query_validation_and_targeting(api: Api) -> None:
    api.start()
    bad_name = api.control("POST", "/workflows/wf-1/query/a%01b", json={})
    assert bad_name.status_code == 422
    assert "query_name" in bad_name.json()["errors"]
    unknown = api.control("POST", "/workflows/nope/query/status", json={})
    assert unknown.status_code == 404 and unknown.json()["reason"] == "instance_not_found"
    historical = api.control("POST", "/workflows/wf-1/runs/old/query/status", json={})
    assert historical.status_code == 409
    assert historical.json()["reason"] == "historical_run_command_rejected"


async def test_unanswered_query_times_out_with_504(tmp_path: Path) -> None:
    config = ServerConfig(db_path=tmp_path / "q.sqlite", poll_timeout=0.2, query_timeout=0.3)
    dev = DevServer(config)
    transport = httpx.ASGITransport(app=dev.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dev") as http:
        start = {"workflow_id": "wf-1", "workflow_type": "greeting", "task_queue": "q"}
        assert (await http.post("/api/workflows", json=start, headers=CONTROL)).status_code == 201
        register = {"worker_id": "w1", "task_queue": "q", "runtime": "python"}
        assert (await http.post("/api/worker/register", json=register, headers=WORKER)).is_success
        answer = await http.post("/api/workflows/wf-1/query/status", json={}, headers=CONTROL)
        assert answer.status_code == 504
        assert answer.json()["reason"] == "query_worker_timeout"
        poll = {"worker_id": "w1", "task_queue": "q"}
        late = await http.post("/api/worker/query-tasks/poll", json=poll, headers=WORKER)
        assert late.json()["task"] is None  # a timed-out query task is never offered
    dev.store.close()
