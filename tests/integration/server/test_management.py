"""Operator endpoints: workers, search attributes, task queues and build ids (§10-§12)."""

from __future__ import annotations

from server_http_helpers import Api, check_model


def _register(api: Api, worker_id: str, build_id: str | None = None) -> None:
    body = {"worker_id": worker_id, "task_queue": "q", "runtime": "python",
            "sdk_version": "durable-workflow-python/test", "build_id": build_id}  # fmt: skip
    assert api.worker("/register", body).status_code == 201


def test_workers_list_describe_deregister(api: Api) -> None:
    _register(api, "w1")
    _register(api, "w2", "b1")
    listed = api.control("GET", "/workers")
    assert listed.status_code == 200
    check_model("worker.list", listed)
    assert {w["worker_id"] for w in listed.json()["workers"]} == {"w1", "w2"}
    assert all(w["status"] == "active" for w in listed.json()["workers"])
    filtered = api.control("GET", "/workers", params={"task_queue": "other"})
    assert filtered.json()["workers"] == []
    bad = api.control("GET", "/workers", params={"status": "stale"})
    assert bad.status_code == 422
    described = api.control("GET", "/workers/w2")
    check_model("worker.describe", described)
    assert described.json()["build_id"] == "b1" and described.json()["updated_at"]
    assert api.control("GET", "/workers/nope").json()["reason"] == "worker_not_found"
    gone = api.control("DELETE", "/workers/w1")
    assert gone.status_code == 200
    assert (gone.json()["worker_id"], gone.json()["outcome"]) == ("w1", "deregistered")
    assert api.control("DELETE", "/workers/w1").status_code == 404


def test_search_attribute_definitions(api: Api) -> None:
    empty = api.control("GET", "/search-attributes")
    check_model("search_attribute.list", empty)
    assert empty.json()["custom_attributes"] == []
    assert empty.json()["system_attributes"]["WorkflowId"] == "keyword"
    created = api.control(
        "POST", "/search-attributes", json={"name": "Customer", "type": "keyword"}
    )
    assert created.status_code == 201 and created.json()["outcome"] == "created"
    check_model("search_attribute.create", created)
    again = api.control("POST", "/search-attributes", json={"name": "Customer", "type": "int"})
    assert again.status_code == 409 and again.json()["reason"] == "attribute_already_exists"
    assert again.json()["type"] == "keyword"
    reserved = api.control("POST", "/search-attributes", json={"name": "RunId", "type": "keyword"})
    assert reserved.status_code == 409 and reserved.json()["reason"] == "name_reserved"
    invalid = api.control("POST", "/search-attributes", json={"name": "9x", "type": "blob"})
    assert invalid.status_code == 422
    assert api.control("GET", "/search-attributes").json()["custom_attributes"] == {
        "Customer": "keyword"
    }
    deleted = api.control("DELETE", "/search-attributes/Customer")
    assert deleted.status_code == 200 and deleted.json()["outcome"] == "deleted"
    check_model("search_attribute.delete", deleted)
    missing = api.control("DELETE", "/search-attributes/Customer")
    assert missing.status_code == 404 and missing.json()["reason"] == "attribute_not_found"
    system = api.control("DELETE", "/search-attributes/WorkflowId")
    assert system.status_code == 409 and system.json()["reason"] == "system_attribute"


def test_task_queue_views_and_admission(api: Api) -> None:
    api.start()
    _register(api, "w1")
    listed = api.control("GET", "/task-queues")
    assert listed.status_code == 200
    check_model("task_queue.list", listed)
    (queue,) = listed.json()["task_queues"]
    assert queue["name"] == "q" and queue["stats"]["approximate_backlog_count"] == 1
    assert queue["admission"]["workflow_tasks"]["status"] == "accepting"
    assert queue["admission"]["query_tasks"]["max_pending_per_queue"] == 1024
    api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    described = api.control("GET", "/task-queues/q")
    check_model("task_queue.describe", described)
    body = described.json()
    assert [p["worker_id"] for p in body["pollers"]] == ["w1"]
    (lease,) = body["current_leases"]
    assert lease["task_type"] == "workflow" and lease["workflow_task_attempt"] == 1
    unknown = api.control("GET", "/task-queues/nothing-here").json()
    assert unknown["stats"]["approximate_backlog_count"] == 0
    assert unknown["admission"]["workflow_tasks"]["status"] == "no_active_workers"


def test_build_id_drain_and_resume(api: Api) -> None:
    _register(api, "w1", "b1")
    _register(api, "w2")
    missing = api.control("POST", "/task-queues/q/build-ids/drain", json={})
    assert missing.status_code == 422
    drained = api.control("POST", "/task-queues/q/build-ids/drain", json={"build_id": "b1"})
    assert drained.status_code == 200, drained.text
    check_model("task_queue.build_id.drain", drained)
    assert drained.json()["drain_intent"] == "draining" and drained.json()["drained_at"]
    assert api.control("GET", "/workers/w1").json()["status"] == "draining"
    _register(api, "w1", "b1")  # re-registering keeps the cohort draining
    assert api.control("GET", "/workers/w1").json()["status"] == "draining"
    cohorts = api.control("GET", "/task-queues/q/build-ids")
    check_model("task_queue.build_ids", cohorts)
    statuses = {c["build_id"]: c["rollout_status"] for c in cohorts.json()["build_ids"]}
    assert statuses == {None: "active", "b1": "draining"}
    resumed = api.control("POST", "/task-queues/q/build-ids/resume", json={"build_id": "b1"})
    assert resumed.json()["drain_intent"] == "active" and resumed.json()["drained_at"] is None
    assert api.control("GET", "/workers/w1").json()["status"] == "active"


def test_deregistering_a_worker_releases_its_leased_workflow_tasks(api: Api) -> None:
    api.start()
    api.register("w1")
    held = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()
    assert held["task"] is not None
    assert api.control("DELETE", "/workers/w1").status_code == 200
    api.register("w2")
    # Ready again at once: no 300 s wait for w1's lease to expire.
    taken = api.worker(
        "/workflow-tasks/poll", {"worker_id": "w2", "task_queue": "q"}, timeout=10
    ).json()
    assert taken["task"] is not None
    assert taken["task"]["task_id"] == held["task"]["task_id"]
    assert taken["task"]["lease_owner"] == "w2"
