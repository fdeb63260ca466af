"""Namespace external-storage policy and the storage probe (control-plane.md §5.5, §6).

The probe round-trips through the same driver the server uses to verify
references (``external_payloads.ExternalPayloads``): ``local`` (a ``file://``
URI, else next to the database), ``s3``, ``gcs`` and ``azure`` with clients
from the standard environment. A failed round trip is a 422
``storage_round_trip_failed`` (upstream: an uncaught 500).
"""

from __future__ import annotations

import hashlib
from typing import Any

from durable_workflow.external_storage import (
    ExternalStorageDriver,
    delete_external_payload,
    fetch_external_payload,
    store_external_payload,
)
from durable_workflow.server.engine.errors import EngineError, ValidationFailed, not_found
from durable_workflow.server.engine.external_payloads import DriverUnavailable
from durable_workflow.server.store.tx import Tx, dumps, loads

DRIVERS = ("local", "s3", "gcs", "azure")
# Key segment of probe objects, apart from real payloads' codec segments.
PROBE_CODEC = "storage-test"
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


def _failure(
    status_reason: str, message: str, namespace: str, driver: Any, **extra: Any
) -> EngineError:
    return EngineError(422, {"status": "failed", "reason": status_reason, "message": message,
                             "namespace": namespace, "driver": driver, **extra})  # fmt: skip


def _round_trip(driver: ExternalStorageDriver, data: bytes) -> dict[str, Any]:
    """Store, fetch-and-verify (the SDK verifier) and delete one synthetic payload."""
    digest = hashlib.sha256(data).hexdigest()
    out: dict[str, Any] = {"status": "failed", "bytes": len(data), "sha256": digest,
                           "reference_uri": None}  # fmt: skip
    try:
        reference = store_external_payload(driver, data, codec=PROBE_CODEC)
        out["reference_uri"] = reference.uri
        fetch_external_payload(driver, reference)
        delete_external_payload(driver, reference)
    except Exception as exc:  # any driver failure is the probe's finding, not a 500
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    out["status"] = "passed"
    return out


def probe(tx: Tx, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    """Write, read back (verifying size and SHA-256) and delete two synthetic payloads
    through the namespace's driver -- any of local, s3, gcs, azure (control-plane §6)."""
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
                       namespace, chosen,
                       supported_diagnostic_drivers=[policy["driver"]])  # fmt: skip
    if tx.external is None:
        raise _failure("storage_driver_unavailable", "External storage is not available.",
                       namespace, chosen, supported_diagnostic_drivers=[])  # fmt: skip
    try:
        storage = tx.external.driver_for(namespace, policy or {"driver": chosen})
    except DriverUnavailable as exc:
        raise _failure(exc.reason, str(exc), namespace, chosen,
                       supported_diagnostic_drivers=list(DRIVERS)) from exc  # fmt: skip
    out: dict[str, Any] = {"status": "passed", "namespace": namespace, "driver": chosen}
    for label, key, char in (("small_payload", "small_payload_bytes", b"s"),
                             ("large_payload", "large_payload_bytes", b"l")):  # fmt: skip
        out[label] = _round_trip(storage, char * int(body[key]))
    failed = [label for label in ("small_payload", "large_payload")
              if out[label]["status"] != "passed"]  # fmt: skip
    if failed:
        first = out[failed[0]].get("error", "round trip failed")
        raise _failure("storage_round_trip_failed", f"The {failed[0]} probe failed: {first}",
                       namespace, chosen, small_payload=out["small_payload"],
                       large_payload=out["large_payload"])  # fmt: skip
    return out
