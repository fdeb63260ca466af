"""Search attribute definitions per namespace (control-plane.md §10).

Definitions are informational, as upstream: start and upsert do not check
values against them; the list filters of ``GET /api/workflows`` work on any
key.
"""

from __future__ import annotations

import re
from typing import Any

from durable_workflow.server.engine.errors import EngineError, ValidationFailed, not_found
from durable_workflow.server.store.tx import Tx

TYPES = ("keyword", "text", "int", "double", "bool", "datetime", "keyword_list")
SYSTEM = {
    "WorkflowType": "keyword", "WorkflowId": "keyword", "RunId": "keyword", "Status": "keyword",
    "BuildId": "keyword", "TaskQueue": "keyword", "StartTime": "datetime",
    "CloseTime": "datetime",
}  # fmt: skip
MAX_PER_NAMESPACE = 100
_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")


def list_attributes(tx: Tx, namespace: str) -> dict[str, Any]:
    rows = tx.all(
        "SELECT name, type FROM search_attribute_definitions WHERE namespace = ? ORDER BY name",
        (namespace,),
    )
    custom = {r["name"]: r["type"] for r in rows}
    return {"system_attributes": dict(SYSTEM), "custom_attributes": custom or []}


def create(tx: Tx, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name, kind = body.get("name"), body.get("type")
    if not isinstance(name, str) or not name:
        errors["name"] = ["The name field is required."]
    elif len(name) > 128 or not _NAME.match(name):
        errors["name"] = ["The name must start with a letter and use letters, digits and _."]
    if kind not in TYPES:
        errors["type"] = [f"The selected type is invalid; use one of {', '.join(TYPES)}."]
    if errors:
        raise ValidationFailed(errors)
    assert isinstance(name, str)
    if name in SYSTEM:
        raise EngineError(409, {"message": f"[{name}] is a system attribute.",
                                "reason": "name_reserved", "name": name})  # fmt: skip
    existing = tx.one(
        "SELECT type FROM search_attribute_definitions WHERE namespace = ? AND name = ?",
        (namespace, name),
    )
    if existing is not None:
        raise EngineError(409, {"message": f"Search attribute [{name}] already exists.",
                                "reason": "attribute_already_exists", "name": name,
                                "type": existing["type"]})  # fmt: skip
    count = tx.one(
        "SELECT COUNT(*) AS n FROM search_attribute_definitions WHERE namespace = ?", (namespace,)
    )
    if count is not None and count["n"] >= MAX_PER_NAMESPACE:
        raise EngineError(422, {"message": "Too many custom search attributes.",
                                "reason": "search_attribute_limit_reached",
                                "limit": MAX_PER_NAMESPACE})  # fmt: skip
    tx.insert(
        "search_attribute_definitions",
        {"namespace": namespace, "name": name, "type": kind, "created_at": tx.stamp},
    )
    return {"name": name, "type": kind, "outcome": "created"}


def delete(tx: Tx, namespace: str, name: str) -> dict[str, Any]:
    if name in SYSTEM:
        raise EngineError(409, {"message": f"[{name}] is a system attribute.",
                                "reason": "system_attribute", "name": name})  # fmt: skip
    removed = tx.run(
        "DELETE FROM search_attribute_definitions WHERE namespace = ? AND name = ?",
        (namespace, name),
    )
    if not removed:
        raise not_found("attribute_not_found", f"Search attribute [{name}] not found.", name=name)
    return {"name": name, "outcome": "deleted"}
