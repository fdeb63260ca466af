"""HTTP helpers for the generation-2 (2.x) dev-server tests: every response is spec-checked."""

from __future__ import annotations

from typing import Any

import httpx

from durable_workflow._spec_validation import SpecRecorder
from durable_workflow.converter._value_codec import encode_value_blob
from durable_workflow.server.http.gen2.deviations import TOLERATED_RESPONSE_FIELDS
from durable_workflow.testing import DevServerHandle

CONTROL = {"X-Durable-Workflow-Control-Plane-Version": "2"}
WORKER = {"X-Durable-Workflow-Protocol-Version": "1.20"}
MANIFEST = {
    name: {"supported": False, "minimum_protocol_version": "1.18"}
    for name in ("local_activities", "worker_sessions", "sticky_execution")
}


def value(data: Any) -> dict[str, str]:
    """A 2.x payload envelope: ``avro`` = the single-object Value frame."""
    return {"codec": "avro", "blob": encode_value_blob(data)}


class Api2:
    """A client of a generation-2 server whose every response is checked against the specs."""

    def __init__(self, handle: DevServerHandle) -> None:
        self.handle = handle
        self.spec = SpecRecorder(TOLERATED_RESPONSE_FIELDS)
        self.http = httpx.Client(
            base_url=handle.url, timeout=10.0, event_hooks={"response": [self.spec.response_hook]}
        )

    def control(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**CONTROL, **kwargs.pop("headers", {})}
        return self.http.request(method, "/api" + path, headers=headers, **kwargs)

    def worker(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {**WORKER, **kwargs.pop("headers", {})}
        return self.http.request(method, "/api/worker" + path, json=body, headers=headers, **kwargs)

    def register(self, worker_id: str = "w1", queue: str = "q", **extra: Any) -> dict[str, Any]:
        body = {"worker_id": worker_id, "task_queue": queue, "runtime": "python",
                "capability_manifest": MANIFEST, **extra}  # fmt: skip
        response = self.worker("POST", "/register", body)
        assert response.status_code == 201, response.text
        ack: dict[str, Any] = response.json()
        return ack

    def start(
        self, workflow_id: str = "wf-1", args: Any = ("Ada",), **extra: Any
    ) -> httpx.Response:
        body = {"workflow_id": workflow_id, "workflow_type": "greeting", "task_queue": "q",
                "input": value(list(args)), **extra}  # fmt: skip
        return self.control("POST", "/workflows", json=body)

    def close(self) -> None:
        self.http.close()
