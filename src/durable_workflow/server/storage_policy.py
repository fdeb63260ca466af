"""Namespace external-storage policy and the storage probe (control-plane.md §5.5, §6).

The dev server can run the ``local`` driver itself (payload files under a
``file://`` URI, else next to its database); other drivers are stored as
policy but the probe reports them unavailable, as upstream does without a
configured disk and bucket.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from durable_workflow.server.errors import EngineError, ValidationFailed, not_found
from durable_workflow.server.tx import Tx, dumps, loads
from durable_workflow.server.ulid import new_ulid

DRIVERS = ("local", "s3", "gcs", "azure")
_CONFIG_LIMITS = {"uri": 2048, "bucket": 255, "disk": 255, "prefix": 1024, "region": 128,
                  "endpoint": 2048, "auth_profile": 255}  # fmt: skip


def set_policy(tx: Tx, name: str, body: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    driver = body.get("driver")
    if driver not in DRIVERS:
        errors["driver"] = [f"The driver must be one of {', '.join(DRIVERS)}."]
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        errors["enabled"] = ["The enabled field must be true or false."]
    threshold = body.get("threshold_bytes")
    if threshold is not None and (
        not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1
    ):
        errors["threshold_bytes"] = ["The threshold bytes must be an integer of at least 1."]
    raw_config = body.get("config")
    if raw_config is not None and not isinstance(raw_config, dict):
        errors["config"] = ["The config field must be an object."]
        raw_config = None
    config: dict[str, str] = {}
    for key, limit in _CONFIG_LIMITS.items():
        value = (raw_config or {}).get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > limit:
            errors[f"config.{key}"] = [f"The config.{key} must be a string of at most {limit}."]
        else:
            config[key] = value
    if errors:
        raise ValidationFailed(errors)
    name = name.lower()
    if not tx.one("SELECT 1 FROM namespaces WHERE name = ?", (name,)):
        raise not_found("namespace_not_found", f"Namespace [{name}] not found.", namespace=name)
    policy: dict[str, Any] = {"driver": driver, "enabled": enabled}
    if threshold is not None:
        policy["threshold_bytes"] = threshold
    if config:
        policy["config"] = config
    tx.update("namespaces", "name", name,
              {"external_payload_storage": dumps(policy), "updated_at": tx.stamp})  # fmt: skip


def _failure(status_reason: str, message: str, namespace: str, driver: Any, **extra: Any) -> Any:
    return EngineError(422, {"status": "failed", "reason": status_reason, "message": message,
                             "namespace": namespace, "driver": driver, **extra})  # fmt: skip


def probe(tx: Tx, namespace: str, body: dict[str, Any], default_root: Path) -> dict[str, Any]:
    """Write, read back and delete two synthetic payloads through the local driver."""
    errors: dict[str, list[str]] = {}
    sizes = {"small_payload_bytes": 1_048_576, "large_payload_bytes": 16_777_216}
    for key, limit in sizes.items():
        value = body.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
            errors[key] = [f"The {key} field is required (1..{limit})."]
    driver = body.get("driver")
    if driver is not None and driver not in DRIVERS:
        errors["driver"] = [f"The driver must be one of {', '.join(DRIVERS)}."]
    if errors:
        raise ValidationFailed(errors)
    row = tx.one("SELECT external_payload_storage FROM namespaces WHERE name = ?", (namespace,))
    policy = loads(row["external_payload_storage"]) if row else None
    if driver is None and policy is None:
        raise _failure("external_storage_not_configured", "No external storage policy is set.",
                       namespace, None)  # fmt: skip
    if policy is not None and policy.get("enabled") is False:
        raise _failure("external_storage_disabled", "External storage is disabled.", namespace,
                       policy["driver"])  # fmt: skip
    chosen = driver if driver is not None else (policy or {}).get("driver")
    if policy is not None and chosen != policy["driver"]:
        raise _failure("storage_driver_unavailable", "The driver differs from the policy.",
                       namespace, chosen, supported_diagnostic_drivers=["local"])  # fmt: skip
    if chosen != "local":
        raise _failure("storage_driver_unavailable", f"The dev server cannot reach [{chosen}].",
                       namespace, chosen, supported_diagnostic_drivers=["local"])  # fmt: skip
    uri = ((policy or {}).get("config") or {}).get("uri", "")
    parsed = urlparse(uri)
    root = Path(parsed.path) if parsed.scheme == "file" else default_root / namespace
    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"status": "passed", "namespace": namespace, "driver": "local"}
    for label, key, char in (("small_payload", "small_payload_bytes", b"s"),
                             ("large_payload", "large_payload_bytes", b"l")):  # fmt: skip
        data = char * int(body[key])
        path = root / f"probe-{new_ulid()}.bin"
        path.write_bytes(data)
        read = path.read_bytes()
        path.unlink()
        digest = hashlib.sha256(data).hexdigest()
        ok = hashlib.sha256(read).hexdigest() == digest
        out[label] = {"status": "passed" if ok else "failed", "bytes": len(data),
                      "sha256": digest, "reference_uri": path.as_uri()}  # fmt: skip
        if not ok:
            out["status"] = "failed"
    return out
