"""The 2.x layer (``_generated/v2``) says what the vendored OpenAPI documents say."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from durable_workflow._generated.v2.models import control_plane, worker_protocol
from durable_workflow._generated.v2.operations import OPERATIONS, OperationSpec
from durable_workflow._generated.v2.stubs import Operations
from tests.contract._codegen import step

SPECS = Path(__file__).resolve().parents[2] / "contracts" / "server-2.x"
METHODS = ("get", "put", "post", "delete", "patch")


def _document_operations() -> dict[str, tuple[str, str, str]]:
    """operationId -> (document stem, METHOD, /api-prefixed path), read straight from the YAML."""
    out = {}
    for path in sorted(SPECS.glob("*.openapi.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        base = doc["servers"][0]["url"]
        for route, item in doc["paths"].items():
            for method in METHODS:
                if method in item:
                    out[item[method]["operationId"]] = (path.name, method.upper(), base + route)
    return out


def test_one_spec_per_documented_operation() -> None:
    documented = _document_operations()
    assert set(OPERATIONS) == set(documented)
    for name, spec in OPERATIONS.items():
        assert (spec.method, spec.path) == documented[name][1:]
    assert Counter(spec.plane for spec in OPERATIONS.values()) == {
        "control_plane": 91,
        "worker_protocol": 37,
        "external_payload_transport": 2,
    }


def test_models_and_statuses_follow_the_document() -> None:
    register = OPERATIONS["registerWorker"]
    assert register.request_model is worker_protocol.WorkerRegistrationRequest
    assert register.response_model is worker_protocol.WorkerRegistrationEnvelope
    assert register.request_required and register.success_statuses == (201,)
    deregister = OPERATIONS["deregisterWorker"]
    assert (deregister.method, deregister.path_params) == ("DELETE", ("workerId",))
    assert deregister.request_schema is None and deregister.response_model is None
    assert deregister.response_schema == "inline"  # an allOf the document spells out
    upload = OPERATIONS["uploadRuntimeExternalPayload"]
    assert upload.request_media_type == "application/octet-stream"
    info = OPERATIONS["getClusterInfo"]
    assert info.response_schema == "./cluster-info-envelope.schema.json"
    assert "X-Durable-Workflow-Control-Plane-Version" in OPERATIONS["startWorkflow"].headers
    assert OPERATIONS["deleteSchedule"].success_statuses == (204,)


def test_render_path_encodes_each_segment() -> None:
    spec = OPERATIONS["signalWorkflow"]
    rendered = spec.render_path({"workflowId": "a/b", "signalName": "go now"})
    assert rendered == "/api/workflows/a%2Fb/signal/go%20now"
    with pytest.raises(KeyError):
        spec.render_path({"workflowId": "a"})


class _Recorder:
    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.calls: list[tuple[OperationSpec, Mapping[str, str], Any]] = []

    async def call(
        self,
        op: OperationSpec,
        *,
        path_params: Mapping[str, str],
        query: Mapping[str, Any] | None,
        body: Any,
    ) -> Any:
        self.calls.append((op, path_params, body))
        return self.reply


@pytest.mark.asyncio
async def test_stubs_send_the_spec_and_validate_the_reply() -> None:
    transport = _Recorder({"protocol_version": "1.20", "server_capabilities": {}})
    ops = Operations(transport)
    body = worker_protocol.TaskHeartbeatRequest(worker_id="w1")
    with pytest.raises(ValidationError, match="server_capabilities"):  # replies are validated
        await ops.heartbeat_activity_task(body, task_id="t 1")
    op, params, sent = transport.calls[-1]
    assert op is OPERATIONS["heartbeatActivityTask"] and params == {"taskId": "t 1"}
    assert sent == {"worker_id": "w1"}  # unset fields are not sent
    transport.reply = {"namespaces": []}
    reply = await ops.list_namespaces()
    assert isinstance(reply, control_plane.ControlPlaneEnvelope)
    assert reply.model_dump() == {"namespaces": []}
    await ops.update_workflow(args_body := {"arguments": [1]}, workflow_id="w", update_name="u")
    assert transport.calls[-1][1:] == ({"workflowId": "w", "updateName": "u"}, args_body)
    with pytest.raises(ValidationError, match="transport_version"):
        await ops.upload_runtime_external_payload(b"\x00\x01")
    assert transport.calls[-1][2] == b"\x00\x01"  # bytes pass through untouched


def test_a_document_without_operation_ids_is_refused(tmp_path: Path) -> None:
    openapi_v2 = step("openapi_v2")
    (tmp_path / "tiny-api.openapi.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
        "paths:\n  /x:\n    get:\n      responses: {'200': {description: ok}}\n",
        encoding="utf-8",
    )
    docs = openapi_v2.documents(tmp_path)
    assert list(docs) == ["tiny"]
    with pytest.raises(openapi_v2.SpecError, match="no operationId"):
        openapi_v2.operation_contexts("tiny", docs["tiny"], set())
