"""Pre-flight size limits: refuse, before sending, what the server would answer with 413.

The server refuses any request body over 2 MiB (``payload_too_large``) and the
engine any single encoded activity result / signal / update input over the
same size (payloads.md §6). A bare 413 names nothing, so the SDK checks first
and raises :class:`~durable_workflow.errors.PayloadTooLargeError` naming the
payload at fault (its JSON path in the body), the sizes, the limit, the
operation and the workflow/activity ids it knows, plus what to do about it.
Offloaded payloads are small references and never trip the check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from durable_workflow.errors import PayloadTooLargeError

__all__ = [
    "REMEDY",
    "check_inline_payload",
    "check_request_body",
    "encode_body",
    "known_ids",
    "offending_payload",
]

REMEDY = (
    "Keep large values out of requests: configure external payload storage "
    "(external_storage= and external_storage_threshold_bytes= on the Client or Worker), "
    "or shrink the payload with a payload codec (durable_workflow.codecs, e.g. gzip)."
)

_BODY_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)

# Request keys (and path parameters, snake-cased) worth naming in the error.
_ID_KEYS = (
    "workflow_id",
    "run_id",
    "workflow_type",
    "activity_type",
    "activity_attempt_id",
    "task_id",
    "query_task_id",
    "schedule_id",
    "task_queue",
)


def encode_body(body: Any) -> bytes:
    """The exact bytes sent for a JSON body: compact, raw UTF-8, no NaN/Infinity."""
    return _BODY_ENCODER.encode(body).encode("utf-8")


def _size(node: Any) -> int:
    if isinstance(node, str):
        return len(node.encode("utf-8"))
    return len(encode_body(node))


def _is_inline_envelope(node: Any) -> bool:
    return isinstance(node, Mapping) and isinstance(node.get("codec"), str) and "blob" in node


def offending_payload(body: Any) -> tuple[str, int]:
    """JSON path and size of the payload that makes ``body`` large.

    From the root, follow the largest child while it holds at least half of its
    parent; stop at an inline envelope (sized by its blob), a string, or a
    container whose size is spread over many children (then the container
    itself is named: e.g. ``commands`` when many medium payloads add up).
    """
    path, node = "", body
    while True:
        if _is_inline_envelope(node):
            blob = node["blob"]
            return path or "body", _size(blob) if isinstance(blob, str) else _size(node)
        if isinstance(node, Mapping):
            children = [(f"{path}.{key}" if path else str(key), item) for key, item in node.items()]
        elif isinstance(node, list):
            children = [(f"{path}[{index}]", item) for index, item in enumerate(node)]
        else:
            return path or "body", _size(node)
        total = _size(node)
        sized = [(_size(item), child_path, item) for child_path, item in children]
        if not sized:
            return path or "body", total
        biggest, child_path, child = max(sized, key=lambda entry: entry[0])
        if biggest * 2 < total:
            return path or "body", total
        path, node = child_path, child


def known_ids(body: Any, path_params: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The ids of ``_ID_KEYS`` found in the path parameters or the body's top level."""
    found: dict[str, str] = {}
    for name, value in (path_params or {}).items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
        if snake in _ID_KEYS and value not in (None, ""):
            found[snake] = str(value)
    if isinstance(body, Mapping):
        for key in _ID_KEYS:
            value = body.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
                found.setdefault(key, str(value))
    return found


def _describe(ids: Mapping[str, str]) -> str:
    return f" ({', '.join(f'{k}={v}' for k, v in ids.items())})" if ids else ""


def check_request_body(
    content: bytes,
    body: Any,
    *,
    limit_bytes: int | None,
    operation: str,
    path_params: Mapping[str, Any] | None = None,
) -> None:
    """Raise ``PayloadTooLargeError`` when the encoded body ``content`` is over the limit."""
    if limit_bytes is None or len(content) <= limit_bytes:
        return
    field, size = offending_payload(body)
    ids = known_ids(body, path_params)
    raise PayloadTooLargeError(
        f"{operation} request not sent: its body is {len(content):,} bytes, over the "
        f"server's {limit_bytes:,}-byte limit{_describe(ids)}; the largest payload is "
        f"{field!r} ({size:,} bytes). {REMEDY}",
        size_bytes=size,
        limit_bytes=limit_bytes,
        field=field,
        body_bytes=len(content),
        operation=operation,
        ids=ids,
    )


def check_inline_payload(
    envelope: Mapping[str, Any],
    *,
    field: str,
    limit_bytes: int | None,
    kind: str,
    ids: Mapping[str, str] | None = None,
) -> None:
    """Raise ``PayloadTooLargeError`` when an inline envelope's blob exceeds the limit.

    An external-storage envelope (no ``blob``) is a reference and always passes.
    """
    blob = envelope.get("blob")
    if limit_bytes is None or not isinstance(blob, str) or len(blob) <= limit_bytes // 4:
        return
    size = len(blob.encode("utf-8"))
    if size <= limit_bytes:
        return
    described = dict(ids or {})
    raise PayloadTooLargeError(
        f"{kind} payload {field!r} is {size:,} bytes encoded, over the server's "
        f"{limit_bytes:,}-byte payload limit{_describe(described)}; not sent. {REMEDY}",
        size_bytes=size,
        limit_bytes=limit_bytes,
        field=field,
        operation=kind,
        ids=described,
    )
