"""Result dataclasses for namespaces, storage, search attributes and commands.

Upstream's names and fields (sdk-surface.md §1.4); each keeps the server's
object in ``raw`` where upstream does so callers can reach newer keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from durable_workflow.client._results._parse import as_dict, as_int, as_list, as_str, from_fields
from durable_workflow.external_storage import ExternalPayloadStoragePolicy

__all__ = [
    "BridgeAdapterOutcome",
    "NamespaceDescription",
    "NamespaceList",
    "SearchAttributeList",
    "StoragePayloadTestResult",
    "StorageTestResult",
    "WorkflowCommandResult",
]


@dataclass
class WorkflowCommandResult:
    """The server's answer to a workflow command (repair, archive, ...)."""

    workflow_id: str | None = None
    outcome: str = ""
    command_status: str | None = None
    command_id: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, workflow_id: str | None = None
    ) -> WorkflowCommandResult:
        return cls(
            workflow_id=as_str(data.get("workflow_id")) or workflow_id,
            outcome=as_str(data.get("outcome")) or "",
            command_status=as_str(data.get("command_status")),
            command_id=as_str(data.get("command_id")),
            raw=dict(data),
        )


@dataclass
class NamespaceDescription:
    """One namespace; ``external_payload_storage`` is its parsed large-payload policy."""

    name: str | None = None
    description: str | None = None
    retention_days: int | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    external_payload_storage: ExternalPayloadStoragePolicy | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceDescription:
        storage = _storage_policy(data.get("external_payload_storage"))
        return cls(
            name=as_str(data.get("name")),
            description=as_str(data.get("description")),
            retention_days=as_int(data.get("retention_days")),
            status=as_str(data.get("status")),
            created_at=as_str(data.get("created_at")),
            updated_at=as_str(data.get("updated_at")),
            external_payload_storage=storage,
        )


def _storage_policy(value: Any) -> ExternalPayloadStoragePolicy | None:
    """The namespace's policy; a malformed one is dropped rather than failing the describe."""
    if not isinstance(value, dict):
        return None
    try:
        return ExternalPayloadStoragePolicy.from_dict(value)
    except ValueError:
        return None


@dataclass
class NamespaceList:
    namespaces: list[NamespaceDescription] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NamespaceList:
        items = as_list(data.get("namespaces"))
        return cls([NamespaceDescription.from_dict(i) for i in items if isinstance(i, dict)])


@dataclass
class StoragePayloadTestResult:
    status: str = ""
    bytes: int | None = None
    sha256: str | None = None
    reference_uri: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> StoragePayloadTestResult | None:
        if not isinstance(data, dict):
            return None
        return cls(
            status=as_str(data.get("status")) or "",
            bytes=as_int(data.get("bytes")),
            sha256=as_str(data.get("sha256")),
            reference_uri=as_str(data.get("reference_uri")),
        )


@dataclass
class StorageTestResult:
    """Outcome of the server's round trip through the namespace's storage driver."""

    status: str | None = None
    namespace: str | None = None
    driver: str | None = None
    small_payload: StoragePayloadTestResult | None = None
    large_payload: StoragePayloadTestResult | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StorageTestResult:
        return cls(
            status=as_str(data.get("status")),
            namespace=as_str(data.get("namespace")),
            driver=as_str(data.get("driver")),
            small_payload=StoragePayloadTestResult.from_dict(data.get("small_payload")),
            large_payload=StoragePayloadTestResult.from_dict(data.get("large_payload")),
            raw=dict(data),
        )


@dataclass
class SearchAttributeList:
    system_attributes: dict[str, str] = field(default_factory=dict)
    custom_attributes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchAttributeList:
        return cls(
            system_attributes=as_dict(data.get("system_attributes")),
            custom_attributes=as_dict(data.get("custom_attributes")),
        )


@dataclass
class BridgeAdapterOutcome:
    """What the webhook bridge did with an event (accepted or rejected, never raised)."""

    schema: str | None = None
    version: int | None = None
    adapter: str | None = None
    action: str | None = None
    accepted: bool = False
    outcome: str | None = None
    idempotency_key: str | None = None
    reason: str | None = None
    target: dict[str, Any] | None = None
    correlation: dict[str, Any] | None = None
    workflow_id: str | None = None
    run_id: str | None = None
    workflow_type: str | None = None
    control_plane_outcome: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BridgeAdapterOutcome:
        return from_fields(
            cls,
            data,
            version=as_int(data.get("version")),
            accepted=data.get("accepted") is True,
        )
