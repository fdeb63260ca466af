"""Handlers of the worker-plane operations (worker-protocol.md §8-§11)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from durable_workflow.server.engine import (
    activities,
    activity_heartbeats,
    activity_outcomes,
    eager_workflow_tasks,
    timers,
    workers,
    workflow_tasks,
)
from durable_workflow.server.engine.errors import Outcome
from durable_workflow.server.http.compression import compress_history
from durable_workflow.server.matching.long_poll import ClientGone, long_poll
from durable_workflow.server.store.tx import Tx, queue_key

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call, Handler


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


async def register(call: Call) -> Outcome:
    return 201, call.server.engine.tx(workers.register, call.namespace, _body(call))


async def heartbeat(call: Call) -> Outcome:
    return 200, call.server.engine.tx(workers.heartbeat, call.namespace, _body(call))


async def workflow_task_poll(call: Call) -> Outcome:
    body = _body(call)
    server, engine = call.server, call.server.engine
    worker = engine.read(  # the registration is only read: no write lock per poll
        workers.poll_worker,
        call.namespace,
        body["worker_id"],
        body["task_queue"],
        body.get("build_id"),
    )
    page_size = body.get("history_page_size")
    queue = worker["task_queue"]

    async def poll() -> dict[str, Any] | None:
        return await long_poll(
            server.notifier,
            queue_key(call.namespace, queue),
            lambda: engine.tx(workflow_tasks.claim, engine.config, worker, page_size),
            lambda: engine.tx(timers.next_available_at, call.namespace, queue, "workflow"),
            engine.clock,
            server.config.poll_timeout,
            call.receive,
        )

    accept = body.get("accept_history_encoding")
    request_id = body.get("poll_request_id")
    try:
        if not request_id:
            task = await poll()
        else:
            key = (call.namespace, queue, worker["build_id"] or "", worker["worker_id"],
                   str(request_id))  # fmt: skip
            # A poll ended by ClientGone is not cached: a retry with the same id polls afresh.
            task = await server.poll_cache.run(
                key,
                poll,
                lambda delivered: engine.tx(
                    workflow_tasks.redeliver, engine.config, call.namespace, delivered, page_size
                ),
                server.config.poll_timeout,
            )
    except ClientGone:  # nobody reads this answer; nothing was leased
        return 200, {"task": None}
    return 200, {"task": None if task is None else compress_history(task, accept)}


async def workflow_task_history(call: Call) -> Outcome:
    body = _body(call)
    status, page = call.server.engine.tx(
        workflow_tasks.history,
        call.server.engine.config,
        call.namespace,
        call.path_params["taskId"],
        body,
    )
    if status == 200:
        page = compress_history(page, body.get("accept_history_encoding"))
    return status, page


async def workflow_task_heartbeat(call: Call) -> Outcome:
    return call.server.engine.tx(
        workflow_tasks.heartbeat,
        call.server.engine.config,
        call.namespace,
        call.path_params["taskId"],
        _body(call),
    )


def _closed_task(call: Call, outcome: Outcome) -> Outcome:
    """A recorded completion/failure ends the task: its poll-cache entry can go."""
    if outcome[0] == 200:
        call.server.poll_cache.forget_task(call.path_params["taskId"])
    return outcome


def _then_workflow_tasks(call: Call, record: Callable[[Tx], Outcome]) -> Outcome:
    """Record a task outcome; with ``workflow_task_slots`` also hand out workflow tasks.

    The ``eager_workflow_tasks`` extension (``engine.eager_workflow_tasks``): the
    tasks are claimed in the outcome's transaction and shaped as the poll shapes them.
    """
    body = _body(call)
    engine = call.server.engine
    status, answer = engine.tx(
        eager_workflow_tasks.record_then_claim, engine.config, call.namespace, body, record
    )
    tasks = answer.get(eager_workflow_tasks.WORKFLOW_TASKS)
    if isinstance(tasks, list) and tasks:
        accept = body.get("accept_history_encoding")
        tasks = [compress_history(task, accept) for task in tasks]
        answer = {**answer, eager_workflow_tasks.WORKFLOW_TASKS: tasks}
    return status, answer


async def workflow_task_complete(call: Call) -> Outcome:
    config, namespace, body = call.server.engine.config, call.namespace, _body(call)
    task_id = call.path_params["taskId"]
    return _closed_task(
        call,
        _then_workflow_tasks(
            call, lambda tx: workflow_tasks.complete(tx, config, namespace, task_id, body)
        ),
    )


async def workflow_task_fail(call: Call) -> Outcome:
    return _closed_task(
        call,
        call.server.engine.tx(
            workflow_tasks.fail, call.namespace, call.path_params["taskId"], _body(call)
        ),
    )


async def activity_poll(call: Call) -> Outcome:
    body = _body(call)
    server, engine = call.server, call.server.engine
    worker = engine.read(  # the registration is only read: no write lock per poll
        workers.poll_worker,
        call.namespace,
        body["worker_id"],
        body["task_queue"],
        body.get("build_id"),
    )
    queue = worker["task_queue"]
    try:
        task = await long_poll(
            server.notifier,
            queue_key(call.namespace, queue),
            lambda: engine.tx(activities.claim, engine.config, worker),
            lambda: engine.tx(timers.next_available_at, call.namespace, queue, "activity"),
            engine.clock,
            server.config.poll_timeout,
            call.receive,
        )
    except ClientGone:  # nobody reads this answer; nothing was leased
        return 200, {"task": None}
    return 200, {"task": task}


async def activity_complete(call: Call) -> Outcome:
    namespace, task_id, body = call.namespace, call.path_params["taskId"], _body(call)
    return _then_workflow_tasks(
        call, lambda tx: activity_outcomes.complete(tx, namespace, task_id, body)
    )


async def activity_fail(call: Call) -> Outcome:
    namespace, task_id, body = call.namespace, call.path_params["taskId"], _body(call)
    return _then_workflow_tasks(
        call, lambda tx: activity_outcomes.fail(tx, namespace, task_id, body)
    )


async def activity_heartbeat(call: Call) -> Outcome:
    return call.server.engine.tx(
        activity_heartbeats.heartbeat,
        call.server.engine.config,
        call.namespace,
        call.path_params["taskId"],
        _body(call),
    )


WORKER_HANDLERS: dict[str, Handler] = {
    "worker.register": register,
    "worker.heartbeat": heartbeat,
    "workflow-task.poll": workflow_task_poll,
    "workflow-task.history": workflow_task_history,
    "workflow-task.heartbeat": workflow_task_heartbeat,
    "workflow-task.complete": workflow_task_complete,
    "workflow-task.fail": workflow_task_fail,
    "activity.poll": activity_poll,
    "activity.complete": activity_complete,
    "activity.fail": activity_fail,
    "activity.heartbeat": activity_heartbeat,
}
