"""The control-plane update call, waiting per ``wait_for`` (control-plane.md §7.10).

With ``wait_for: completed`` the request parks on the run's history wake-up
(no fixed 50 ms polling) until the update closes or the wait timeout passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from durable_workflow.server.engine import updates
from durable_workflow.server.engine.errors import Outcome
from durable_workflow.server.matching.long_poll import long_poll
from durable_workflow.server.store.tx import run_key

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call, Handler


async def workflow_update(call: Call) -> Outcome:
    return await submit_and_wait(call)


async def submit_and_wait(call: Call, update_id: str | None = None) -> Outcome:
    """Accept the update (with ``update_id`` when already assigned) and wait per ``wait_for``."""
    params = call.path_params
    body = call.body if isinstance(call.body, dict) else {}
    engine, server = call.server.engine, call.server
    requested = params.get("runId")
    status, out, update_id = engine.tx(
        updates.submit,
        server.config,
        call.namespace,
        params["workflowId"],
        params["updateName"],
        body,
        requested,
        update_id,
    )
    if update_id is None:
        return status, out
    wait_for = str(body.get("wait_for") or "accepted")
    timeout = body.get("wait_timeout_seconds")
    if wait_for == "completed":
        run_id = out["run_id"]
        seconds = float(timeout) if isinstance(timeout, int) else server.config.update_wait_seconds
        seconds = min(seconds, server.config.update_wait_max_seconds)

        def closed() -> bool | None:
            return True if engine.read(updates.status, update_id) != "accepted" else None

        await long_poll(
            server.notifier, run_key(run_id), closed, lambda: None, engine.clock, seconds
        )
    return engine.tx(updates.view, update_id, requested, wait_for, timeout)


UPDATE_HANDLERS: dict[str, Handler] = {
    "workflow.update": workflow_update,
    "workflow.update_run": workflow_update,
}
