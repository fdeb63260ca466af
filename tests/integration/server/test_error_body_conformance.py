"""Every error reply of both planes is an ``ErrorBody`` (control-plane.md §1.6,
worker-protocol.md §5), and a worker-plane error also carries ``WorkerPlaneFields``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from server_http_helpers import CONTROL, WORKER, check_worker_plane

from durable_workflow._generated.models import common
from durable_workflow.testing import dev_server

OPERATOR = {"Authorization": "Bearer tok-operator"}
WORKER_AUTH = {"Authorization": "Bearer tok-worker"}
START = {"workflow_id": "wf-1", "workflow_type": "greeting", "task_queue": "q", "input": []}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with (
        dev_server(
            poll_timeout=0.2, operator_token="tok-operator", worker_token="tok-worker"
        ) as handle,
        httpx.Client(base_url=handle.url, timeout=10) as client,
    ):
        assert client.post("/api/workflows", json=START, headers={**CONTROL, **OPERATOR}).is_success
        yield client


def _control(http: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {**CONTROL, **OPERATOR, **kw.pop("headers", {})}
    return http.request(method, "/api" + path, headers=headers, **kw)


def _worker(http: httpx.Client, path: str, body: Any, **kw: Any) -> httpx.Response:
    headers = {**WORKER, **WORKER_AUTH, **kw.pop("headers", {})}
    return http.post("/api/worker" + path, json=body, headers=headers, **kw)


BIG = {"content": b'{"x": "' + b"a" * 2_100_000 + b'"}'}
CONTROL_CASES = [
    (404, "instance_not_found", "GET", "/workflows/nope", {}),
    (422, "validation_failed", "POST", "/workflows", {"json": {"workflow_id": "x"}}),
    (401, "unauthorized", "GET", "/workflows/wf-1", {"headers": {"Authorization": "Bearer no"}}),
    (403, "forbidden", "POST", "/worker/register", {"json": {}}),
    (409, "duplicate_not_allowed", "POST", "/workflows", {"json": START}),
    (413, "payload_too_large", "POST", "/workflows", BIG),
    (400, "missing_control_plane_version", "GET", "/workflows/wf-1",
     {"headers": {"X-Durable-Workflow-Control-Plane-Version": ""}}),
    (400, "unsupported_control_plane_version", "GET", "/workflows/wf-1",
     {"headers": {"X-Durable-Workflow-Control-Plane-Version": "9"}}),
    (409, "run_not_closed", "POST", "/workflows/wf-1/archive", {"json": {}}),
    (404, "not_found", "GET", "/no-such-route", {}),
]  # fmt: skip
WORKER_CASES = [
    (422, "validation_failed", "/register", {"worker_id": "w1"}, {}),
    (401, "unauthorized", "/register", {}, {"headers": {"Authorization": "Bearer no"}}),
    (403, "forbidden", "/register", {}, {"headers": OPERATOR}),
    (412, "worker_not_registered", "/workflow-tasks/poll",
     {"worker_id": "ghost", "task_queue": "q"}, {}),
    (404, "task_not_found", "/activity-tasks/nope/complete",
     {"activity_attempt_id": "a", "lease_owner": "w1", "result": None}, {}),
    (400, "missing_protocol_version", "/register", {},
     {"headers": {"X-Durable-Workflow-Protocol-Version": ""}}),
    (400, "unsupported_protocol_version", "/register", {},
     {"headers": {"X-Durable-Workflow-Protocol-Version": "0.1"}}),
]  # fmt: skip


def _error_body(response: httpx.Response, status: int, reason: str) -> common.ErrorBody:
    assert response.status_code == status, (response.status_code, response.text)
    body = common.ErrorBody.model_validate(response.json(), strict=True)
    assert body.reason == reason, body
    assert body.message or body.error, body  # the human-readable text of either plane
    return body


@pytest.mark.parametrize(("status", "reason", "method", "path", "kw"), CONTROL_CASES)
def test_control_plane_errors_are_error_bodies(
    http: httpx.Client, status: int, reason: str, method: str, path: str, kw: dict[str, Any]
) -> None:
    _error_body(_control(http, method, path, **kw), status, reason)


@pytest.mark.parametrize(("status", "reason", "path", "body", "kw"), WORKER_CASES)
def test_worker_plane_errors_are_error_bodies_with_worker_fields(
    http: httpx.Client, status: int, reason: str, path: str, body: Any, kw: dict[str, Any]
) -> None:
    response = _worker(http, path, body, **kw)
    _error_body(response, status, reason)
    check_worker_plane(response)
