"""Namespaces, external payload storage, search attributes and system maintenance passes."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from durable_workflow.client import _client
from durable_workflow.client._calls import compact, list_or_none, require_dict
from durable_workflow.client._results import (
    NamespaceDescription,
    NamespaceList,
    SearchAttributeList,
    StorageTestResult,
)

__all__ = [
    "activity_timeout_pass",
    "activity_timeout_status",
    "create_namespace",
    "create_search_attribute",
    "delete_search_attribute",
    "describe_namespace",
    "list_namespaces",
    "list_search_attributes",
    "repair_pass",
    "repair_status",
    "retention_pass",
    "retention_status",
    "set_namespace_external_storage",
    "test_external_storage",
    "update_namespace",
]


# -- namespaces ------------------------------------------------------------


async def list_namespaces(self: _client.Client) -> NamespaceList:
    data = await self._call("namespace.list")
    return NamespaceList.from_dict(require_dict(data, "namespace_list"))


async def describe_namespace(self: _client.Client, name: str) -> NamespaceDescription:
    data = await self._call("namespace.describe", path_params={"namespace": name}, context=name)
    return NamespaceDescription.from_dict(require_dict(data, "namespace_response"))


async def create_namespace(
    self: _client.Client, name: str, *, description: str | None = None, retention_days: int = 30
) -> NamespaceDescription:
    body = compact({"name": name, "description": description, "retention_days": retention_days})
    data = await self._call("namespace.create", body=body, context=name)
    return NamespaceDescription.from_dict(require_dict(data, "namespace_response"))


async def update_namespace(
    self: _client.Client,
    name: str,
    *,
    description: str | None = None,
    retention_days: int | None = None,
) -> NamespaceDescription:
    """Change only the fields given."""
    body = compact({"description": description, "retention_days": retention_days})
    data = await self._call(
        "namespace.update", path_params={"namespace": name}, body=body, context=name
    )
    return NamespaceDescription.from_dict(require_dict(data, "namespace_response"))


async def set_namespace_external_storage(
    self: _client.Client,
    name: str | None = None,
    *,
    driver: str,
    enabled: bool = True,
    threshold_bytes: int | None = None,
    config: Mapping[str, Any] | None = None,
    namespace: str | None = None,
) -> NamespaceDescription:
    """Set the namespace's large-payload storage policy (``namespace=`` is deprecated)."""
    if namespace is not None:
        if name is not None:
            raise TypeError(
                "set_namespace_external_storage() received both 'name' and the deprecated "
                "alias 'namespace'; pass only 'name' (pass the namespace as name= or "
                "namespace=, not both)"
            )
        warnings.warn(
            "set_namespace_external_storage(namespace=...) is deprecated; use name=",
            DeprecationWarning,
            stacklevel=2,
        )
        name = namespace
    if name is None:
        raise TypeError(
            "set_namespace_external_storage() missing required argument: 'name' "
            "(it needs a namespace name)"
        )
    body = compact(
        {
            "driver": driver,
            "enabled": enabled,
            "threshold_bytes": threshold_bytes,
            "config": dict(config) if config is not None else None,
        }
    )
    data = await self._call(
        "namespace.set_storage_driver", path_params={"namespace": name}, body=body, context=name
    )
    return NamespaceDescription.from_dict(require_dict(data, "namespace_response"))


async def test_external_storage(
    self: _client.Client,
    *,
    driver: str | None = None,
    small_payload_bytes: int | None = None,
    large_payload_bytes: int | None = None,
) -> StorageTestResult:
    """Ask the server to round-trip a small and a large payload through its storage."""
    body = compact(
        {
            "driver": driver,
            "small_payload_bytes": small_payload_bytes,
            "large_payload_bytes": large_payload_bytes,
        }
    )
    data = await self._call("storage.test", body=body)
    return StorageTestResult.from_dict(require_dict(data, "storage_test_response"))


# -- search attributes -------------------------------------------------------


async def list_search_attributes(self: _client.Client) -> SearchAttributeList:
    data = await self._call("search_attribute.list")
    return SearchAttributeList.from_dict(require_dict(data, "search_attributes"))


async def create_search_attribute(
    self: _client.Client, name: str, attribute_type: str
) -> dict[str, Any]:
    body = {"name": name, "type": attribute_type}
    data = await self._call("search_attribute.create", body=body, context=name)
    return require_dict(data, "search_attribute_response")


async def delete_search_attribute(self: _client.Client, name: str) -> dict[str, Any]:
    data = await self._call(
        "search_attribute.delete", path_params={"name": name}, context=quote(name, safe="")
    )
    return require_dict(data, "search_attribute_response")


# -- system ----------------------------------------------------------------


async def repair_status(self: _client.Client) -> dict[str, Any]:
    return require_dict(await self._call("system.repair.status"), "repair_status_response")


async def repair_pass(
    self: _client.Client, *, run_ids: Sequence[str] | None = None, instance_id: str | None = None
) -> dict[str, Any]:
    body = compact({"run_ids": list_or_none(run_ids), "instance_id": instance_id})
    return require_dict(await self._call("system.repair.pass", body=body), "repair_pass_response")


async def retention_status(self: _client.Client) -> dict[str, Any]:
    return require_dict(await self._call("system.retention.status"), "retention_status_response")


async def retention_pass(
    self: _client.Client, *, run_ids: Sequence[str] | None = None, limit: int | None = None
) -> dict[str, Any]:
    body = compact({"run_ids": list_or_none(run_ids), "limit": limit})
    return require_dict(
        await self._call("system.retention.pass", body=body), "retention_pass_response"
    )


async def activity_timeout_status(self: _client.Client) -> dict[str, Any]:
    data = await self._call("system.activity_timeout.status")
    return require_dict(data, "activity_timeout_status_response")


async def activity_timeout_pass(
    self: _client.Client, *, execution_ids: Sequence[str] | None = None, limit: int | None = None
) -> dict[str, Any]:
    body = compact({"execution_ids": list_or_none(execution_ids), "limit": limit})
    data = await self._call("system.activity_timeout.pass", body=body)
    return require_dict(data, "activity_timeout_pass_response")
