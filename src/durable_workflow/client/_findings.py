"""Why a workflow is not finishing, in words: the server's debug findings, for errors and the CLI.

A newcomer's stuck workflow is usually a type no worker registered, an activity
no worker has, or a workflow task that fails on every attempt. The server's
``…/debug`` view knows each (the dev server reports all three; other servers
what they can); these helpers turn it into sentences for a ``get_result``
timeout and for the CLI, and check at start that some worker of the queue has
the workflow type. Every helper is best effort: a diagnosis must never be the
thing that fails.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from typing import TYPE_CHECKING, Any

from durable_workflow._transport._http import replaced_request

if TYPE_CHECKING:
    from durable_workflow.client._client import Client

__all__ = [
    "timeout_message",
    "unregistered_type_warning",
    "warn_if_unregistered",
    "workflow_findings",
]

logger = logging.getLogger("durable_workflow.client")

# How long a diagnosis may take before it is given up (it only decorates an error).
_DIAGNOSIS_SECONDS = 5.0
# How long a "no worker registered it (yet)" answer is reused before asking again.
_RECHECK_SECONDS = 5.0
# Per client: (namespace, task queue, workflow type) -> monotonic time until which the
# answer stands (forever once a worker registered the type): a burst of starts asks once.
_CHECKED: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, str], float]] = (
    weakref.WeakKeyDictionary()
)


async def workflow_findings(
    client: Client, workflow_id: str, run_id: str | None = None
) -> list[str]:
    """The server's findings for an open run, as sentences (empty when none or unknown)."""
    try:
        view = await asyncio.wait_for(
            client.debug_workflow(workflow_id, run_id=run_id), _DIAGNOSIS_SECONDS
        )
    except Exception as exc:  # a diagnosis must not hide the error it decorates
        logger.debug("debug view of %s unavailable: %s", workflow_id, exc)
        return []
    findings = view.get("findings") if isinstance(view, dict) else None
    if not isinstance(findings, list):
        return []
    return [
        str(item["message"])
        for item in findings
        if isinstance(item, dict) and isinstance(item.get("message"), str)
    ]


async def failure_message(client: Client, workflow_id: str, run_id: str) -> str | None:
    """The message a closed run failed with (its terminal event), for ``describe``."""
    from durable_workflow.client._history import terminal_outcome

    try:
        events = [e async for e in client.iter_history_events(workflow_id, run_id)]
    except Exception as exc:
        logger.debug("history of %s unavailable: %s", workflow_id, exc)
        return None
    outcome = terminal_outcome(events)
    if outcome is None or outcome.event_type == "WorkflowCompleted":
        return None
    payload = outcome.payload
    exception = payload.get("exception")
    for value in (
        payload.get("message"),
        payload.get("reason"),
        exception.get("message") if isinstance(exception, dict) else None,
    ):
        if isinstance(value, str) and value:
            return f"{outcome.event_type}: {value}"
    return None


async def timeout_message(
    client: Client, workflow_id: str, run_id: str | None, timeout: float, status: Any
) -> str:
    """``TimeoutError`` text for a run still open after ``timeout``: status, then findings."""
    message = f"workflow {workflow_id} did not finish within {timeout:g}s (last status: {status})"
    findings = await workflow_findings(client, workflow_id, run_id)
    if not findings:
        return message
    return message + ". Findings:\n" + "\n".join(f"  - {line}" for line in findings)


async def unregistered_type_warning(
    client: Client, workflow_type: str, task_queue: str
) -> str | None:
    """A warning when workers poll ``task_queue`` but none registered ``workflow_type``.

    No worker at all is not warned about: starting before the worker is normal.
    """
    if replaced_request(client._http):
        return None  # the caller's double answers only the requests upstream sends
    key = (client.namespace or "", task_queue, workflow_type)
    checked = _CHECKED.setdefault(client, {})
    if checked.get(key, 0.0) > time.monotonic():
        return None
    checked[key] = time.monotonic() + _RECHECK_SECONDS
    try:
        workers = await asyncio.wait_for(
            client.list_workers(task_queue=task_queue), _DIAGNOSIS_SECONDS
        )
    except Exception as exc:
        logger.debug("cannot list the workers of %s: %s", task_queue, exc)
        return None
    active = [
        w
        for w in workers.workers
        if (w.status or "active") == "active" and w.task_queue in (None, task_queue)
    ]
    if not active or any(not w.supported_workflow_types for w in active):
        return None  # none yet, or one that registered no list (it may take any type)
    registered = sorted({name for w in active for name in w.supported_workflow_types})
    if workflow_type in registered:
        checked[key] = math.inf
        return None
    names = ", ".join(repr(name) for name in registered) or "none"
    return (
        f"no worker polling task queue {task_queue!r} registers workflow type "
        f"{workflow_type!r} (registered there: {names}); the workflow waits until one does. "
        "Check workflow_type= against @workflow.defn(name=...) and the worker's task_queue="
    )


async def warn_if_unregistered(client: Client, workflow_type: str, task_queue: str) -> None:
    """Log :func:`unregistered_type_warning`'s warning, if any."""
    warning = await unregistered_type_warning(client, workflow_type, task_queue)
    if warning is not None:
        logger.warning("%s", warning)
