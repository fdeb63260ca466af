"""``GET /api/openapi.json``: the generated document lists every operation the server routes."""

from __future__ import annotations

import re

import httpx
import schemathesis
from server_http_helpers import Api

from durable_workflow._generated import manifest
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow.testing import dev_server


def test_document_lists_every_operation_with_its_roles(api: Api) -> None:
    response = api.http.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    found = {
        item["operationId"]: (method.upper(), path, item)
        for path, methods in doc["paths"].items()
        for method, item in methods.items()
    }
    assert set(found) == set(OPERATIONS)
    for name, op in OPERATIONS.items():
        method, path, item = found[name]
        assert (method, path) == (op.method, op.path)
        assert item["x-roles"] == list(op.roles)
        assert ("requestBody" in item) == (op.request_model is not None)
        params = {(p["in"], p["name"]) for p in item["parameters"]}
        assert {("path", n) for n in re.findall(r"\{(\w+)\}", op.path)} <= params
        if op.plane == "worker":
            assert ("header", manifest.WORKER_PROTOCOL_HEADER) in params
        for status in op.success_statuses:
            assert str(status) in item["responses"]


def test_every_reference_resolves_and_schemathesis_loads_it(api: Api) -> None:
    doc = api.http.get("/api/openapi.json").json()
    components = doc["components"]["schemas"]
    refs = re.findall(r'"\$ref": ?"#/components/schemas/([^"]+)"', api.http.get(
        "/api/openapi.json").text)  # fmt: skip
    assert refs and all(ref in components for ref in refs)
    schema = schemathesis.openapi.from_url(api.handle.url + "/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(OPERATIONS)


def test_served_without_a_token_even_when_auth_is_on() -> None:
    with dev_server(token="s3cret", poll_timeout=0.2) as handle:
        assert httpx.get(handle.url + "/api/openapi.json").status_code == 200
        assert httpx.head(handle.url + "/api/openapi.json").status_code == 200
        assert httpx.get(handle.url + "/api/workflows").status_code == 401
