"""Query handlers: the blocking control-plane query and the worker's query-task endpoints.

control-plane.md §7.9 and worker-protocol.md §10: the caller's request parks
on the query task's future until a worker completes or fails it, or the
query timeout passes (504 ``query_worker_timeout``).
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from durable_workflow.server.engine import query_targets, workers
from durable_workflow.server.engine.errors import Outcome, ValidationFailed
from durable_workflow.server.engine.external_payloads import verify_reference
from durable_workflow.server.engine.payload_codec import envelope_from_marker, is_external_envelope
from durable_workflow.server.engine.signals import validate_name
from durable_workflow.server.matching.long_poll import ClientGone, long_poll
from durable_workflow.server.matching.queries import query_queue_key
from durable_workflow.server.store.timefmt import fmt_z

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call, Handler


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


def _recent_pollers(call: Call) -> set[str]:
    horizon = time.monotonic() - call.server.worker_stale_seconds
    return {
        worker_id
        for (namespace, worker_id), seen in call.server.recent_pollers.items()
        if namespace == call.namespace and seen >= horizon
    }


async def _await_answer(
    call: Call, answer: asyncio.Future[dict[str, Any]]
) -> dict[str, Any] | None:
    """The worker's outcome, or None at the query timeout or server shutdown."""
    notifier = call.server.notifier
    key = ("query-caller", str(id(answer)))
    released = notifier.subscribe(key)
    waiter: asyncio.Future[Any] = asyncio.ensure_future(released.wait())
    pending: set[asyncio.Future[Any]] = {answer, waiter}
    try:
        await asyncio.wait(
            pending,
            timeout=call.server.config.query_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        waiter.cancel()
        notifier.unsubscribe(key, released)
    return answer.result() if answer.done() else None


async def workflow_query(call: Call) -> Outcome:
    params = call.path_params
    name = params["queryName"]
    validate_name(name, "query_name")
    server = call.server
    requested = params.get("runId")
    fresh_after = fmt_z(server.engine.clock() - timedelta(seconds=server.worker_stale_seconds))
    run, fields = server.engine.tx(
        query_targets.query_target,
        call.namespace,
        params["workflowId"],
        requested,
        name,
        _body(call).get("input"),
        fresh_after,
        _recent_pollers(call),
    )
    base: dict[str, Any] = {
        "workflow_id": run["workflow_id"],
        "run_id": requested or run["run_id"],
        "target_scope": "run" if requested else "instance",
        "query_name": name,
        "result": None,
    }
    if fields is None:
        return 404, {
            **base,
            "reason": "query_not_found",
            "message": f"Query [{name}] is not declared and no worker can answer it.",
        }
    queue = run["task_queue"] or "default"
    task = server.query_broker.enqueue(call.namespace, queue, run["workflow_type"], fields)
    server.notifier.notify({query_queue_key(call.namespace, queue)})
    outcome = await _await_answer(call, task.outcome)
    if outcome is None:
        server.query_broker.time_out(task)
        return 504, {
            **base,
            "reason": "query_worker_timeout",
            "message": "No worker answered the query in time.",
        }
    if outcome["outcome"] == "completed":
        return 200, {
            **base,
            "result": outcome.get("result"),
            "result_envelope": outcome.get("result_envelope"),
            "reason": None,
        }
    reason = str(outcome["reason"])
    return (404 if reason == "rejected_unknown_query" else 409), {
        **base,
        "reason": reason,
        "message": outcome["message"],
    }


async def query_task_poll(call: Call) -> Outcome:
    body = _body(call)
    server, engine = call.server, call.server.engine
    worker = engine.tx(
        workers.poll_worker, call.namespace, body["worker_id"], body["task_queue"], None
    )
    queue = worker["task_queue"]
    server.recent_pollers[(call.namespace, worker["worker_id"])] = time.monotonic()
    try:
        task = await long_poll(
            server.notifier,
            query_queue_key(call.namespace, queue),
            lambda: server.query_broker.claim(
                call.namespace,
                queue,
                worker["worker_id"],
                worker["supported_workflow_types"],
                engine.clock(),
            ),
            lambda: None,
            engine.clock,
            server.config.poll_timeout,
            call.receive,
        )
    except ClientGone:
        task = None  # the client left: the query task stays pending for the next poller
    return 200, {"task": task}


def _owner(body: dict[str, Any]) -> tuple[str, int]:
    errors: dict[str, list[str]] = {}
    owner = body.get("lease_owner")
    attempt = body.get("query_task_attempt")
    if not isinstance(owner, str) or not owner:
        errors["lease_owner"] = ["The lease owner field is required."]
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
        errors["query_task_attempt"] = [
            "The query task attempt field is required and must be an integer of at least 1."
        ]
    if errors:
        raise ValidationFailed(errors)
    return str(owner), int(attempt)  # type: ignore[arg-type]


async def query_task_complete(call: Call) -> Outcome:
    body = _body(call)
    owner, attempt = _owner(body)
    envelope = body.get("result_envelope")
    if is_external_envelope(envelope):
        # Verified through the namespace driver, then handed to the caller as the reference.
        marker = call.server.engine.tx(
            verify_reference, call.namespace, "result_envelope", envelope
        )
        envelope = envelope_from_marker(marker)
    elif envelope is not None:
        errors: dict[str, list[str]] = {}
        if not isinstance(envelope, dict):
            errors["result_envelope"] = ["The result envelope field must be an object."]
        else:
            codec, blob = envelope.get("codec"), envelope.get("blob")
            if not isinstance(codec, str) or not codec or len(codec) > 64:
                errors["result_envelope.codec"] = ["The result envelope codec field is required."]
            if not isinstance(blob, str):
                errors["result_envelope.blob"] = ["The result envelope blob field is required."]
        if errors:
            raise ValidationFailed(errors)
    outcome = {"outcome": "completed", "result": body.get("result"), "result_envelope": envelope}
    return call.server.query_broker.settle(
        call.namespace,
        call.path_params["queryTaskId"],
        owner,
        attempt,
        call.server.engine.clock(),
        outcome,
    )


async def query_task_fail(call: Call) -> Outcome:
    body = _body(call)
    owner, attempt = _owner(body)
    failure = body.get("failure")
    message = failure.get("message") if isinstance(failure, dict) else None
    if not isinstance(message, str) or not message:
        raise ValidationFailed({"failure.message": ["The failure.message field is required."]})
    assert isinstance(failure, dict)
    reason = failure.get("reason")
    outcome = {
        "outcome": "failed",
        "reason": reason if isinstance(reason, str) and reason else "query_rejected",
        "message": message,
    }
    return call.server.query_broker.settle(
        call.namespace,
        call.path_params["queryTaskId"],
        owner,
        attempt,
        call.server.engine.clock(),
        outcome,
    )


QUERY_HANDLERS: dict[str, Handler] = {
    "workflow.query": workflow_query,
    "workflow.query_run": workflow_query,
    "query-task.poll": query_task_poll,
    "query-task.complete": query_task_complete,
    "query-task.fail": query_task_fail,
}
