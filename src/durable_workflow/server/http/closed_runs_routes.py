"""``POST /api/dev/closed-runs``: the dev server's multiplexed wait for closed runs.

Generation 1's ``closed_runs_wait`` extension (docs/compat.md): one request names
up to :data:`~durable_workflow._dev_operations.CLOSED_RUNS_MAX` runs and answers
those that have closed, each with its terminal event, so a client waiting for many
results holds a few requests instead of one per run. With ``wait`` it is held until
one of them closes (their terminal events wake it, not every event), the poll
timeout, the client's disconnect or the server's shutdown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from durable_workflow._dev_operations import CLOSED_RUNS_MAX
from durable_workflow.server.engine import run_views
from durable_workflow.server.engine.errors import Outcome, ValidationFailed
from durable_workflow.server.matching.long_poll import ClientGone, long_poll
from durable_workflow.server.store.tx import closed_key

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Call


_IDS = ("workflow_id", "run_id")


def _request(body: Any) -> tuple[dict[str, str], bool]:
    """The runs (run id -> workflow id, in order) and ``wait``; 422 naming a bad field."""
    if not isinstance(body, dict):
        raise ValidationFailed({"runs": ["The runs field is required."]})
    errors: dict[str, list[str]] = {}
    runs: dict[str, str] = {}
    listed = body.get("runs")
    if not isinstance(listed, list) or not 1 <= len(listed) <= CLOSED_RUNS_MAX:
        errors["runs"] = [f"The runs field must be a list of 1 to {CLOSED_RUNS_MAX} runs."]
    else:
        for index, run in enumerate(listed):
            ids = [run.get(name) if isinstance(run, dict) else None for name in _IDS]
            for name, value in zip(_IDS, ids, strict=True):
                if not isinstance(value, str) or not value:
                    field = name.replace("_", " ")
                    errors[f"runs.{index}.{name}"] = [
                        f"The {field} field must be a non-empty string."
                    ]
            workflow_id, run_id = ids
            if isinstance(workflow_id, str) and isinstance(run_id, str):
                runs[run_id] = workflow_id
    wait = body.get("wait", False)
    if not isinstance(wait, bool):
        errors["wait"] = ["The wait field must be true or false."]
    if errors:
        raise ValidationFailed(errors)
    return runs, wait


async def closed_runs(call: Call) -> Outcome:
    runs, wait = _request(call.body)
    engine = call.server.engine

    def probe() -> dict[str, Any] | None:
        found = engine.read(run_views.closed_runs, call.namespace, runs)
        return found if found["closed"] or found["unknown"] else None

    if not wait:
        found = probe()
    else:  # the poll probes first: held only while none has closed (and all are known)
        try:
            found = await long_poll(
                call.server.notifier,
                [closed_key(run_id) for run_id in runs],
                probe,
                lambda: None,
                engine.clock,
                call.server.config.poll_timeout,
                call.receive,
            )
        except ClientGone:  # nobody reads this answer
            found = None
    return 200, found or {"closed": [], "unknown": []}
