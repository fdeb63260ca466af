"""External payload references on the dev server: namespace drivers and verify-before-use.

A request may carry ``{codec, external_storage}`` where payloads.md §4.2 (and,
for workflow-task commands and query results, [HEAD]) allows it. Before the
server records it, the reference is validated, the object is fetched through
the namespace's driver (payloads.md §5.5) and its size and SHA-256 are
checked, all with the SDK's ``durable_workflow.external_storage`` (one
verifier). The server then keeps only the reference, as the marker string of
``payload_codec.marker_for``, never the bytes. Every failure is a 422 naming
the offending field; raising inside the write transaction rolls it back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from durable_workflow.external_storage import (
    ExternalPayloadCache,
    ExternalPayloadIntegrityError,
    ExternalPayloadNotFoundError,
    ExternalPayloadReference,
    ExternalPayloadReferenceError,
    ExternalStorageDriver,
    ExternalStorageError,
    ExternalStorageLocationError,
    external_storage_driver_from_policy,
    resolve_external_envelope,
)
from durable_workflow.server.engine.errors import ValidationFailed
from durable_workflow.server.engine.payload_codec import (
    is_external_envelope,
    is_inline_envelope,
    is_marker,
    marker_for,
)
from durable_workflow.server.store.tx import Tx, loads

NO_DRIVER = "External payload references require an external storage driver."
MARKER_REFUSED = "The {field} field must not be an internal payload marker."


class DriverUnavailable(Exception):
    """The namespace has no usable driver; ``reason`` is the protocol's reason string."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


class ExternalPayloads:
    """One per server: drivers resolved from namespace policies and the verified-bytes cache."""

    def __init__(self, default_root: Path) -> None:
        self.default_root = default_root
        # 128 entries / 16 MiB, as both upstream sides (payloads.md §5.2).
        self.cache = ExternalPayloadCache()
        self._drivers: dict[tuple[str, str], ExternalStorageDriver] = {}

    def policy(self, tx: Tx, namespace: str) -> dict[str, Any] | None:
        row = tx.one("SELECT external_payload_storage FROM namespaces WHERE name = ?", (namespace,))
        policy = None if row is None else loads(row["external_payload_storage"])
        return policy if isinstance(policy, dict) else None

    def driver_for(self, namespace: str, policy: dict[str, Any]) -> ExternalStorageDriver:
        """The driver a policy names (§5.5), built once per (namespace, policy).

        ``local`` uses ``config.uri`` or this server's per-namespace default root;
        cloud drivers build their client from the standard environment
        (``AWS_*``/``AWS_ENDPOINT_URL``, ``STORAGE_EMULATOR_HOST``,
        ``AZURE_STORAGE_CONNECTION_STRING``) plus the policy's endpoint/region.
        """
        if policy.get("enabled") is False:
            raise DriverUnavailable("external_storage_disabled", "External storage is disabled.")
        key = (namespace, json.dumps(policy, sort_keys=True))
        driver = self._drivers.get(key)
        if driver is not None:
            return driver
        try:
            driver = external_storage_driver_from_policy(
                policy, local_root=self.default_root / namespace, default_clients=True
            )
        except (ExternalStorageError, ValueError, ImportError) as exc:
            name = policy.get("driver")
            raise DriverUnavailable(
                "storage_driver_unavailable",
                f"The dev server cannot use the [{name}] driver: {exc}",
            ) from exc
        self._drivers[key] = driver
        return driver

    def namespace_driver(self, tx: Tx, namespace: str) -> ExternalStorageDriver:
        policy = self.policy(tx, namespace)
        if policy is None:
            raise DriverUnavailable("external_storage_not_configured", NO_DRIVER)
        return self.driver_for(namespace, policy)

    def accept(self, tx: Tx, namespace: str, field: str, envelope: dict[str, Any]) -> str:
        """Validate, fetch and verify an external envelope; the marker to store in its place."""
        codec = envelope.get("codec")
        if not isinstance(codec, str) or not codec:
            raise ValidationFailed({f"{field}.codec": [f"The {field}.codec must be a codec name."]})
        where = f"{field}.external_storage"
        try:
            reference = ExternalPayloadReference.from_dict(envelope["external_storage"])
        except ExternalPayloadReferenceError as exc:
            raise _field_error(where, exc.field, str(exc)) from exc
        if reference.codec != codec:
            raise ValidationFailed({f"{where}.codec": [
                f"The {where}.codec [{reference.codec}] must equal the envelope codec [{codec}]."
            ]})  # fmt: skip
        try:
            driver = self.namespace_driver(tx, namespace)
        except DriverUnavailable as exc:
            raise ValidationFailed({field: [f"{exc} ({exc.reason})"]}) from exc
        try:
            resolve_external_envelope(envelope, driver, cache=self.cache)
        except ExternalPayloadIntegrityError as exc:
            raise _field_error(where, exc.field or "sha256", str(exc)) from exc
        except ExternalPayloadReferenceError as exc:
            raise _field_error(where, exc.field, str(exc)) from exc
        except ExternalPayloadNotFoundError as exc:
            raise _field_error(where, "uri", f"No object exists at {exc.uri}.") from exc
        except ExternalStorageLocationError as exc:
            raise _field_error(where, "uri", str(exc)) from exc
        except Exception as exc:  # a driver or network failure is the caller's 422, not a 500
            raise _field_error(
                where, "uri", f"The object could not be read: {type(exc).__name__}: {exc}"
            ) from exc
        return marker_for({"codec": codec, "external_storage": reference.to_dict()})


def _field_error(where: str, field: str, message: str) -> ValidationFailed:
    key = where if field in ("external_storage", "") else f"{where}.{field}"
    return ValidationFailed({key: [message]})


def verify_reference(tx: Tx, namespace: str, field: str, envelope: dict[str, Any]) -> str:
    """The marker for a verified external envelope; 422 naming ``field`` otherwise."""
    if tx.external is None:
        raise ValidationFailed({field: [NO_DRIVER]})
    return tx.external.accept(tx, namespace, field, envelope)


def accept_payload(tx: Tx, namespace: str, field: str, value: Any) -> str | None:
    """The marker for an external envelope (verified first), else None for other values.

    An inline envelope whose blob is an internal marker is refused: it would be
    shown as a reference that was never verified.
    """
    if is_inline_envelope(value) and is_marker(value["blob"]):
        raise ValidationFailed({f"{field}.blob": [MARKER_REFUSED.format(field=f"{field}.blob")]})
    if not is_external_envelope(value):
        return None
    return verify_reference(tx, namespace, field, value)
