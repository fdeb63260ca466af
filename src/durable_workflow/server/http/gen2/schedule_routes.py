"""2.x schedule list and delete: a bounded, filtered page and ``204 No Content``.

The 2.x ``ScheduleListEnvelope`` is a page (``page_size`` 1..200, default 50) with
``schedule_count`` and an opaque ``next_page_token`` bound to its filters, each item
naming its namespace and creation time; ``status`` and ``workflow_type`` filter
exactly. The rows come from the same engine call as generation 1.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from durable_workflow.server.engine import schedules
from durable_workflow.server.engine.errors import Outcome
from durable_workflow.server.http.schedule_routes import SCHEDULE_HANDLERS

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _token(offset: int, filters: dict[str, Any]) -> str:
    raw = json.dumps({"offset": offset, "filters": filters}, sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _list_error(status: int, reason: str, field: str, message: str) -> Outcome:
    return status, {
        "message": message, "reason": reason, "field": field,
        "errors": {field: [message]}, "validation_errors": {field: [message]},
        "last_safe_cursor": None,
    }  # fmt: skip


def _page_size(raw: str | None) -> int | None:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        return None
    return int(raw)


async def schedule_list(call: Call) -> Outcome:
    query = call.query
    filters = {k: query[k] for k in ("status", "workflow_type") if query.get(k)}
    size = _page_size(query.get("page_size"))
    if size is None:
        message = f"The page_size must be an integer from 1 to {MAX_PAGE_SIZE}."
        return _list_error(422, "validation_failed", "page_size", message)
    offset = 0
    token = query.get("next_page_token")
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            offset = int(decoded["offset"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return _list_error(400, "malformed_schedule_page_token", "next_page_token",
                               "The next_page_token is malformed.")  # fmt: skip
        if decoded.get("filters") != filters:
            return _list_error(409, "schedule_page_token_filter_mismatch", "next_page_token",
                               "The next_page_token was issued for other filters.")  # fmt: skip
    engine = call.server.engine
    listed = engine.read(schedules.list_schedules, call.namespace)
    created = engine.read(schedules.created_times, call.namespace)
    items = [
        {**item, "namespace": call.namespace, "created_at": created[item["schedule_id"]]}
        for item in listed["schedules"]
        if all(str(item.get(key)) == value for key, value in filters.items())
    ]
    page = items[offset : offset + size]
    more = offset + size < len(items)
    return 200, {
        "namespace": call.namespace,
        "schedules": page,
        "schedule_count": len(page),
        "next_page_token": _token(offset + size, filters) if more else None,
    }


async def schedule_delete(call: Call) -> Outcome:
    status, body = await SCHEDULE_HANDLERS["schedule.delete"](call)
    return (204, {}) if status == 200 else (status, body)
