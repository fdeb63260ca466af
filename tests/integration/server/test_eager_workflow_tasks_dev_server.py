"""Eager workflow tasks (the dev server's ``eager_workflow_tasks`` extension), end to end.

A worker's workflow-task completions and activity outcomes lend it a free workflow
slot; the server answers with ready workflow tasks claimed for that worker, which
run as polled ones. Generation 1 advertises it; on generation 2 the wire is the
protocol's. A task whose answer was lost is recovered when its lease expires.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from hardening_server import running

from durable_workflow import activity, workflow
from durable_workflow.client import Client
from durable_workflow.server.config import ServerConfig
from durable_workflow.testing import DevServerHandle
from durable_workflow.worker import Worker

QUEUE = "it-eager-wf"


@activity.defn(name="eager-wf-double")
def double(value: int) -> int:
    return 2 * value


@workflow.defn(name="eager-wf-one-activity")
class OneActivity:
    def run(self, ctx: Any, value: int) -> Any:
        return (yield ctx.schedule_activity("eager-wf-double", [value]))


class Recorder(httpx.AsyncHTTPTransport):
    """The real transport, recording task outcomes and workflow polls (bodies and answers).

    With ``lose_one``, the first activity-completion answer that carries workflow tasks
    is dropped after the server applied it, as a broken connection would drop it.
    """

    def __init__(self, *, lose_one: bool = False) -> None:
        super().__init__()
        self.outcomes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.polled: list[dict[str, Any]] = []
        self.lose_one = lose_one
        self.lost: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        path = request.url.path
        outcome = path.endswith(("/complete", "/fail")) and "-tasks/" in path
        if not (outcome or path == "/api/worker/workflow-tasks/poll"):
            return response
        content = await response.aread()
        answer = json.loads(content) if content else {}
        if outcome:
            self.outcomes.append((path, json.loads(request.content), answer))
        elif isinstance(answer.get("task"), dict):
            self.polled.append(answer["task"])
        if self.lose_one and not self.lost and "/activity-tasks/" in path:
            self.lost.extend(answer.get("workflow_tasks") or [])
            if self.lost:
                raise httpx.ReadError("connection lost", request=request)
        decoded = ("content-encoding", "content-length")
        headers = {k: v for k, v in response.headers.items() if k.lower() not in decoded}
        return httpx.Response(response.status_code, headers=headers, content=content)


async def _run_all(client: Client, count: int, **options: Any) -> tuple[list[Any], Worker]:
    worker = Worker(
        client,
        task_queue=QUEUE,
        workflows=[OneActivity],
        activities=[double],
        poll_timeout=2.0,
        **options,
    )
    serving = asyncio.create_task(worker.run())
    try:
        handles = [
            await client.start_workflow(
                workflow_type="eager-wf-one-activity",
                task_queue=QUEUE,
                workflow_id=f"eager-wf-{uuid.uuid4().hex[:10]}",
                input=[n],
            )
            for n in range(count)
        ]
        results = await asyncio.gather(*(h.result(timeout=60) for h in handles))
    finally:
        await worker.stop()
        await serving
    return list(results), worker


async def test_many_workflows_run_with_tasks_handed_out_eagerly(
    gen_server: DevServerHandle,
) -> None:
    count = 20
    recorder = Recorder()
    async with Client(gen_server.url, token=gen_server.token, transport=recorder) as client:
        info = await client.get_cluster_info()
        results, worker = await _run_all(client, count)
    assert results == [2 * n for n in range(count)]
    completions = [o for o in recorder.outcomes if "/workflow-tasks/" in o[0]]
    assert len(completions) == 2 * count  # start -> activity, result -> close
    handed = [t for _, _, answer in recorder.outcomes for t in answer.get("workflow_tasks", [])]
    asked = [body for _, body, _ in recorder.outcomes if "workflow_task_slots" in body]
    if gen_server.generation == 1:
        assert "eager_workflow_tasks" in info["capabilities"]["extensions"]
        eager = worker.eager_workflow_tasks
        assert eager is not None and eager.dispatched == len(handed) > 0
        assert all(t["lease_owner"] == worker.worker_id for t in handed)
        assert all(body["workflow_task_slots"] == 1 for body in asked)
        # Every workflow task ran exactly once: delivered by a poll or in an answer.
        assert len(recorder.polled) + len(handed) == len(completions)
    else:
        assert "eager_workflow_tasks" not in info["capabilities"].get("extensions", [])
        assert worker.eager_workflow_tasks is None and asked == [] and handed == []
        assert len(recorder.polled) == len(completions)


async def test_a_task_whose_answer_was_lost_runs_after_its_lease_expires(tmp_path: Any) -> None:
    config = ServerConfig(db_path=tmp_path / "dev.sqlite", poll_timeout=1.0)
    config = ServerConfig(**{**config.__dict__, "workflow_lease_seconds": 2})
    recorder = Recorder(lose_one=True)
    with running(config) as (http, _):
        async with Client(str(http.base_url), transport=recorder) as client:
            results, worker = await _run_all(client, 3)
            assert results == [0, 2, 4]
            (lost,) = recorder.lost
            page = await client.get_history_page(lost["workflow_id"], lost["run_id"])
    assert page["events"][-1]["event_type"] == "WorkflowCompleted"
    # The lease taken for the lost answer expired, the task went back to ready and a
    # poll leased it again (its second attempt); nothing else ran it.
    again = [t for t in recorder.polled if t["task_id"] == lost["task_id"]]
    assert [t["workflow_task_attempt"] for t in again] == [lost["workflow_task_attempt"] + 1]
    assert worker.eager_workflow_tasks is not None
