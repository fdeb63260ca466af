"""Bad input gets the protocol's error contract, in the documented check order."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from server_http_helpers import CONTROL, WORKER, Api

from durable_workflow._generated import manifest
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.app import DevServer
from durable_workflow.testing import dev_server


def test_malformed_json_is_400_on_both_planes(api: Api) -> None:
    for path, headers in (("/api/workflows", CONTROL), ("/api/worker/register", WORKER)):
        response = api.http.post(
            path, content=b"{nope", headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["reason"] == "malformed_json" and "json_error" in response.json()


def test_non_finite_numbers_are_malformed_json(api: Api) -> None:
    response = api.http.post(
        "/api/workflows",
        content=b'{"workflow_type": "t", "run_timeout_seconds": NaN}',
        headers={**CONTROL, "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["reason"] == "malformed_json"


def test_wrong_content_type_is_415(api: Api) -> None:
    response = api.http.post(
        "/api/workflows", content=b"{}", headers={**CONTROL, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json()["reason"] == "unsupported_media_type"
    assert response.json()["accepted_content_types"] == ["application/json", "application/*+json"]
    vendor = api.http.post(
        "/api/workflows",
        content=b'{"workflow_type": "t"}',
        headers={**CONTROL, "Content-Type": "application/vnd.x+json"},
    )
    assert vendor.status_code == 201


def test_body_too_large_is_413_before_auth(tmp_path: object) -> None:
    with (
        dev_server(token="s3cret", poll_timeout=1.0) as handle,
        httpx.Client(base_url=handle.url) as http,
    ):
        big = b'{"x": "' + b"a" * 2_100_000 + b'"}'
        response = http.post(
            "/api/worker/register", content=big, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413
        assert response.json()["reason"] == "payload_too_large"
        assert response.json()["limit"] == 2_097_152
        assert response.json()["protocol_version"] == manifest.WORKER_PROTOCOL_VERSION


def test_token_auth_runs_before_version_checks() -> None:
    with (
        dev_server(token="s3cret", poll_timeout=1.0) as handle,
        httpx.Client(base_url=handle.url) as http,
    ):
        denied = http.get("/api/workflows/x")
        assert denied.status_code == 401 and denied.json()["reason"] == "unauthorized"
        assert denied.headers[manifest.CONTROL_PLANE_HEADER] == manifest.CONTROL_PLANE_VERSION
        wrong = http.get("/api/cluster/info", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        assert http.get("/api/cluster/info", headers=auth).status_code == 200
        assert http.get("/api/health").status_code == 200
        worker = http.post("/api/worker/register", json={}, headers=auth)
        assert worker.status_code == 400 and worker.json()["reason"] == "missing_protocol_version"


def test_control_plane_version_header(api: Api) -> None:
    missing = api.http.get("/api/workflows/x", headers={"X-Namespace": "nope"})
    assert missing.status_code == 400
    body = missing.json()
    assert body["reason"] == "missing_control_plane_version"
    assert body["supported_version"] == "2" and body["requested_version"] is None
    assert "remediation" in body
    wrong = api.http.get("/api/workflows/x", headers={manifest.CONTROL_PLANE_HEADER: "1"})
    assert wrong.json()["reason"] == "unsupported_control_plane_version"
    assert wrong.json()["requested_version"] == "1"


def test_worker_protocol_version_header(api: Api) -> None:
    body = {"worker_id": "w", "task_queue": "q", "runtime": "python"}
    missing = api.http.post("/api/worker/register", json=body)
    assert missing.status_code == 400
    assert missing.json()["reason"] == "missing_protocol_version"
    assert missing.json()["supported_version"] == "1.1"
    assert "server_capabilities" in missing.json()
    wrong = api.http.post(
        "/api/worker/register", json=body, headers={manifest.WORKER_PROTOCOL_HEADER: "2.0"}
    )
    assert wrong.json()["reason"] == "unsupported_protocol_version"
    assert wrong.json()["requested_version"] == "2.0"
    legacy = api.http.post(
        "/api/worker/register", json=body, headers={manifest.WORKER_PROTOCOL_HEADER: "1.0"}
    )
    assert legacy.status_code == 201


def test_unknown_namespace_is_404_after_version_check(api: Api) -> None:
    response = api.control("GET", "/workflows/x", headers={"X-Namespace": "Missing"})
    assert response.status_code == 404
    assert response.json()["reason"] == "namespace_not_found"
    assert response.json()["namespace"] == "missing"
    worker = api.worker(
        "/register", {"task_queue": "q", "runtime": "python"}, headers={"X-Namespace": "nope"}
    )
    assert worker.status_code == 404 and worker.json()["reason"] == "namespace_not_found"


def test_missing_required_fields_give_422_with_dot_paths(api: Api) -> None:
    start = api.control("POST", "/workflows", json={"task_queue": "q"})
    assert start.status_code == 422
    body = start.json()
    assert body["reason"] == "validation_failed"
    assert body["errors"] == body["validation_errors"]
    assert body["errors"]["workflow_type"] == ["The workflow type field is required."]
    assert body["message"] == "The workflow type field is required."
    assert body["control_plane"]["validation_errors"] == body["errors"]
    complete = api.worker(
        "/workflow-tasks/t1/complete",
        {
            "lease_owner": "w",
            "workflow_task_attempt": 1,
            "commands": [{"type": "start_timer", "delay_seconds": "soon"}],
        },
    )
    assert complete.status_code == 422
    assert list(complete.json()["errors"]) == ["commands.0.delay_seconds"]
    policy = api.start(duplicate_policy="reject")
    assert policy.json()["errors"]["duplicate_policy"] == [
        "The duplicate_policy field only supports fail or use-existing."
    ]


def test_unknown_workflow_and_run(api: Api) -> None:
    response = api.control("GET", "/workflows/ghost")
    assert response.status_code == 404
    assert response.json()["reason"] == "instance_not_found"
    assert response.json()["control_plane"]["operation"] == "describe"
    run = api.control("GET", "/workflows/ghost/runs/r1")
    assert run.status_code == 404 and run.json()["reason"] == "run_not_found"


def test_unknown_route_and_method(api: Api) -> None:
    assert api.control("GET", "/nowhere").json()["reason"] == "not_found"
    newline = api.control("POST", "/worker/activity-tasks/%0A/complete", json={})
    assert newline.status_code == 404 and newline.json()["reason"] == "not_found"
    wrong = api.control("DELETE", "/workflows")
    assert wrong.status_code == 405 and wrong.json()["reason"] == "method_not_allowed"


async def test_an_operation_without_a_handler_answers_501(tmp_path: Path) -> None:
    dev = DevServer(ServerConfig(db_path=tmp_path / "x.sqlite"))
    del dev.handlers["storage.test"]
    transport = httpx.ASGITransport(app=dev.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dev") as http:
        response = await http.post("/api/storage/test", json={}, headers=CONTROL)
    dev.store.close()
    assert response.status_code == 501 and response.json()["reason"] == "not_implemented"


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"lease_owner": "w1", "workflow_task_attempt": 1}, 404, "task_not_found"),
    ],
)
def test_workflow_task_ownership_over_http(
    api: Api, body: dict[str, object], status: int, reason: str
) -> None:
    response = api.worker("/workflow-tasks/unknown/heartbeat", body)
    assert response.status_code == status and response.json()["reason"] == reason
    api.start()
    api.register()
    task = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()["task"]
    other = api.worker(
        f"/workflow-tasks/{task['task_id']}/heartbeat",
        {"lease_owner": "w2", "workflow_task_attempt": 1},
    )
    assert other.status_code == 409 and other.json()["reason"] == "lease_owner_mismatch"
    attempt = api.worker(
        f"/workflow-tasks/{task['task_id']}/heartbeat",
        {"lease_owner": "w1", "workflow_task_attempt": 3},
    )
    assert attempt.json()["reason"] == "workflow_task_attempt_mismatch"
    assert attempt.json()["current_attempt"] == 1


def test_poll_prechecks_over_http(api: Api) -> None:
    ghost = api.worker("/workflow-tasks/poll", {"worker_id": "ghost", "task_queue": "q"})
    assert ghost.status_code == 412 and ghost.json()["reason"] == "worker_not_registered"
    api.register()
    mismatch = api.worker("/activity-tasks/poll", {"worker_id": "w1", "task_queue": "other"})
    assert mismatch.status_code == 409 and mismatch.json()["reason"] == "task_queue_mismatch"


def test_every_method_gets_a_json_answer(api: Api) -> None:
    options = api.http.options("/api/workflows")
    assert options.status_code == 405 and options.json()["reason"] == "method_not_allowed"
    assert api.http.head("/api/health").status_code == 200
    outside = api.http.get("/nowhere")
    assert outside.status_code == 404 and outside.json()["reason"] == "not_found"
    assert api.http.get("/").headers["location"] == "/ui/"  # the root is the web UI's
