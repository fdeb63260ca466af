"""Handlers of the schedule endpoints (control-plane.md §9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from durable_workflow.server.engine import schedules
from durable_workflow.server.engine.errors import Outcome

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call, Handler


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


def _id(call: Call) -> str:
    return call.path_params["scheduleId"]


async def schedule_list(call: Call) -> Outcome:
    return 200, call.server.engine.tx(schedules.list_schedules, call.namespace)


async def schedule_create(call: Call) -> Outcome:
    return 201, call.server.engine.tx(schedules.create, call.namespace, _body(call))


async def schedule_describe(call: Call) -> Outcome:
    return 200, call.server.engine.tx(schedules.describe, call.namespace, _id(call))


async def schedule_update(call: Call) -> Outcome:
    return 200, call.server.engine.tx(schedules.update, call.namespace, _id(call), _body(call))


async def schedule_delete(call: Call) -> Outcome:
    return 200, call.server.engine.tx(schedules.delete, call.namespace, _id(call))


def _status(status: str) -> Handler:
    async def change(call: Call) -> Outcome:
        return 200, call.server.engine.tx(
            schedules.pause_or_resume, call.namespace, _id(call), _body(call), status
        )

    return change


async def schedule_trigger(call: Call) -> Outcome:
    result = call.server.engine.tx(schedules.trigger_now, call.namespace, _id(call), _body(call))
    return (500 if result["outcome"] == "trigger_failed" else 200), result


async def schedule_backfill(call: Call) -> Outcome:
    return 200, call.server.engine.tx(schedules.backfill, call.namespace, _id(call), _body(call))


async def schedule_history(call: Call) -> Outcome:
    return 200, call.server.engine.tx(schedules.history, call.namespace, _id(call), call.query)


SCHEDULE_HANDLERS: dict[str, Handler] = {
    "schedule.list": schedule_list,
    "schedule.create": schedule_create,
    "schedule.describe": schedule_describe,
    "schedule.update": schedule_update,
    "schedule.delete": schedule_delete,
    "schedule.pause": _status("paused"),
    "schedule.resume": _status("active"),
    "schedule.trigger": schedule_trigger,
    "schedule.backfill": schedule_backfill,
    "schedule.history": schedule_history,
}
