"""Small drivers shared by the engine tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from durable_workflow.server.engine import runs, workers, workflow_tasks
from durable_workflow.server.engine.engine import Engine


def start(engine: Engine, workflow_id: str = "wf-1", **extra: Any) -> tuple[int, dict[str, Any]]:
    body = {
        "workflow_id": workflow_id,
        "workflow_type": "greeting",
        "task_queue": "q",
        "input": ["Ada"],
    }
    body.update(extra)
    return engine.tx(
        runs.start_workflow, "default", body, max_memo_bytes=engine.config.max_memo_bytes
    )


def worker(engine: Engine, worker_id: str = "w1", **extra: Any) -> dict[str, Any]:
    engine.tx(
        workers.register,
        "default",
        {"worker_id": worker_id, "task_queue": "q", "runtime": "python", **extra},
    )
    return engine.tx(workers.poll_worker, "default", worker_id, "q", None)


def complete(
    engine: Engine, task: dict[str, Any], *commands: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return engine.tx(
        workflow_tasks.complete,
        engine.config,
        "default",
        task["task_id"],
        {
            "lease_owner": task["lease_owner"],
            "workflow_task_attempt": task["workflow_task_attempt"],
            "commands": list(commands),
        },
    )


def owner(task: dict[str, Any]) -> dict[str, Any]:
    return {"activity_attempt_id": task["activity_attempt_id"], "lease_owner": task["lease_owner"]}


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 4, 25, 7, 0, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
