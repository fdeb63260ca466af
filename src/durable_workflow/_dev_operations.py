"""Operations of the dev server's extensions, outside the protocol's catalogue.

Declared once in the router's shape (``OperationSpec``: roles, version header,
namespace) so the dev server routes them and the client sends them alike; a
server offers one only where it advertises its extension (``_dev_extensions``).
"""

from __future__ import annotations

from durable_workflow._generated.operations import OperationSpec

__all__ = ["CLOSED_RUNS", "CLOSED_RUNS_MAX"]

# Runs one closed-runs request may name.
CLOSED_RUNS_MAX = 1000

# ``closed_runs_wait``: which of the named runs have closed (each with its terminal
# history event), held until one closes when ``wait`` is true (docs/compat.md).
CLOSED_RUNS = OperationSpec(
    name="dev.closed_runs",
    plane="control",
    method="POST",
    path="/api/dev/closed-runs",
    path_params=(),
    query_params=(),
    request_model=None,
    response_model=None,
    success_statuses=(200,),
    error_reasons=("validation_failed",),
    roles=("operator", "admin"),
    idempotent=True,  # a read: resending it changes nothing
    versioned=True,
    namespaced=True,
    ascii_only=False,
    self_validating=False,
    sdk_method=None,
    summary="Which of the named runs have closed, optionally held until one does.",
)
