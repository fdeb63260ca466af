"""The UI's pages (GET): each reads through the engine's views and renders one template.

The reads are the ones the control-plane routes use (``run_views``,
``schedules``, ``task_queues``, ``worker_views``, ``namespaces``) plus
``run_details`` for what only the run page shows; none is written here again.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from starlette.responses import Response

from durable_workflow.server.engine import (
    namespaces,
    run_details,
    run_views,
    schedules,
    task_queues,
    worker_views,
)
from durable_workflow.server.engine.errors import EngineError
from durable_workflow.server.engine.runs import TERMINAL_STATUSES
from durable_workflow.server.ui import timeline
from durable_workflow.server.ui.actions import SCHEDULE_ACTIONS, WORKFLOW_ACTIONS
from durable_workflow.server.ui.app import Ctx
from durable_workflow.server.ui.payloads import show_blob, show_value
from durable_workflow.server.ui.render import url

PAGE_SIZE = 50
HISTORY_LIMIT = 2000
STATUSES = ("pending", "running", "waiting", *TERMINAL_STATUSES)
_FAILURE_EVENTS = {
    "WorkflowFailed",
    "ActivityFailed",
    "ActivityRetryScheduled",
    "ActivityTimedOut",
    "ChildRunFailed",
    "UpdateCompleted",
    "UpdateRejected",
}
_PAYLOAD_KEYS = ("arguments", "result", "output")


async def home(ctx: Ctx) -> Response:
    return ctx.redirect(url("/workflows", ns=ctx.namespace))


async def login(ctx: Ctx) -> Response:
    if not ctx.ui.sessions.auth_enabled:
        return ctx.redirect(url("/workflows"))
    return ctx.render("login.html", next=ctx.param("next"), error="")


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 1_000_000 else 1


def _attribute_filter(raw: str) -> tuple[dict[str, str] | None, str]:
    """``Key=Value`` as a filter, or an error message."""
    if not raw:
        return None, ""
    key, sep, value = raw.partition("=")
    key = key.strip()
    if not sep or not key or not key.replace("_", "").isalnum():
        return None, "Search attribute filters look like Key=Value."
    return {key: value.strip()}, ""


async def workflows(ctx: Ctx) -> Response:
    status, attribute = ctx.param("status"), ctx.param("sa")
    problems = []
    if status and status not in STATUSES:
        problems.append(f"Unknown status [{status}]; use one of {', '.join(STATUSES)}.")
        status = ""
    attributes, problem = _attribute_filter(attribute)
    if problem:
        problems.append(problem)
    number = _page_number(ctx.param("page"))
    engine = ctx.server.engine
    listing = engine.read(
        run_views.list_workflows,
        ctx.namespace,
        workflow_type=ctx.param("type") or None,
        status=None,
        query=None,
        page_size=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
        run_status=status or None,
        task_queue=ctx.param("queue") or None,
        id_prefix=ctx.param("prefix") or None,
        search_attributes=attributes,
    )
    filters = {
        "status": status,
        "type": ctx.param("type"),
        "queue": ctx.param("queue"),
        "prefix": ctx.param("prefix"),
        "sa": attribute,
    }
    return ctx.render(
        "workflows.html",
        listing=listing,
        facets=engine.read(run_views.list_facets, ctx.namespace),
        statuses=STATUSES,
        filters=filters,
        problems=problems,
        page=number,
        page_size=PAGE_SIZE,
        has_next=listing["next_page_token"] is not None,
    )


def _failure(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest failure recorded in the history, with its stack trace when one was sent."""
    for event in reversed(events):
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        if event["event_type"] not in _FAILURE_EVENTS:
            continue
        raw = payload.get("exception")
        exception: dict[str, Any] = raw if isinstance(raw, dict) else {}
        message = payload.get("message") or exception.get("message")
        if not message and not exception:
            continue
        trace = exception.get("stack_trace") or exception.get("trace") or ""
        if isinstance(trace, list):
            trace = "\n".join(str(line) for line in trace)
        return {
            "event": event,
            "source": payload.get("activity_type")
            or payload.get("child_workflow_type")
            or payload.get("update_name")
            or "workflow",
            "type": payload.get("exception_type") or exception.get("type") or "",
            "message": message or "",
            "trace": str(trace),
        }
    return None


def _with_payloads(events: list[dict[str, Any]], codec: str | None) -> list[dict[str, Any]]:
    """Each event plus ``shown``: its encoded arguments/result/output decoded for display."""
    out = []
    for event in events:
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        own = payload.get("payload_codec") or codec
        shown = {k: show_blob(own, payload[k]) for k in _PAYLOAD_KEYS if payload.get(k)}
        out.append({**event, "shown": shown})
    return out


async def workflow(ctx: Ctx) -> Response:
    workflow_id, run_id = ctx.param("id"), ctx.param("run")
    engine = ctx.server.engine
    try:
        details = engine.read(run_details.run_details, ctx.namespace, workflow_id, run_id or None)
        runs = engine.read(run_views.list_runs, ctx.namespace, workflow_id)["runs"]
    except EngineError as exc:
        return ctx.error(exc.status, "Not found", str(exc.body.get("message", "")))
    events, truncated = engine.read(run_details.history_events, details["run_id"], HISTORY_LIMIT)
    now = datetime.now(timezone.utc)
    is_open = not details["is_terminal"]
    actions = {name: ctx.can(op) for name, op in WORKFLOW_ACTIONS.items()}
    return ctx.render(
        "workflow.html",
        run=details,
        runs=runs,
        input=show_value(details["input_envelope"]),
        output=show_value(details["output_envelope"]),
        memo=show_value(details["memo"] or None),
        search_attributes=show_value(details["search_attributes"] or None),
        failure=_failure(events),
        timeline=timeline.build(events, now, is_open),
        events=_with_payloads(events, details["payload_codec"]),
        truncated=truncated,
        history_limit=HISTORY_LIMIT,
        # A closed run still answers queries; nothing else applies to it.
        actions={k: v and (is_open or k == "query") for k, v in actions.items()},
        live=is_open,
    )


async def schedules_page(ctx: Ctx) -> Response:
    listing = ctx.server.engine.read(schedules.list_schedules, ctx.namespace)
    actions = {name: ctx.can(op) for name, op in SCHEDULE_ACTIONS.items()}
    return ctx.render("schedules.html", schedules=listing["schedules"], actions=actions)


async def schedule(ctx: Ctx) -> Response:
    schedule_id = ctx.param("id")
    engine = ctx.server.engine
    try:
        info = engine.read(schedules.describe, ctx.namespace, schedule_id)
        history = engine.read(schedules.history, ctx.namespace, schedule_id, {"limit": "200"})
    except EngineError as exc:
        return ctx.error(exc.status, "Not found", str(exc.body.get("message", "")))
    actions = {name: ctx.can(op) for name, op in SCHEDULE_ACTIONS.items()}
    return ctx.render(
        "schedule.html",
        schedule=info,
        spec=show_value(info["spec"]),
        action=show_value(info["action"]),
        events=list(reversed(history["events"])),
        actions=actions,
    )


async def task_queues_page(ctx: Ctx) -> Response:
    server = ctx.server
    pending = server.query_broker.pending_counts(ctx.namespace)
    listing = server.engine.read(
        task_queues.list_queues, ctx.namespace, server.worker_stale_seconds, pending
    )
    return ctx.render("task_queues.html", queues=listing["task_queues"])


async def task_queue(ctx: Ctx) -> Response:
    server, name = ctx.server, ctx.param("name")
    pending = server.query_broker.pending_counts(ctx.namespace).get(name, 0)
    queue = server.engine.read(
        task_queues.describe, ctx.namespace, name, server.worker_stale_seconds, pending
    )
    return ctx.render("task_queue.html", queue=queue)


async def workers(ctx: Ctx) -> Response:
    server = ctx.server
    query = {"task_queue": ctx.param("queue")} if ctx.param("queue") else {}
    listing = server.engine.read(
        worker_views.list_workers, ctx.namespace, query, server.worker_stale_seconds
    )
    return ctx.render("workers.html", workers=listing["workers"], queue=ctx.param("queue"))


async def namespace_list(ctx: Ctx) -> Response:
    listing = ctx.server.engine.read(namespaces.list_namespaces)
    facets = {
        item["name"]: ctx.server.engine.read(run_views.list_facets, item["name"])
        for item in listing["namespaces"]
    }
    return ctx.render("namespaces.html", items=listing["namespaces"], facets=facets)
