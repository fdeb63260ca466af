"""Handlers of the control-plane operations the dev server implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from durable_workflow.server.engine import (
    closing,
    debug_view,
    history_export,
    maintenance,
    namespaces,
    run_views,
    runs,
    signals,
    worker_views,
)
from durable_workflow.server.engine.debug_view import wants_payload
from durable_workflow.server.engine.errors import Outcome, ValidationFailed
from durable_workflow.server.engine.history import decode_token
from durable_workflow.server.matching.long_poll import long_poll
from durable_workflow.server.store.schema import SCHEMA_VERSION
from durable_workflow.server.store.timefmt import fmt_offset, utcnow
from durable_workflow.server.store.tx import run_key

# The history long poll's dev-server extension (``history_wait_for_close`` in
# ``capabilities.extensions``, generation 1): with ``wait_new_event=1`` the request is
# held until the run closes rather than until its next event, and the page carries the
# run's ``payload_codec``.
WAIT_FOR_CLOSE = "wait_for_close"

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call, Handler


async def health(call: Call) -> Outcome:
    ok = call.server.store.ping()
    return (200 if ok else 503), {
        "status": "serving" if ok else "degraded",
        "timestamp": fmt_offset(utcnow()),
        "checks": {"database": "ok" if ok else "unavailable"},
    }


async def ready(call: Call) -> Outcome:
    server = call.server
    checks: dict[str, Any] = {}
    try:
        checks["database"] = {"status": "ok" if server.store.ping() else "unavailable"}
        current = server.store.schema_version() == SCHEMA_VERSION
        checks["migrations"] = (
            {"status": "ok"} if current else {"status": "missing", "missing_tables": []}
        )
        default = server.config.default_namespace
        present = server.engine.namespace_exists(default)
        checks["default_namespace"] = {
            "status": "ok" if present else "missing",
            "namespace": default,
        }
    except Exception as exc:  # a broken database file must still answer 503
        checks["database"] = {"status": "unavailable", "message": str(exc)}
    checks["cache"] = {"status": "ok", "store": "memory"}
    checks["auth"] = {"status": "ok", "driver": "token" if server.config.auth_enabled else "none"}
    all_ok = all(c.get("status") == "ok" for c in checks.values())
    return (200 if all_ok else 503), {
        "status": "ready" if all_ok else "not_ready",
        "timestamp": fmt_offset(utcnow()),
        "checks": checks,
    }


async def info(call: Call) -> Outcome:
    fleet = call.server.engine.read(worker_views.fleet, call.namespace)
    return 200, call.server.profile.cluster_info(call.server.config, fleet)


async def namespace_list(call: Call) -> Outcome:
    return 200, call.server.engine.read(namespaces.list_namespaces)


async def namespace_describe(call: Call) -> Outcome:
    return 200, call.server.engine.read(namespaces.describe, call.path_params["namespace"])


async def namespace_create(call: Call) -> Outcome:
    return 201, call.server.engine.tx(namespaces.create, call.body or {})


async def namespace_update(call: Call) -> Outcome:
    return 200, call.server.engine.tx(
        namespaces.update, call.path_params["namespace"], call.body or {}
    )


async def workflow_start(call: Call) -> Outcome:
    engine = call.server.engine
    return engine.tx(
        runs.start_workflow,
        call.namespace,
        call.body or {},
        max_memo_bytes=engine.config.max_memo_bytes,
    )


async def workflow_list(call: Call) -> Outcome:
    query = call.query
    errors: dict[str, list[str]] = {}
    status = query.get("status")
    if status is not None and status not in ("running", "completed", "failed"):
        errors["status"] = ["The selected status is invalid; use running, completed or failed."]
    raw_size = query.get("page_size", "50")
    if not raw_size.strip().isdecimal() or not 1 <= int(raw_size) <= 200:
        errors["page_size"] = ["The page size field must be an integer between 1 and 200."]
    if errors:
        raise ValidationFailed(errors)
    return 200, call.server.engine.tx(
        run_views.list_workflows,
        call.namespace,
        workflow_type=query.get("workflow_type") or None,
        status=status,
        query=(query.get("query") or "").strip() or None,
        page_size=int(raw_size),
        offset=decode_token(query.get("next_page_token")) or 0,
    )


def _closer(kind: str) -> Handler:
    async def close(call: Call) -> Outcome:
        return call.server.engine.tx(
            closing.close_run,
            call.namespace,
            call.path_params["workflowId"],
            kind,
            call.body if isinstance(call.body, dict) else {},
            call.path_params.get("runId"),
        )

    return close


async def workflow_signal(call: Call) -> Outcome:
    params = call.path_params
    return call.server.engine.tx(
        signals.signal,
        call.namespace,
        params["workflowId"],
        params["signalName"],
        call.body if isinstance(call.body, dict) else {},
        params.get("runId"),
    )


async def workflow_repair(call: Call) -> Outcome:
    body = call.body if isinstance(call.body, dict) else {}
    return 200, call.server.engine.tx(
        maintenance.repair, call.namespace, call.path_params["workflowId"], body
    )


async def workflow_archive(call: Call) -> Outcome:
    body = call.body if isinstance(call.body, dict) else {}
    return 200, call.server.engine.tx(
        maintenance.archive, call.namespace, call.path_params["workflowId"], body
    )


async def workflow_describe(call: Call) -> Outcome:
    return 200, call.server.engine.tx(
        run_views.describe_workflow, call.namespace, call.path_params["workflowId"]
    )


async def workflow_list_runs(call: Call) -> Outcome:
    return 200, call.server.engine.tx(
        run_views.list_runs, call.namespace, call.path_params["workflowId"]
    )


async def workflow_show_run(call: Call) -> Outcome:
    params = call.path_params
    return 200, call.server.engine.tx(
        run_views.describe_run, call.namespace, params["workflowId"], params["runId"]
    )


def _history_query(query: dict[str, str]) -> tuple[int | None, bool, bool]:
    errors: dict[str, list[str]] = {}
    size: int | None = None
    raw_size = query.get("page_size")
    if raw_size is not None:
        if not raw_size.strip().isdecimal() or not 1 <= int(raw_size) <= 1000:
            errors["page_size"] = ["The page size field must be an integer between 1 and 1000."]
        else:
            size = int(raw_size)
    wait = query.get("wait_new_event")
    if wait is not None and wait not in ("0", "1"):
        errors["wait_new_event"] = ["The wait new event field must be true or false."]
    until_closed = query.get(WAIT_FOR_CLOSE)
    if until_closed is not None and until_closed not in ("0", "1"):
        errors[WAIT_FOR_CLOSE] = ["The wait for close field must be true or false."]
    if errors:
        raise ValidationFailed(errors)
    return size, wait == "1", until_closed == "1"


async def workflow_history(call: Call) -> Outcome:
    size, wait, until_closed = _history_query(call.query)
    until_closed = until_closed and call.server.profile.generation == 1
    engine = call.server.engine
    params = call.path_params
    token = call.query.get("next_page_token")

    def read() -> dict[str, Any]:
        # A read transaction: a history page writes nothing, so it takes no write lock.
        return engine.read(
            run_views.history_page,
            engine.config,
            call.namespace,
            params["workflowId"],
            params["runId"],
            page_size=size,
            page_token=token,
        )

    page = read()
    run_id = params["runId"]
    if wait and until_closed and not engine.read(run_views.run_closed, run_id):
        # The extension: hold until the run closes, then answer all after the token.
        found = await long_poll(
            call.server.notifier,
            run_key(run_id),
            lambda: read() if engine.read(run_views.run_closed, run_id) else None,
            lambda: None,
            engine.clock,
            call.server.config.poll_timeout,
        )
        page = found or read()
    if until_closed:
        # The run's codec comes along, so a bare output blob needs no describe after it.
        page = {**page, "payload_codec": engine.read(run_views.run_payload_codec, run_id)}
    elif wait and not page["events"]:
        after = decode_token(token) or 0

        def probe() -> dict[str, Any] | None:
            return read() if engine.read(run_views.last_sequence, run_id) > after else None

        found = await long_poll(
            call.server.notifier,
            run_key(run_id),
            probe,
            lambda: None,
            engine.clock,
            call.server.config.poll_timeout,
        )
        page = found or page
    return 200, page


async def workflow_history_export(call: Call) -> Outcome:
    params = call.path_params
    config = call.server.config
    return 200, call.server.engine.tx(
        history_export.export_bundle,
        call.namespace,
        params["workflowId"],
        params["runId"],
        signing_key=config.export_signing_key,
        key_id=config.export_signing_key_id,
    )


async def workflow_debug(call: Call) -> Outcome:
    params = call.path_params
    return 200, call.server.engine.tx(
        debug_view.debug,
        call.namespace,
        params["workflowId"],
        params.get("runId"),
        wants_payload(call.query.get("include_last_event_payload")),
    )


CONTROL_HANDLERS: dict[str, Handler] = {
    "workflow.debug": workflow_debug,
    "workflow.debug_run": workflow_debug,
    "workflow.history_export": workflow_history_export,
    "health.check": health,
    "health.ready": ready,
    "cluster.info": info,
    "namespace.list": namespace_list,
    "namespace.describe": namespace_describe,
    "namespace.create": namespace_create,
    "namespace.update": namespace_update,
    "workflow.list": workflow_list,
    "workflow.start": workflow_start,
    "workflow.describe": workflow_describe,
    "workflow.list_runs": workflow_list_runs,
    "workflow.show_run": workflow_show_run,
    "workflow.history": workflow_history,
    "workflow.signal": workflow_signal,
    "workflow.signal_run": workflow_signal,
    "workflow.cancel": _closer("cancel"),
    "workflow.cancel_run": _closer("cancel"),
    "workflow.terminate": _closer("terminate"),
    "workflow.terminate_run": _closer("terminate"),
    "workflow.repair": workflow_repair,
    "workflow.archive": workflow_archive,
}
