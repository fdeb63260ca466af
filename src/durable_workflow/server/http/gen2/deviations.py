"""Where the vendored 2.x documents and the 2.x line's own reference client disagree.

Upstream SDK 2.12.0 -- the client and worker a 2.x server serves -- sends and
expects a few shapes the vendored documents word differently. The server follows
the client (a real 2.x server must, or its own SDK would not run); each deviation
is listed here, applied before spec validation, and documented in
docs/server-generations.md. Nothing else bends the schemas.
"""

from __future__ import annotations

from typing import Any

_LEASE_OWNER = "the request schema requires worker_id; 2.12.0 names the worker as lease_owner"
# operationId -> why the body is normalised before validation.
REQUEST_DEVIATIONS = {
    "pollActivityTask": "PollRequest requires task_queues; 2.12.0 sends one task_queue",
    "pollQueryTask": "PollRequest requires task_queues; 2.12.0 sends one task_queue",
    "completeActivityTask": _LEASE_OWNER,
    "failActivityTask": _LEASE_OWNER,
    "completeQueryTask": _LEASE_OWNER,
    "failQueryTask": _LEASE_OWNER,
}


def normalized_request(operation_id: str, body: Any) -> Any:
    """``body`` as the vendored schema words it, for validation only (handlers see the original)."""
    if operation_id in ("pollActivityTask", "pollQueryTask") and isinstance(body, dict):
        queue = body.get("task_queue")
        if "task_queues" not in body and isinstance(queue, str):
            return {**body, "task_queues": [queue]}
    if REQUEST_DEVIATIONS.get(operation_id) == _LEASE_OWNER and isinstance(body, dict):
        owner = body.get("lease_owner")
        if "worker_id" not in body and isinstance(owner, str):
            return {**body, "worker_id": owner}
    return body


# (operationId, field) where a response follows the client over the document: the
# envelope types worker_protocol.version as an integer, the negotiation extension and
# 2.12.0's fail-closed check need the advertised "1.20".
TOLERATED_RESPONSE_FIELDS = frozenset({("getClusterInfo", "worker_protocol.version")})
