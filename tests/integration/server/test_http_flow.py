"""The quickstart path over real HTTP: start, poll, schedule, run activity, complete."""

from __future__ import annotations

from server_http_helpers import WORKER, Api, check_model

from durable_workflow._generated import manifest
from durable_workflow.server.engine.payload_codec import encode_avro


def test_full_workflow_over_http_records_every_event(api: Api) -> None:
    started = api.start()
    assert started.status_code == 201
    check_model("workflow.start", started)
    assert started.json()["control_plane"]["operation"] == "start"
    api.register()

    poll = api.worker(
        "/workflow-tasks/poll",
        {"worker_id": "w1", "task_queue": "q", "poll_request_id": "wf-poll-1"},
    )
    assert poll.status_code == 200
    assert poll.headers[manifest.WORKER_PROTOCOL_HEADER] == manifest.WORKER_PROTOCOL_VERSION
    check_model("workflow-task.poll", poll)
    body = poll.json()
    assert body["protocol_version"] == manifest.WORKER_PROTOCOL_VERSION
    assert body["server_capabilities"]["query_tasks"] is True
    task = body["task"]
    assert task["workflow_type"] == "greeting"
    assert task["arguments"] == {"codec": "avro", "blob": encode_avro(["Ada"])}

    done = api.worker(
        f"/workflow-tasks/{task['task_id']}/complete",
        {
            "lease_owner": "w1",
            "workflow_task_attempt": 1,
            "commands": [
                {
                    "type": "schedule_activity",
                    "activity_type": "greet",
                    "queue": "q",
                    "arguments": {"codec": "avro", "blob": encode_avro(["Ada"])},
                }
            ],
        },
    )
    assert done.status_code == 200, done.text
    check_model("workflow-task.complete", done)

    act_poll = api.worker("/activity-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    check_model("activity.poll", act_poll)
    act = act_poll.json()["task"]
    ident = {"activity_attempt_id": act["activity_attempt_id"], "lease_owner": "w1"}
    beat = api.worker(f"/activity-tasks/{act['task_id']}/heartbeat", {**ident, "message": "hi"})
    assert beat.status_code == 200 and beat.json()["can_continue"] is True
    check_model("activity.heartbeat", beat)
    result = {"codec": "avro", "blob": encode_avro("hello Ada")}
    finished = api.worker(f"/activity-tasks/{act['task_id']}/complete", {**ident, "result": result})
    assert finished.status_code == 200 and finished.json()["outcome"] == "completed"
    check_model("activity.complete", finished)

    second = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()[
        "task"
    ]
    assert second["workflow_wait_kind"] == "activity" and second["workflow_sequence"] == 3
    final = api.worker(
        f"/workflow-tasks/{second['task_id']}/complete",
        {
            "lease_owner": "w1",
            "workflow_task_attempt": 1,
            "commands": [{"type": "complete_workflow", "result": result}],
        },
    )
    assert final.json()["run_status"] == "completed"

    run_id = started.json()["run_id"]
    history = api.control("GET", f"/workflows/wf-1/runs/{run_id}/history")
    assert history.status_code == 200
    check_model("workflow.history", history)
    events = history.json()["events"]
    assert [e["event_type"] for e in events] == [
        "StartAccepted",
        "WorkflowStarted",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivityHeartbeatRecorded",
        "ActivityCompleted",
        "WorkflowCompleted",
    ]
    assert [e["sequence"] for e in events] == list(range(1, 8))
    assert {e["payload"].get("sequence") for e in events[2:6]} == {3}
    assert history.json()["control_plane"]["operation"] == "history"

    described = api.control("GET", "/workflows/wf-1")
    check_model("workflow.describe", described)
    assert described.json()["output"] == "hello Ada"
    assert described.json()["status"] == "completed"
    shown = api.control("GET", f"/workflows/wf-1/runs/{run_id}")
    check_model("workflow.show_run", shown)
    assert shown.json()["control_plane"]["operation"] == "describe_run"
    runs = api.control("GET", "/workflows/wf-1/runs")
    check_model("workflow.list_runs", runs)
    assert runs.json()["run_count"] == 1


def test_history_pages_and_wait_new_event(api: Api) -> None:
    run_id = api.start().json()["run_id"]
    first = api.control("GET", f"/workflows/wf-1/runs/{run_id}/history", params={"page_size": 1})
    token = first.json()["next_page_token"]
    assert token == "MQ=="
    second = api.control(
        "GET",
        f"/workflows/wf-1/runs/{run_id}/history",
        params={"page_size": 1, "next_page_token": token},
    )
    assert [e["sequence"] for e in second.json()["events"]] == [2]
    waited = api.control(
        "GET",
        f"/workflows/wf-1/runs/{run_id}/history",
        params={"next_page_token": "Mg==", "wait_new_event": "1"},
    )
    assert waited.status_code == 200 and waited.json()["events"] == []
    bad = api.control(
        "GET", f"/workflows/wf-1/runs/{run_id}/history", params={"wait_new_event": "true"}
    )
    assert bad.status_code == 422 and "wait_new_event" in bad.json()["errors"]


def test_duplicate_start_over_http(api: Api) -> None:
    assert api.start().status_code == 201
    dup = api.start()
    assert dup.status_code == 409
    assert dup.json()["reason"] == "duplicate_not_allowed"
    assert dup.json()["outcome"] == "rejected_duplicate"
    same = api.start(duplicate_policy="use-existing")
    assert same.status_code == 200 and same.json()["outcome"] == "returned_existing_active"


def test_cluster_info_is_compatible_and_honest(api: Api) -> None:
    response = api.http.get("/api/cluster/info")
    assert response.status_code == 200
    assert manifest.CONTROL_PLANE_HEADER not in response.headers
    check_model("cluster.info", response)
    info = response.json()
    documented = [
        "server_id", "version", "default_namespace", "supported_sdk_versions", "capabilities",
        "worker_fleet", "task_repair", "limits", "structural_limits", "client_compatibility",
        "auth_composition_contract", "control_plane", "worker_protocol",
        "bridge_adapter_outcome_contract",
    ]  # fmt: skip
    assert list(info)[: len(documented)] == documented
    assert info["history_export"] == manifest.MANIFEST["history_export"]
    assert info["control_plane"]["version"] == manifest.CONTROL_PLANE_VERSION
    assert info["control_plane"]["request_contract"]["schema"] == (
        manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA
    )
    assert info["worker_protocol"]["version"] == "1.1"
    assert info["worker_protocol"]["server_capabilities"]["query_tasks"] is True
    assert info["auth_composition_contract"] == manifest.AUTH_COMPOSITION_CONTRACT
    assert info["capabilities"]["queries"] is True and info["capabilities"]["signals"] is True
    commands = info["worker_protocol"]["server_capabilities"]["supported_workflow_task_commands"]
    assert commands == [
        "complete_workflow", "fail_workflow", "continue_as_new", "schedule_activity",
        "start_timer", "start_child_workflow", "complete_update", "fail_update",
        "record_side_effect", "record_version_marker", "upsert_search_attributes",
    ]  # fmt: skip


def test_health_ready_and_namespaces(api: Api) -> None:
    health = api.http.get("/api/health")
    assert health.json()["checks"] == {"database": "ok"}
    check_model("health.check", health)
    ready = api.http.get("/api/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    namespaces = api.control("GET", "/namespaces")
    check_model("namespace.list", namespaces)
    assert [n["name"] for n in namespaces.json()["namespaces"]] == ["default"]
    one = api.control("GET", "/namespaces/DEFAULT")
    assert one.status_code == 200 and one.json()["name"] == "default"
    missing = api.control("GET", "/namespaces/nope")
    assert missing.status_code == 404 and missing.json()["reason"] == "namespace_not_found"


def test_poll_request_id_returns_the_same_task(api: Api) -> None:
    api.start()
    api.register()
    body = {"worker_id": "w1", "task_queue": "q", "poll_request_id": "wf-poll-x"}
    first = api.worker("/workflow-tasks/poll", body).json()["task"]
    again = api.worker("/workflow-tasks/poll", body).json()["task"]
    assert again["task_id"] == first["task_id"]
    assert again["workflow_task_attempt"] == 1
    fresh = api.worker("/workflow-tasks/poll", {**body, "poll_request_id": "wf-poll-y"})
    assert fresh.json()["task"] is None


def test_worker_heartbeat_endpoint(api: Api) -> None:
    api.register()
    beat = api.worker("/heartbeat", {"worker_id": "w1"})
    assert beat.status_code == 200 and beat.json()["acknowledged"] is True
    check_model("worker.heartbeat", beat)
    missing = api.worker("/heartbeat", {"worker_id": "ghost"}, headers=WORKER)
    assert missing.status_code == 404 and missing.json()["reason"] == "worker_not_registered"


def test_list_workflows_filters_and_pages(api: Api) -> None:
    for name in ("order-1", "order-2", "invoice-1"):
        assert api.start(name).status_code == 201
    listed = api.control("GET", "/workflows", params={"page_size": 2})
    assert listed.status_code == 200
    check_model("workflow.list", listed)
    body = listed.json()
    assert body["workflow_count"] == 2 and body["next_page_token"] == "Mg=="
    assert [w["workflow_id"] for w in body["workflows"]] == ["invoice-1", "order-2"]
    rest = api.control("GET", "/workflows", params={"page_size": 2, "next_page_token": "Mg=="})
    assert [w["workflow_id"] for w in rest.json()["workflows"]] == ["order-1"]
    assert rest.json()["next_page_token"] is None
    found = api.control("GET", "/workflows", params={"query": "order", "status": "running"})
    assert {w["workflow_id"] for w in found.json()["workflows"]} == {"order-1", "order-2"}
    assert found.json()["workflows"][0]["status_bucket"] == "running"
    assert (
        api.control("GET", "/workflows", params={"status": "completed"}).json()["workflows"] == []
    )
    raw = api.control("GET", "/workflows", params={"status": "waiting"})
    assert raw.status_code == 422 and "status" in raw.json()["errors"]
    assert raw.json()["control_plane"]["operation"] == "list"


def test_namespaces_can_be_created_updated_and_isolate_workflows(api: Api) -> None:
    created = api.control("POST", "/namespaces", json={"name": "Billing", "retention_days": 7})
    assert created.status_code == 201
    check_model("namespace.create", created)
    assert created.json()["name"] == "billing"
    assert created.json()["updated_at"] == created.json()["created_at"]
    again = api.control("POST", "/namespaces", json={"name": "billing"})
    assert again.status_code == 409 and again.json()["reason"] == "namespace_already_exists"
    bad = api.control("POST", "/namespaces", json={"name": "no spaces"})
    assert bad.status_code == 422 and "name" in bad.json()["errors"]
    updated = api.control("PUT", "/namespaces/billing", json={"description": "money"})
    assert updated.status_code == 200 and updated.json()["retention_days"] == 7
    assert updated.json()["description"] == "money"
    assert updated.json()["created_at"] == created.json()["created_at"]
    assert api.start().status_code == 201
    other = api.control("GET", "/workflows/wf-1", headers={"X-Namespace": "billing"})
    assert other.status_code == 404 and other.json()["reason"] == "instance_not_found"
    clash = api.control(
        "POST",
        "/workflows",
        json={"workflow_id": "wf-1", "workflow_type": "greeting"},
        headers={"X-Namespace": "billing"},
    )
    assert (
        clash.status_code == 409 and clash.json()["reason"] == "workflow_id_reserved_in_namespace"
    )


def test_cancel_and_terminate_over_http(api: Api) -> None:
    run_id = api.start().json()["run_id"]
    cancelled = api.control("POST", "/workflows/wf-1/cancel", json={"reason": "stop"})
    assert cancelled.status_code == 200, cancelled.text
    check_model("workflow.cancel", cancelled)
    assert cancelled.json()["outcome"] == "cancelled"
    assert cancelled.json()["control_plane"]["operation"] == "cancel"
    again = api.control("POST", f"/workflows/wf-1/runs/{run_id}/terminate")
    assert again.status_code == 409 and again.json()["rejection_reason"] == "run_not_active"
    api.start("wf-2")
    other = api.control("POST", "/workflows/wf-2/runs/not-current/cancel", json={})
    assert other.status_code == 409
    assert other.json()["reason"] == "historical_run_command_rejected"
    terminated = api.control("POST", "/workflows/wf-2/terminate", json={})
    assert terminated.status_code == 200 and terminated.json()["outcome"] == "terminated"


def test_signal_over_http(api: Api) -> None:
    api.start()
    signalled = api.control("POST", "/workflows/wf-1/signal/approve", json={"input": [1]})
    assert signalled.status_code == 202, signalled.text
    check_model("workflow.signal", signalled)
    assert signalled.json()["control_plane"]["operation_name"] == "approve"
    assert signalled.json()["control_plane"]["operation_name_field"] == "signal_name"
    missing = api.control("POST", "/workflows/ghost/signal/approve", json={})
    assert missing.status_code == 404 and missing.json()["reason"] == "instance_not_found"
