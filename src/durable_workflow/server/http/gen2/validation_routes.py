"""2.x synchronous update validation: the control-plane update and the worker endpoints.

An update whose name has a declared validator (``engine.update_validation``) is
accepted only after a worker approves its validation task: the caller's request
waits on the task, then the ordinary update path runs with the update id the task
announced. A rejection is a 422 ``update_validator_rejected`` and leaves no trace;
no worker taking the task in time is a 504 ``update_validation_task_not_claimed``,
one that took it and did not answer ``update_validation_execution_timeout``.
Workers take tasks from the dedicated poll or the multiplexed workflow-task poll
(``task_kinds``); a ``poll_request_id`` stays bound to the kind set it first named.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from durable_workflow.server.engine import timers, update_validation, workers, workflow_tasks
from durable_workflow.server.engine.errors import Outcome
from durable_workflow.server.engine.signals import validate_name
from durable_workflow.server.http import update_routes, worker_routes
from durable_workflow.server.http.compression import compress_history
from durable_workflow.server.matching.long_poll import ClientGone, long_poll
from durable_workflow.server.matching.update_validations import validation_queue_key
from durable_workflow.server.store.timefmt import fmt_z
from durable_workflow.server.store.tx import queue_key
from durable_workflow.server.store.ulid import new_ulid

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call

TASK_KINDS = ("workflow", "update_validation")


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


async def workflow_update(call: Call) -> Outcome:
    params = call.path_params
    name = params["updateName"]
    validate_name(name, "update_name")
    server, engine = call.server, call.server.engine
    body = _body(call)
    fresh_after = fmt_z(engine.clock() - timedelta(seconds=server.worker_stale_seconds))
    run, fields = engine.tx(
        update_validation.validation_target,
        call.namespace,
        params["workflowId"],
        params.get("runId"),
        name,
        body.get("input"),
        fresh_after,
    )
    if fields is None:
        return await update_routes.submit_and_wait(call)
    queue = run["task_queue"] or "default"
    update_id = new_ulid()
    task = server.validations.enqueue(
        call.namespace, queue, run["workflow_type"], update_id, fields
    )
    server.notifier.notify(
        {queue_key(call.namespace, queue), validation_queue_key(call.namespace, queue)}
    )
    try:
        outcome = await asyncio.wait_for(asyncio.shield(task.outcome), server.config.query_timeout)
    except asyncio.TimeoutError:
        server.validations.abandon(task)
        claimed = task.attempt > 0
        reason = (
            "update_validation_execution_timeout"
            if claimed
            else "update_validation_task_not_claimed"
        )
        return 504, {
            "message": "The update validator did not answer in time."
            if claimed
            else "No worker took the update validation task in time.",
            "reason": reason,
            "workflow_id": run["workflow_id"],
            "run_id": run["run_id"],
            "update_name": name,
            "update_id": update_id,
            "retryable": True,
        }
    if outcome["outcome"] == "approved":
        return await update_routes.submit_and_wait(call, update_id)
    failure = outcome.get("failure") or {}
    reason = failure.get("reason") or "update_validator_rejected"
    status = 422 if reason == "update_validator_rejected" else 409
    return status, {
        "message": str(failure.get("message") or "The update validator rejected the update."),
        "reason": reason,
        "workflow_id": run["workflow_id"],
        "run_id": run["run_id"],
        "update_name": name,
        "update_id": update_id,
        "update_status": "rejected",
        "validation_errors": failure.get("validation_errors") or {},
        "failure_type": failure.get("type"),
    }


def _settle(call: Call, outcome: dict[str, Any]) -> Outcome:
    body = _body(call)
    return call.server.validations.settle(
        call.namespace,
        call.path_params["taskId"],
        str(body.get("lease_owner")),
        int(body.get("update_validation_attempt") or 0),
        call.server.engine.clock(),
        outcome,
    )


async def approve(call: Call) -> Outcome:
    return _settle(call, {"outcome": "approved"})


async def reject(call: Call) -> Outcome:
    failure = _body(call).get("failure") or {}
    worker_failed = failure.get("reason") not in (None, "update_validator_rejected")
    return _settle(
        call,
        {
            "outcome": "failed" if worker_failed else "rejected",
            "reason": failure.get("reason") or "update_validator_rejected",
            "failure": failure,
        },
    )


async def validation_poll(call: Call) -> Outcome:
    body = _body(call)
    server, engine = call.server, call.server.engine
    worker = engine.tx(
        workers.poll_worker, call.namespace, body["worker_id"], body["task_queue"], None
    )
    queue = worker["task_queue"]
    try:
        task = await long_poll(
            server.notifier,
            validation_queue_key(call.namespace, queue),
            lambda: server.validations.claim(
                call.namespace,
                queue,
                worker["worker_id"],
                worker["supported_workflow_types"],
                engine.clock(),
            ),
            lambda: None,
            engine.clock,
            _timeout(call),
            call.receive,
        )
    except ClientGone:
        return 200, {"task": None, "poll_status": "timeout"}
    if task is None:
        return 200, {"task": None, "poll_status": "timeout"}
    return 200, {"task": task, "poll_status": "leased"}


def _timeout(call: Call) -> float:
    asked = _body(call).get("timeout_seconds")
    limit = call.server.config.poll_timeout
    return min(float(asked), limit) if isinstance(asked, int) and asked >= 0 else limit


def _kinds(body: dict[str, Any]) -> tuple[str, ...]:
    raw = body.get("task_kinds") or ["workflow"]
    return tuple(kind for kind in TASK_KINDS if kind in raw)


async def workflow_task_poll(call: Call) -> Outcome:
    """The multiplexed poll: workflow tasks, and validation tasks when ``task_kinds`` asks."""
    body = _body(call)
    kinds = _kinds(body)
    request_id = body.get("poll_request_id")
    if request_id:
        binding = (call.namespace, str(body.get("worker_id")), str(request_id))
        bound = call.server.validations.bind_poll(binding, kinds)
        if bound is not None:
            return 409, {
                "task": None,
                "poll_status": "conflict",
                "reason": "poll_request_task_kinds_conflict",
                "error": "The poll_request_id is bound to another task_kinds set.",
                "poll_request_id": str(request_id),
                "requested_task_kinds": list(kinds),
                "bound_task_kinds": list(bound),
            }
    if "update_validation" not in kinds:
        status, answer = await worker_routes.workflow_task_poll(call)
        return _discriminated(status, answer)
    if not call.server.engine.read(_declares_validators, call.namespace, str(body["worker_id"])):
        return 409, {
            "task": None,
            "poll_status": "unsupported",
            "reason": "update_validation_capability_not_advertised",
            "error": "This worker did not register the update_validation_tasks capability.",
        }
    return await _multiplexed(call, body, kinds)


def _declares_validators(tx: Any, namespace: str, worker_id: str) -> bool:
    from durable_workflow.server.engine.worker_registrations import protocol_registration

    found = protocol_registration(tx, namespace, worker_id).get("capabilities") or []
    return "update_validation_tasks" in found


def _discriminated(status: int, answer: dict[str, Any]) -> Outcome:
    task = answer.get("task")
    if status != 200:
        return status, answer
    if isinstance(task, dict):
        kind = task.get("task_kind") or "workflow"
        return status, {**answer, "task": {**task, "task_kind": kind}, "poll_status": "leased"}
    return status, {**answer, "poll_status": "timeout"}


async def _multiplexed(call: Call, body: dict[str, Any], kinds: tuple[str, ...]) -> Outcome:
    server, engine = call.server, call.server.engine
    worker = engine.tx(
        workers.poll_worker, call.namespace, body["worker_id"], body["task_queue"],
        body.get("build_id"),
    )  # fmt: skip
    page_size = body.get("history_page_size")
    queue = worker["task_queue"]

    def probe() -> dict[str, Any] | None:
        validation = server.validations.claim(
            call.namespace, queue, worker["worker_id"], worker["supported_workflow_types"],
            engine.clock(),
        )  # fmt: skip
        if validation is not None or "workflow" not in kinds:
            return validation
        claimed: dict[str, Any] | None = engine.tx(
            workflow_tasks.claim, engine.config, worker, page_size
        )
        return claimed

    async def poll() -> dict[str, Any] | None:
        return await long_poll(
            server.notifier,
            queue_key(call.namespace, queue),
            probe,
            lambda: engine.tx(timers.next_available_at, call.namespace, queue, "workflow"),
            engine.clock,
            server.config.poll_timeout,
            call.receive,
        )

    def still_valid(delivered: dict[str, Any]) -> dict[str, Any] | None:
        if delivered.get("task_kind") == "update_validation":
            return server.validations.still_leased(
                str(delivered["update_validation_task_id"]), str(delivered["lease_owner"]),
                int(delivered["update_validation_attempt"]), engine.clock(),
            )  # fmt: skip
        found: dict[str, Any] | None = engine.tx(
            workflow_tasks.redeliver, engine.config, call.namespace, delivered, page_size
        )
        return found

    request_id = body.get("poll_request_id")
    try:
        if not request_id:
            task = await poll()
        else:
            key = (call.namespace, queue, worker["build_id"] or "", worker["worker_id"],
                   str(request_id))  # fmt: skip
            task = await server.poll_cache.run(key, poll, still_valid, server.config.poll_timeout)
    except ClientGone:
        return 200, {"task": None, "poll_status": "timeout"}
    if task is not None and task.get("task_kind") != "update_validation":
        task = compress_history(task, body.get("accept_history_encoding"))
    return _discriminated(200, {"task": task})
