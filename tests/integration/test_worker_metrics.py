"""The worker metric set beyond upstream's six, against the real dev server.

Schedule-to-start latency (workflow and activity tasks), failures by type,
sticky-cache hits and misses, and payload sizes in both directions.
"""

from __future__ import annotations

import uuid
from typing import Any

from durable_workflow import activity, workflow
from durable_workflow.client import Client
from durable_workflow.metrics import (
    PAYLOAD_SIZE_BYTES,
    WORKER_STICKY_CACHE_HITS,
    WORKER_STICKY_CACHE_MISSES,
    WORKER_TASK_FAILURES,
    WORKER_TASK_SCHEDULE_TO_START_SECONDS,
    InMemoryMetrics,
)
from durable_workflow.testing import DevServerHandle
from durable_workflow.worker import Worker
from durable_workflow.workflow import ActivityRetryPolicy

QUEUE = "it-worker-metrics"
ATTEMPTS: dict[str, int] = {}


@activity.defn(name="im-flaky")
def flaky(token: str) -> str:
    ATTEMPTS[token] = ATTEMPTS.get(token, 0) + 1
    if ATTEMPTS[token] == 1:
        raise LookupError("first attempt fails")
    return "x" * 2000


@workflow.defn(name="im-two-steps")
class TwoSteps:
    def run(self, ctx: Any, token: str) -> Any:
        retry = ActivityRetryPolicy(max_attempts=2, backoff_seconds=[0])
        first = yield ctx.schedule_activity(
            "im-flaky", [token], retry_policy=retry, schedule_to_close_timeout=60
        )
        second = yield ctx.schedule_activity("im-flaky", [token + "-b"], retry_policy=retry)
        return len(first) + len(second)


async def test_worker_records_latency_failures_cache_and_payload_sizes(
    gen_server: DevServerHandle,
) -> None:
    metrics = InMemoryMetrics()
    async with Client(gen_server.url, token=gen_server.token, metrics=metrics) as client:
        token = f"m-{uuid.uuid4().hex[:8]}"
        handle = await client.start_workflow(
            workflow_type="im-two-steps", task_queue=QUEUE, workflow_id=token, input=[token]
        )
        worker = Worker(
            client,
            task_queue=QUEUE,
            workflows=[TwoSteps],
            activities=[flaky],
            poll_timeout=5.0,
            shutdown_timeout=5.0,
        )
        execution = await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
        assert execution.status == "completed"
        assert await client.get_result(handle) == 4000

    base = {"task_queue": QUEUE}
    # Two activity attempts failed with LookupError (one per activity), nothing else failed.
    assert (
        metrics.counter_value(
            WORKER_TASK_FAILURES, {**base, "task_kind": "activity", "failure_type": "LookupError"}
        )
        == 2
    )
    assert metrics.counter_value(WORKER_TASK_FAILURES, {"task_kind": "workflow"}) == 0
    # Every workflow task waited a measurable, non-negative time; only the activity with
    # a schedule-to-close timeout has a known schedule time (its two attempts).
    workflow_waits = metrics.observations(
        WORKER_TASK_SCHEDULE_TO_START_SECONDS, {**base, "task_kind": "workflow"}
    )
    assert len(workflow_waits) >= 3 and all(0 <= w < 30 for w in workflow_waits)
    activity_waits = metrics.observations(
        WORKER_TASK_SCHEDULE_TO_START_SECONDS, {**base, "task_kind": "activity"}
    )
    assert len(activity_waits) == 2 and all(0 <= w < 30 for w in activity_waits)
    # The first task replays from nothing (a miss); later tasks resume the cached run.
    assert metrics.counter_value(WORKER_STICKY_CACHE_MISSES, base) >= 1
    assert metrics.counter_value(WORKER_STICKY_CACHE_HITS, base) >= 2
    # Sizes: the start input went out, the 2000-character results went out from the worker,
    # the workflow's commands carried the activities' arguments and its own result.
    sent = metrics.observations(PAYLOAD_SIZE_BYTES, {"direction": "sent"})
    assert any(size >= 2000 for size in sent)
    assert len(metrics.observations(PAYLOAD_SIZE_BYTES, {"kind": "schedule_activity"})) == 2
    assert len(metrics.observations(PAYLOAD_SIZE_BYTES, {"kind": "complete_workflow"})) == 1
    received = metrics.observations(
        PAYLOAD_SIZE_BYTES, {"direction": "received", "kind": "activity_arguments"}
    )
    assert len(received) == 4 and all(size > 0 for size in received)
