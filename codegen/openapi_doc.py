"""The dev server's OpenAPI 3.1 document, built from ``contracts/`` (operations + schemas).

One path item per operation of ``operations.json``: its parameters (path, query, the
plane's version header, ``X-Namespace``), request and success schemas from the
schema families, the error body for every status it can refuse with, and its roles
(``x-roles``; bearer security when it has any). Schema families become
``components/schemas`` named ``family.Name`` with their ``$ref``s rewritten.
The server serves the file as ``/api/openapi.json``; fuzzers read it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from generate import CONTRACTS, resolve_ref

# Statuses every operation of a plane can answer besides its own (control-plane.md §1.5):
# body checks, auth, role, version header, namespace, validation, not found.
_GUARD_STATUSES = {
    "public": ("400", "413", "415"),
    "control": ("400", "401", "403", "404", "413", "415", "422"),
    "worker": ("400", "401", "403", "404", "413", "415", "422"),
}
_QUERY_TYPES = {"string", "integer", "boolean", "number"}


def _component(family: str, name: str) -> str:
    return f"#/components/schemas/{family}.{name}"


def _rewrite_refs(node: Any, family: str) -> Any:
    """``#/$defs/X`` and ``other.json#/$defs/X`` become component references."""
    if isinstance(node, list):
        return [_rewrite_refs(item, family) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            match = re.fullmatch(r"(?:([a-z_]+)\.json)?#/\$defs/([A-Za-z0-9]+)", value)
            if match is None:
                raise ValueError(f"{family}: unsupported $ref {value!r}")
            out[key] = _component(match.group(1) or family, match.group(2))
        else:
            out[key] = _rewrite_refs(value, family)
    return out


def _components(schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        f"{family}.{name}": _rewrite_refs(definition, family)
        for family, document in sorted(schemas.items())
        for name, definition in sorted(document.get("$defs", {}).items())
    }


def _ref(ref: str, schemas: dict[str, dict[str, Any]]) -> dict[str, str]:
    found = resolve_ref(ref, schemas)
    return {"$ref": _component(found.family, found.name)}


def _parameters(op: dict[str, Any], manifest: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in op["path_params"]
    ]
    for query in op["query_params"]:
        kind = query.get("type") if query.get("type") in _QUERY_TYPES else "string"
        params.append(
            {
                "name": query["name"],
                "in": "query",
                "required": False,
                "description": query.get("rules", ""),
                "schema": {"type": kind},
            }
        )
    if op["versioned"] and op["plane"] == "control":
        control = manifest["control_plane"]
        params.append(
            {
                "name": control["header"],
                "in": "header",
                "required": True,
                "schema": {"type": "string", "const": control["version"]},
            }
        )
    if op["plane"] == "worker":
        worker = manifest["worker_protocol"]
        params.append(
            {
                "name": worker["header"],
                "in": "header",
                "required": True,
                "schema": {"type": "string", "enum": list(worker["accepted_request_versions"])},
            }
        )
    if op["namespaced"]:
        params.append(
            {"name": "X-Namespace", "in": "header", "required": False, "schema": {"type": "string"}}
        )
    return params


def _responses(op: dict[str, Any], schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    error = {
        "description": "The error contract: status + reason.",
        "content": {"application/json": {"schema": {"$ref": _component("common", "ErrorBody")}}},
    }
    responses: dict[str, Any] = {}
    for status in op["success_status"]:
        body: dict[str, Any] = {"description": op["summary"] or op["name"]}
        if op["response_schema"] is not None:
            schema = _ref(op["response_schema"], schemas)
            body["content"] = {"application/json": {"schema": schema}}
        responses[str(status)] = body
    statuses = set(_GUARD_STATUSES[op["plane"]])
    if not op["roles"]:
        statuses -= {"401", "403"}
    if op["error_reasons"]:
        statuses |= {"404", "409", "412", "422", "429", "501", "503", "504"}
    for status in sorted(statuses):
        responses.setdefault(status, error)
    return responses


def build(schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The whole document (deterministic: sorted where the contracts are unordered)."""
    manifest = json.loads((CONTRACTS / "manifest.json").read_text(encoding="utf-8"))
    operations = json.loads((CONTRACTS / "operations.json").read_text(encoding="utf-8"))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations["operations"]:
        item: dict[str, Any] = {
            "operationId": op["name"],
            "summary": op["summary"] or op["name"],
            "tags": [op["plane"]],
            "parameters": _parameters(op, manifest),
            "responses": _responses(op, schemas),
            "x-roles": list(op["roles"]),
            "x-idempotent": op["idempotent"],
        }
        if op["roles"]:
            item["security"] = [{"bearer": []}]
        if op["request_schema"] is not None:
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(op["request_schema"], schemas)}},
            }
        paths.setdefault(op["path"], {})[op["method"].lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Durable Workflow dev server",
            "version": str(manifest["control_plane"]["version"]),
            "description": "Generated by codegen/openapi_doc.py from contracts/ -- do not edit.",
        },
        "paths": paths,
        "components": {
            "schemas": _components(schemas),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def write(target: Path, schemas: dict[str, dict[str, Any]]) -> None:
    text = json.dumps(build(schemas), indent=1, ensure_ascii=False, sort_keys=False)
    target.write_text(text + "\n", encoding="utf-8")
