"""The 2.x runtime payload transport: large blobs uploaded and referenced, references fetched."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from gen2_support import Gen2Server, cluster_info

from durable_workflow import errors, serializer
from durable_workflow._generated.v2.models import external_payload_transport as ept
from durable_workflow.client import Client

pytestmark = pytest.mark.usefixtures("auto_generation")

REFERENCE_ID = "ep_01HZX3J4K5M6N7P8Q9R0S1T2V3"


def transport_info(threshold: int = 64, status: str = "available") -> dict[str, Any]:
    info = cluster_info()
    info["namespace"] = {
        "name": "default",
        "external_payload_storage": {
            "status": status,
            "threshold_bytes": threshold,
            "transport": {
                "schema": "durable-workflow.v2.runtime-external-payload-transport.v1",
                "version": 1,
                "reference_schema": "durable-workflow.v2.runtime-external-payload-reference.v1",
                "mode": "authenticated_namespace_runtime",
                "upload": {"method": "POST", "path": "/api/external-payloads/v1"},
                "fetch": {
                    "method": "GET",
                    "path_template": "/api/external-payloads/v1/{referenceId}",
                },
                "limits": {"max_payload_bytes": 1 << 20, "request_timeout_seconds": 10},
            },
        },
    }
    return info


class Store:
    """The server side of the transport: keeps uploaded bytes by reference."""

    def __init__(self, server: Gen2Server) -> None:
        self.blobs: dict[str, bytes] = {}
        self.server = server
        server.on("POST", "/api/external-payloads/v1", self.upload, status=201)

    def reference(self, data: bytes) -> dict[str, Any]:
        return {
            "schema": "durable-workflow.v2.runtime-external-payload-reference.v1",
            "reference_id": REFERENCE_ID,
            "codec": "avro",
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }

    def upload(self, request: httpx.Request) -> httpx.Response:
        data = request.content
        assert (
            request.headers["X-Durable-Workflow-Payload-SHA256"] == hashlib.sha256(data).hexdigest()
        )
        assert request.headers["X-Durable-Workflow-Payload-Size"] == str(len(data))
        self.blobs[REFERENCE_ID] = data
        receipt = {
            "schema": "durable-workflow.v2.runtime-external-payload-upload.v1",
            "transport_version": 1,
            "reference": self.reference(data),
        }
        ept.RuntimeExternalPayloadUpload.model_validate(receipt)
        return httpx.Response(201, json=receipt)

    def serve(self, data: bytes, *, tamper: bool = False) -> None:
        reference = self.reference(data)
        self.server.on(
            "GET",
            f"/api/external-payloads/v1/{REFERENCE_ID}",
            lambda _r: httpx.Response(
                200,
                content=data + (b"x" if tamper else b""),
                headers={
                    "X-Durable-Workflow-Payload-Codec": "avro",
                    "X-Durable-Workflow-Payload-Size": str(reference["size_bytes"]),
                    "X-Durable-Workflow-Payload-SHA256": reference["sha256"],
                },
            ),
        )


def client_for(server: Gen2Server) -> Client:
    return Client("http://dw.test", transport=httpx.MockTransport(server))


async def test_a_large_payload_is_uploaded_and_sent_as_a_reference() -> None:
    server = Gen2Server(transport_info())
    store = Store(server)
    server.on("POST", "/api/workflows", {"workflow_id": "w", "run_id": "r"}, status=201)
    big = "x" * 500
    async with client_for(server) as client:
        await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="w", input=[big])
        await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="w", input=[1])
    first, second = server.bodies("/api/workflows")
    assert first["input"] == {
        "codec": "avro",
        "external_payload": store.reference(store.blobs[REFERENCE_ID]),
    }
    ept.RuntimeExternalPayloadEnvelope.model_validate(first["input"])
    assert serializer.decode_envelope(
        {"codec": "avro", "blob": store.blobs[REFERENCE_ID].decode()}
    ) == [big]
    assert "blob" in second["input"]  # under the threshold: inline
    assert len(server.sent("/api/external-payloads/v1")) == 1


async def test_a_reference_in_an_answer_is_fetched_verified_and_decoded() -> None:
    server = Gen2Server(transport_info())
    store = Store(server)
    blob = serializer.encode({"big": "y" * 300}, framing=serializer.VALUE_FRAMING).encode()
    store.serve(blob)
    answer = {
        "workflow_id": "w",
        "run_id": "r",
        "status": "completed",
        "output": None,  # a preview the server omits for external objects
        "output_envelope": {"codec": "avro", "external_payload": store.reference(blob)},
    }
    server.on("GET", "/api/workflows/w", answer)
    async with client_for(server) as client:
        execution = await client.describe_workflow("w")
    assert execution.output == {"big": "y" * 300}
    (fetch,) = server.sent(f"/api/external-payloads/v1/{REFERENCE_ID}")
    assert fetch.headers["X-Durable-Workflow-Payload-SHA256"] == hashlib.sha256(blob).hexdigest()


async def test_tampered_bytes_are_refused() -> None:
    server = Gen2Server(transport_info())
    store = Store(server)
    blob = serializer.encode("z" * 200, framing=serializer.VALUE_FRAMING).encode()
    store.serve(blob, tamper=True)
    server.on(
        "GET",
        "/api/workflows/w",
        {
            "workflow_id": "w",
            "output": {"codec": "avro", "external_payload": store.reference(blob)},
        },
    )
    async with client_for(server) as client:
        with pytest.raises(errors.ExternalPayloadTransportError) as caught:
            await client.describe_workflow("w")
    assert caught.value.reason == "external_payload_integrity_mismatch"


async def test_without_the_transport_payloads_stay_inline_and_references_are_refused() -> None:
    server = Gen2Server()
    server.on("POST", "/api/workflows", {"workflow_id": "w", "run_id": "r"}, status=201)
    ref = {
        "schema": "durable-workflow.v2.runtime-external-payload-reference.v1",
        "reference_id": REFERENCE_ID,
        "codec": "avro",
        "size_bytes": 3,
        "sha256": "0" * 64,
    }
    server.on(
        "GET",
        "/api/workflows/w",
        {"workflow_id": "w", "output": {"codec": "avro", "external_payload": ref}},
    )
    async with client_for(server) as client:
        await client.start_workflow(
            workflow_type="t", task_queue="q", workflow_id="w", input=["x" * 5000]
        )
        with pytest.raises(errors.ExternalPayloadTransportError, match="without advertising"):
            await client.describe_workflow("w")
    assert "blob" in server.bodies("/api/workflows")[0]["input"]


async def test_an_unavailable_namespace_store_refuses_large_payloads_before_sending() -> None:
    server = Gen2Server(transport_info(status="draining"))
    async with client_for(server) as client:
        with pytest.raises(errors.ExternalPayloadTransportError) as caught:
            await client.start_workflow(
                workflow_type="t", task_queue="q", workflow_id="w", input=["x" * 500]
            )
    assert caught.value.reason == "external_payload_unavailable"
    assert not server.sent("/api/workflows")


async def test_a_manifest_this_sdk_does_not_speak_is_refused() -> None:
    info = transport_info()
    info["namespace"]["external_payload_storage"]["transport"]["version"] = 2
    server = Gen2Server(info)
    async with client_for(server) as client:
        with pytest.raises(errors.ExternalPayloadTransportError, match="version"):
            await client.start_workflow(
                workflow_type="t", task_queue="q", workflow_id="w", input=[1]
            )
    json.dumps(info)  # the fixture stays plain JSON
