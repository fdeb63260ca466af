"""Interop scenarios: the upstream SDK (durable-workflow 0.4.53) against our dev server.

Run by ``nox -s interop`` inside a venv that has the *upstream* package (same
import name, so never in the project venv): ``python scenarios.py URL``.
Each scenario prints ``PASS``/``FAIL`` with its name; the exit code is the
number of failures.
"""

from __future__ import annotations

import asyncio
import sys
import traceback
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from durable_workflow import Client, ScheduleAction, ScheduleSpec, Worker, activity, workflow

QUEUE = "interop"
_attempts: dict[str, int] = {}


@activity.defn(name="interop-greet")
def greet(name: str) -> str:
    return f"Hello, {name}!"


@activity.defn(name="interop-flaky")
def flaky(key: str) -> str:
    _attempts[key] = _attempts.get(key, 0) + 1
    if _attempts[key] < 3:
        raise RuntimeError(f"attempt {_attempts[key]} fails")
    return f"ok after {_attempts[key]}"


@workflow.defn(name="interop-greeter")
class Greeter:
    def run(self, ctx: Any, name: str) -> Any:
        return (yield ctx.schedule_activity("interop-greet", [name]))


@workflow.defn(name="interop-retry")
class Retry:
    def run(self, ctx: Any, key: str) -> Any:
        policy = {"max_attempts": 5, "backoff_seconds": [1]}
        return (yield ctx.schedule_activity("interop-flaky", [key], retry_policy=policy))


@workflow.defn(name="interop-timer")
class Timer:
    def run(self, ctx: Any) -> Any:
        yield ctx.sleep(1)
        return "slept"


@workflow.defn(name="interop-signal")
class Signalled:
    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.signal("approve")
    def approve(self, who: str) -> None:
        self.approved_by = who

    @workflow.query("stage")
    def stage(self) -> str:
        return "approved" if self.approved_by else "waiting"

    def run(self, ctx: Any) -> Any:
        yield ctx.wait_condition(lambda: self.approved_by is not None, key="approved")
        return f"approved by {self.approved_by}"


@workflow.defn(name="interop-child")
class Child:
    def run(self, ctx: Any, value: int) -> Any:
        doubled = yield ctx.side_effect(lambda: value * 2)
        return doubled


@workflow.defn(name="interop-parent")
class Parent:
    def run(self, ctx: Any, value: int) -> Any:
        result = yield ctx.start_child_workflow("interop-child", [value])
        return result + 1


@workflow.defn(name="interop-continue")
class Continuing:
    def run(self, ctx: Any, remaining: int, total: int) -> Any:
        if remaining > 0:
            return (yield ctx.continue_as_new(remaining - 1, total + remaining))
        return total


@workflow.defn(name="interop-update")
class Updatable:
    def __init__(self) -> None:
        self.value: int | None = None

    @workflow.update("set")
    def set_value(self, value: int) -> int:
        self.value = value
        return value * 10

    def run(self, ctx: Any) -> Any:
        yield ctx.wait_condition(lambda: self.value is not None, key="value-set")
        return self.value


@workflow.defn(name="interop-validated-update")
class ValidatedUpdate:
    """An update with a validator: negative values are refused (2.x: before acceptance)."""

    def __init__(self) -> None:
        self.value: int | None = None

    @workflow.update("set")
    def set_value(self, value: int) -> int:
        self.value = value
        return value * 10

    @set_value.validator
    def check_value(self, value: int) -> None:
        if value < 0:
            raise ValueError("value must not be negative")

    def run(self, ctx: Any) -> Any:
        yield ctx.wait_condition(lambda: self.value is not None, key="value-set")
        return self.value


@workflow.defn(name="interop-update-then-signal")
class UpdateThenSignal:
    """Waits for a signal; an update sets a value meanwhile (issue 14 item 8)."""

    def __init__(self) -> None:
        self.value: int | None = None
        self.done = False

    @workflow.update("set")
    def set_value(self, value: int) -> int:
        self.value = value
        return value

    @workflow.signal("finish")
    def finish(self) -> None:
        self.done = True

    def run(self, ctx: Any) -> Any:
        yield ctx.wait_condition(lambda: self.done, key="finished", timeout=60)
        return self.value


@workflow.defn(name="interop-sleeper")
class Sleeper:
    def run(self, ctx: Any) -> Any:
        yield ctx.sleep(300)
        return "woke"


async def _start(client: Client, wf_type: str, args: list[Any] | None = None) -> Any:
    return await client.start_workflow(
        workflow_type=wf_type,
        task_queue=QUEUE,
        workflow_id=f"{wf_type}-{uuid.uuid4().hex[:8]}",
        input=args or [],
    )


async def _status(client: Client, workflow_id: str, wanted: str, timeout: float = 20) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    status = ""
    while asyncio.get_running_loop().time() < deadline:
        status = str((await client.describe_workflow(workflow_id)).status)
        if status == wanted:
            return status
        await asyncio.sleep(0.2)
    return status


def _expect(actual: Any, expected: Any) -> None:
    if actual != expected:
        raise AssertionError(f"expected {expected!r}, got {actual!r}")


async def greeter(client: Client) -> None:
    handle = await _start(client, "interop-greeter", ["Ada"])
    _expect(await client.get_result(handle, timeout=30), "Hello, Ada!")


async def retry(client: Client) -> None:
    handle = await _start(client, "interop-retry", ["k1"])
    _expect(await client.get_result(handle, timeout=30), "ok after 3")


async def timer(client: Client) -> None:
    handle = await _start(client, "interop-timer")
    _expect(await client.get_result(handle, timeout=30), "slept")


async def signal_and_query(client: Client) -> None:
    handle = await _start(client, "interop-signal")
    await _status(client, handle.workflow_id, "waiting")
    answer = await client.query_workflow(handle.workflow_id, "stage")
    _expect(answer["result"] if isinstance(answer, dict) else answer, "waiting")
    await client.signal_workflow(handle.workflow_id, "approve", args=["Grace"])
    _expect(await client.get_result(handle, timeout=30), "approved by Grace")


async def child(client: Client) -> None:
    handle = await _start(client, "interop-parent", [20])
    _expect(await client.get_result(handle, timeout=30), 41)


async def continue_as_new(client: Client) -> None:
    handle = await _start(client, "interop-continue", [3, 0])
    # The start handle is pinned to the first run; the result is on the last one.
    latest = client.get_workflow_handle(handle.workflow_id)
    _expect(await client.get_result(latest, timeout=30), 6)


async def update(client: Client) -> None:
    handle = await _start(client, "interop-update")
    await _status(client, handle.workflow_id, "waiting")
    answer = await client.update_workflow(handle.workflow_id, "set", args=[7], wait_for="completed")
    _expect(answer.get("result") if isinstance(answer, dict) else answer, 70)
    _expect(await client.get_result(handle, timeout=30), 7)


async def validated_update(client: Client) -> None:
    handle = await _start(client, "interop-validated-update")
    await _status(client, handle.workflow_id, "waiting")
    try:
        refused = await client.update_workflow(
            handle.workflow_id, "set", args=[-1], wait_for="completed"
        )
    except Exception:  # 2.x: UpdateRejected before acceptance
        refused = None
    if isinstance(refused, dict):  # 0.x: the validator fails the accepted update
        _expect(refused.get("update_status"), "failed")
    answer = await client.update_workflow(handle.workflow_id, "set", args=[7], wait_for="completed")
    _expect(answer.get("result") if isinstance(answer, dict) else answer, 70)
    _expect(await client.get_result(handle, timeout=30), 7)


async def update_then_signal(client: Client) -> None:
    handle = await _start(client, "interop-update-then-signal")
    await _status(client, handle.workflow_id, "waiting")
    answer = await client.update_workflow(handle.workflow_id, "set", args=[5], wait_for="completed")
    _expect(answer.get("result") if isinstance(answer, dict) else answer, 5)
    await client.signal_workflow(handle.workflow_id, "finish")
    _expect(await client.get_result(handle, timeout=30), 5)


async def cancel(client: Client) -> None:
    handle = await _start(client, "interop-sleeper")
    await _status(client, handle.workflow_id, "waiting")
    await client.cancel_workflow(handle.workflow_id, reason="interop")
    _expect(await _status(client, handle.workflow_id, "cancelled"), "cancelled")


async def terminate(client: Client) -> None:
    handle = await _start(client, "interop-sleeper")
    await _status(client, handle.workflow_id, "waiting")
    await client.terminate_workflow(handle.workflow_id, reason="interop")
    _expect(await _status(client, handle.workflow_id, "terminated"), "terminated")


async def control_plane(client: Client) -> None:
    """Visibility, history and the catalogue calls the 0.4.53 API makes."""
    handle = await _start(client, "interop-greeter", ["Lin"])
    _expect(await client.get_result(handle, timeout=30), "Hello, Lin!")
    listed = await client.list_workflows(workflow_type="interop-greeter")
    ids = [getattr(e, "workflow_id", None) for e in getattr(listed, "executions", [])]
    _expect(handle.workflow_id in ids, True)
    run_id = (await client.describe_workflow(handle.workflow_id)).run_id
    history = await client.get_history(handle.workflow_id, run_id)
    types = [e.get("event_type") for e in history.get("events", [])]
    _expect("WorkflowCompleted" in types, True)
    exported = await client.export_history(handle.workflow_id, run_id)
    _expect(isinstance(exported, dict) and bool(exported.get("events") or exported), True)
    runs = await client.list_workflow_runs(handle.workflow_id)
    _expect(len(getattr(runs, "runs", [])) >= 1, True)
    namespaces = await client.list_namespaces()
    names = [getattr(n, "name", None) for n in getattr(namespaces, "namespaces", [])]
    _expect("default" in names, True)
    _expect(getattr(await client.describe_namespace("default"), "name", None), "default")
    attribute = f"InteropKey{uuid.uuid4().hex[:6]}"
    await client.create_search_attribute(attribute, "keyword")
    listed_attributes = await client.list_search_attributes()
    _expect(attribute in str(listed_attributes), True)
    queues = await client.list_task_queues()
    _expect(QUEUE in str(queues), True)
    await client.describe_task_queue(QUEUE)
    workers = await client.list_workers(task_queue=QUEUE)
    worker_ids = [getattr(w, "worker_id", None) for w in getattr(workers, "workers", [])]
    _expect(bool(worker_ids), True)
    _expect(getattr(await client.describe_worker(str(worker_ids[0])), "worker_id", None),
            worker_ids[0])  # fmt: skip


async def schedules(client: Client) -> None:
    schedule_id = f"interop-schedule-{uuid.uuid4().hex[:8]}"
    await client.create_schedule(
        schedule_id=schedule_id,
        spec=ScheduleSpec(cron_expressions=["0 0 1 1 *"]),
        action=ScheduleAction(workflow_type="interop-greeter", task_queue=QUEUE, input=["Sched"]),
    )
    described = await client.describe_schedule(schedule_id)
    _expect(getattr(described, "schedule_id", None), schedule_id)
    _expect(schedule_id in str(await client.list_schedules()), True)
    await client.pause_schedule(schedule_id, note="interop")
    _expect(getattr(await client.describe_schedule(schedule_id), "status", None), "paused")
    await client.resume_schedule(schedule_id)
    await client.trigger_schedule(schedule_id)
    await client.delete_schedule(schedule_id)


SCENARIOS: list[tuple[str, Callable[[Client], Awaitable[None]]]] = [
    ("greeter", greeter),
    ("activity retry then success", retry),
    ("timer", timer),
    ("signal + wait_condition + query", signal_and_query),
    ("child workflow", child),
    ("continue-as-new", continue_as_new),
    ("update", update),
    ("update with validator", validated_update),
    ("update then signal", update_then_signal),
    ("cancel", cancel),
    ("terminate", terminate),
    ("control plane: visibility, history, catalogue", control_plane),
    ("schedules", schedules),
]


async def main(url: str, only: list[str]) -> int:
    """Run every scenario, or only those whose names are given after the URL."""
    selected = [(n, f) for n, f in SCENARIOS if not only or n in only]
    failures = 0
    async with Client(url) as client:
        worker = Worker(
            client,
            task_queue=QUEUE,
            workflows=[Greeter, Retry, Timer, Signalled, Child, Parent, Continuing, Updatable,
                       ValidatedUpdate, UpdateThenSignal, Sleeper],
            activities=[greet, flaky],
            poll_timeout=5.0,
        )  # fmt: skip
        running = asyncio.create_task(worker.run())
        try:
            for name, scenario in selected:
                try:
                    await asyncio.wait_for(scenario(client), 60)
                    print(f"PASS {name}", flush=True)
                except Exception:
                    failures += 1
                    print(f"FAIL {name}", flush=True)
                    traceback.print_exc()
        finally:
            await worker.stop()
            running.cancel()
    print(f"{len(selected) - failures}/{len(selected)} interop scenarios passed", flush=True)
    return failures


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2:])))
