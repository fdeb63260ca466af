"""HTTP helpers for the dev-server integration tests."""

from __future__ import annotations

from typing import Any

import httpx

from durable_workflow._generated import manifest
from durable_workflow._generated.models import common
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow.testing import DevServerHandle

CONTROL = {manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION}
WORKER = {manifest.WORKER_PROTOCOL_HEADER: manifest.WORKER_PROTOCOL_VERSION}


class Api:
    """Thin wrapper: the right version header per plane, and response-model checks."""

    def __init__(self, handle: DevServerHandle) -> None:
        self.handle = handle
        self.http = httpx.Client(base_url=handle.url, timeout=10.0)

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**CONTROL, **kwargs.pop("headers", {})}
        return self.http.request(method, "/api" + path, headers=headers, **kwargs)

    def worker(self, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        headers = {**WORKER, **kwargs.pop("headers", {})}
        return self.http.post("/api/worker" + path, json=body, headers=headers, **kwargs)

    def register(self, worker_id: str = "w1", queue: str = "q") -> None:
        response = self.worker(
            "/register", {"worker_id": worker_id, "task_queue": queue, "runtime": "python"}
        )
        assert response.status_code == 201, response.text

    def start(self, workflow_id: str = "wf-1", **extra: Any) -> httpx.Response:
        body = {
            "workflow_id": workflow_id,
            "workflow_type": "greeting",
            "task_queue": "q",
            "input": ["Ada"],
            **extra,
        }
        return self.control("POST", "/workflows", json=body)

    def close(self) -> None:
        self.http.close()


def check_model(operation: str, response: httpx.Response) -> None:
    """A success body must validate against the operation's generated response model."""
    model = OPERATIONS[operation].response_model
    assert model is not None
    model.model_validate(response.json())


def check_worker_plane(response: httpx.Response) -> dict[str, Any]:
    """Every worker-plane reply carries the two keys worker-protocol.md §1 adds."""
    body: dict[str, Any] = response.json()
    fields = common.WorkerPlaneFields.model_validate(body, strict=True)
    assert fields.protocol_version is not None, body
    assert fields.server_capabilities is not None, body
    return body
