"""Handlers of the admin system endpoints (control-plane.md §13)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from durable_workflow.server.engine import system
from durable_workflow.server.engine.errors import Outcome

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call, Handler


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


async def metrics(call: Call) -> Outcome:
    return 200, call.server.engine.tx(system.metrics, call.namespace)


async def operator_metrics(call: Call) -> Outcome:
    return 200, call.server.engine.tx(system.operator_metrics, call.namespace)


async def repair_status(call: Call) -> Outcome:
    return 200, call.server.engine.tx(system.repair_status, call.namespace)


async def repair_pass(call: Call) -> Outcome:
    return call.server.engine.tx(system.repair_pass, call.namespace, _body(call))


async def activity_timeout_status(call: Call) -> Outcome:
    limit = system.limit_of(call.query.get("limit"))
    return 200, call.server.engine.tx(system.activity_timeout_status, limit)


async def activity_timeout_pass(call: Call) -> Outcome:
    return call.server.engine.tx(system.activity_timeout_pass, _body(call))


async def retention_status(call: Call) -> Outcome:
    limit = system.limit_of(call.query.get("limit"))
    return 200, call.server.engine.tx(system.retention_status, call.namespace, limit)


async def retention_pass(call: Call) -> Outcome:
    return call.server.engine.tx(system.retention_pass, call.namespace, _body(call))


SYSTEM_HANDLERS: dict[str, Handler] = {
    "system.metrics": metrics,
    "system.operator_metrics": operator_metrics,
    "system.repair.status": repair_status,
    "system.repair.pass": repair_pass,
    "system.activity_timeout.status": activity_timeout_status,
    "system.activity_timeout.pass": activity_timeout_pass,
    "system.retention.status": retention_status,
    "system.retention.pass": retention_pass,
}
