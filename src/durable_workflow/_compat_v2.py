"""Does a 2.x server's ``/api/cluster/info`` offer what this SDK uses? (the 2.x contracts)

A 2.x server is judged against the vendored 2.x documents (``contracts/server-2.x``,
through the generated ``_generated.v2`` models), not against ``contracts/manifest.json``,
which describes the 0.x line. :func:`problems` is the worker's fail-closed gate;
:func:`compare` is the per-entry report of ``contract check`` and ``nox -s compat``.
Both are reached through ``_compat.check_cluster_info`` / ``_compat.compare_manifest``,
which pick the generation first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from durable_workflow._compat import (
    ADDITIVE,
    BREAKING,
    MATCH,
    ManifestCheck,
    auth_composition_problems,
)
from durable_workflow._generated import manifest as _manifest
from durable_workflow._generated.v2.models import worker_protocol as _v2
from durable_workflow._transport._negotiation import (
    GEN2_DEFAULT_WORKER_PROTOCOL,
    GEN2_WORKER_PROTOCOLS,
    version_pair,
)

__all__ = ["compare", "problems"]

_ABSENT = object()
# The control-plane contract is the same on both lines (version "2", request contract v1).
_CONTROL_PLANE_VERSION = str(_manifest.CONTROL_PLANE_VERSION)
_REQUEST_CONTRACT = (
    _manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA,
    int(_manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION),
)
_PAYLOAD_CODEC = "avro"
# Capabilities the SDK's 0.4.53 API uses (each gates its operations, _negotiation.FEATURES).
_USED_CAPABILITIES = (
    "workflow_tasks",
    "activity_tasks",
    "signals",
    "queries",
    "updates",
    "schedules",
    "history_export",
)
# Worker features the Worker uses when the server offers them.
_WORKER_FLAGS = ("query_tasks", "update_validation_tasks")
# Every server capability the SDK reads (the others describe features it does not use).
_READ_SERVER_CAPABILITIES = (
    "supported_workflow_task_commands",
    "workflow_task_poll_request_idempotency",
    "synchronous_update_validation",
    *_WORKER_FLAGS,
)


def _lookup(document: Any, path: str) -> Any:
    node = document
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _speaks(advertised: object) -> str:
    """``match``: a version this SDK sends; ``additive``: a newer minor; else ``breaking``."""
    theirs, newest = version_pair(advertised), version_pair(GEN2_DEFAULT_WORKER_PROTOCOL)
    if theirs is None or newest is None or theirs[0] != newest[0]:
        return BREAKING
    return MATCH if str(advertised).strip() in GEN2_WORKER_PROTOCOLS else ADDITIVE


def _row(path: str, expected: Any, actual: Any, status: str) -> ManifestCheck:
    shown = None if actual is _ABSENT else actual
    return ManifestCheck(
        path=path, expected=expected, actual=shown, ok=status != BREAKING, status=status
    )


def _capability_rows(info: Mapping[str, Any]) -> list[ManifestCheck]:
    rows = []
    for name in _USED_CAPABILITIES:
        actual = _lookup(info, f"capabilities.{name}")
        rows.append(
            _row(f"capabilities.{name}", True, actual, MATCH if actual is True else BREAKING)
        )
    codecs = _lookup(info, "capabilities.payload_codecs")
    has_avro = isinstance(codecs, list) and _PAYLOAD_CODEC in codecs
    status = BREAKING if not has_avro else MATCH if codecs == [_PAYLOAD_CODEC] else ADDITIVE
    rows.append(_row("capabilities.payload_codecs", [_PAYLOAD_CODEC], codecs, status))
    return rows


def _server_capability_rows(info: Mapping[str, Any]) -> list[ManifestCheck]:
    """The server capabilities the SDK reads, each checked against its generated 2.x type."""
    path = "worker_protocol.server_capabilities"
    capabilities = _lookup(info, path)
    if not isinstance(capabilities, Mapping):
        return [_row(path, "WorkerServerCapabilities", capabilities, BREAKING)]
    rows = []
    fields = _v2.WorkerServerCapabilities.model_fields
    for name in _READ_SERVER_CAPABILITIES:
        actual = capabilities.get(name, _ABSENT)
        field = fields.get(name)
        expected = "true" if name in _WORKER_FLAGS else "WorkerServerCapabilities." + name
        if actual is _ABSENT:
            rows.append(_row(f"{path}.{name}", expected, actual, BREAKING))
            continue
        try:
            if field is not None and field.annotation is not None:
                TypeAdapter(field.annotation).validate_python(actual)
        except ValidationError as exc:
            rows.append(_row(f"{path}.{name}", exc.errors()[0]["msg"], actual, BREAKING))
            continue
        ok = actual is True if name in _WORKER_FLAGS else True
        rows.append(_row(f"{path}.{name}", expected, actual, MATCH if ok else BREAKING))
    return rows


def compare(info: Mapping[str, Any]) -> list[ManifestCheck]:
    """Every entry of the 2.x contracts this SDK depends on, classified as in ``_compat``."""
    advertised = _lookup(info, "worker_protocol.version")
    rows = [
        _row(
            "worker_protocol.version",
            f"1.x (sends {GEN2_WORKER_PROTOCOLS[0]}..{GEN2_WORKER_PROTOCOLS[-1]})",
            advertised,
            BREAKING if advertised is _ABSENT else _speaks(advertised),
        )
    ]
    version = _lookup(info, "control_plane.version")
    rows.append(
        _row(
            "control_plane.version",
            _CONTROL_PLANE_VERSION,
            version,
            MATCH if str(version) == _CONTROL_PLANE_VERSION else BREAKING,
        )
    )
    for key, expected in zip(("schema", "version"), _REQUEST_CONTRACT, strict=True):
        path = f"control_plane.request_contract.{key}"
        actual = _lookup(info, path)
        same = actual is not _ABSENT and str(actual) == str(expected)
        rows.append(_row(path, expected, actual, MATCH if same else BREAKING))
    rows.extend(_capability_rows(info))
    rows.extend(_server_capability_rows(info))
    auth = auth_composition_problems(info.get("auth_composition_contract"))
    rows.append(
        _row(
            "auth_composition_contract",
            "this SDK's auth composition contract",
            "; ".join(auth) if auth else "compatible",
            BREAKING if auth else MATCH,
        )
    )
    return rows


def problems(info: Mapping[str, Any]) -> list[str]:
    """Every reason the Worker cannot run against this 2.x server, as readable sentences.

    Only what the worker needs: a worker protocol of the same major, the control-plane
    contract, the ``avro`` (Value) payload codec and the auth contract. Optional
    features (query tasks, update validation) are gated where they are used.
    """
    found: list[str] = []
    advertised = _lookup(info, "worker_protocol.version")
    if advertised is _ABSENT or _speaks(advertised) == BREAKING:
        found.append(
            f"worker_protocol.version is {None if advertised is _ABSENT else advertised!r}; "
            f"this SDK speaks {GEN2_WORKER_PROTOCOLS[0]}..{GEN2_WORKER_PROTOCOLS[-1]} to a 2.x "
            "server and needs the same major version"
        )
    for row in compare(info):
        if row.status != BREAKING or row.path == "worker_protocol.version":
            continue
        if row.path == "auth_composition_contract":
            found.extend(auth_composition_problems(info.get("auth_composition_contract")))
            continue
        if row.path.startswith(("worker_protocol.server_capabilities", "capabilities.")) and (
            row.path != "capabilities.payload_codecs"
        ):
            continue
        found.append(f"{row.path} is {row.actual!r}, expected {row.expected!r}")
    return found
