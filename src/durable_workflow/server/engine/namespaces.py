"""Namespaces (control-plane.md §5): list, describe, create, update, storage policy."""

from __future__ import annotations

from typing import Any

from durable_workflow.server.engine import storage_policy
from durable_workflow.server.engine.errors import EngineError, not_found
from durable_workflow.server.store.rows import NamespaceRow
from durable_workflow.server.store.timefmt import offset_from_stored
from durable_workflow.server.store.tx import Tx, loads


def _view(row: NamespaceRow) -> dict[str, Any]:
    return {
        "name": row["name"],
        "description": row["description"],
        "retention_days": row["retention_days"],
        "status": row["status"],
        "external_payload_storage": loads(row["external_payload_storage"]),
        "created_at": offset_from_stored(row["created_at"]),
        "updated_at": offset_from_stored(row["updated_at"]),
    }


def list_namespaces(tx: Tx) -> dict[str, Any]:
    return {
        "namespaces": [
            _view(r) for r in tx.all("SELECT * FROM namespaces ORDER BY rowid", row=NamespaceRow)
        ]
    }


def describe(tx: Tx, name: str) -> dict[str, Any]:
    name = name.lower()
    row = tx.one("SELECT * FROM namespaces WHERE name = ?", (name,), row=NamespaceRow)
    if row is None:
        raise not_found("namespace_not_found", f"Namespace [{name}] not found.", namespace=name)
    return _view(row)


def create(tx: Tx, body: dict[str, Any]) -> dict[str, Any]:
    """Create a namespace (name lower-cased); 409 when it exists (control-plane §5.2).

    Answers the whole namespace; upstream omits ``updated_at`` here (docs/compat.md).
    """
    name = str(body["name"]).strip().lower()
    if tx.one("SELECT 1 FROM namespaces WHERE name = ?", (name,)):
        raise EngineError(
            409,
            {
                "message": f"Namespace [{name}] already exists.",
                "reason": "namespace_already_exists",
                "namespace": name,
            },
        )
    row: NamespaceRow = {
        "name": name,
        "description": body.get("description"),
        "retention_days": body.get("retention_days") or 30,
        "status": "active",
        "external_payload_storage": None,
        "created_at": tx.stamp,
        "updated_at": tx.stamp,
    }
    tx.insert("namespaces", row)
    return _view(row)


def update(tx: Tx, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Change description/retention; null or absent fields stay (control-plane §5.4).

    Answers the whole namespace; upstream omits ``created_at`` here (docs/compat.md).
    """
    name = name.lower()
    changes = {k: body[k] for k in ("description", "retention_days") if body.get(k) is not None}
    if not tx.one("SELECT 1 FROM namespaces WHERE name = ?", (name,)):
        raise not_found("namespace_not_found", f"Namespace [{name}] not found.", namespace=name)
    if changes:
        tx.update("namespaces", "name", name, {**changes, "updated_at": tx.stamp})
    return describe(tx, name)


def set_storage_policy(tx: Tx, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Replace a namespace's external-storage policy; returns the namespace (§5.5)."""
    storage_policy.set_policy(tx, name, body)
    return describe(tx, name)
