"""Client + Worker against the real dev server over loopback HTTP (SQLite behind it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from dev_proxy import forward
from generations import SpecCheck

from durable_workflow import activity, errors, workflow
from durable_workflow._dev_extensions import CLOSED_RUNS_WAIT
from durable_workflow.client import Client
from durable_workflow.testing import DevServerHandle
from durable_workflow.worker import Worker

QUEUE = "it-python"


@activity.defn(name="greet")
def greet(name: str) -> str:
    return f"hello, {name}"


@activity.defn(name="it-explode")
def explode(reason: str) -> str:
    raise ValueError(f"exploded: {reason}")


@workflow.defn(name="greeter")
class GreeterWorkflow:
    def run(self, ctx: Any, name: str) -> Any:
        result = yield ctx.schedule_activity("greet", [name])
        return result


@workflow.defn(name="it-catcher")
class CatcherWorkflow:
    def run(self, ctx: Any) -> Any:
        try:
            yield ctx.schedule_activity("it-explode", ["caught"])
        except errors.ActivityFailed as failure:
            return {"caught": failure.message, "type": failure.exception_type}
        return "not reached"


@workflow.defn(name="it-uncaught")
class UncaughtWorkflow:
    def run(self, ctx: Any) -> Any:
        result = yield ctx.schedule_activity("it-explode", ["uncaught"])
        return result


@workflow.defn(name="it-chain")
class ChainWorkflow:
    def run(self, ctx: Any, remaining: int) -> Any:
        if remaining > 0:
            yield ctx.continue_as_new(remaining - 1)
        result = yield ctx.schedule_activity("greet", ["end of chain"])
        return result


@workflow.defn(name="it-fan-out")
class FanOutWorkflow:
    def run(self, ctx: Any, names: list[str]) -> Any:
        results = yield [ctx.schedule_activity("greet", [name]) for name in names]
        return results


@activity.defn(name="it-slow-greet")
async def slow_greet(name: str) -> str:
    await asyncio.sleep(0.3)
    return f"slowly, {name}"


@workflow.defn(name="it-slow-greeter")
class SlowGreeterWorkflow:
    def run(self, ctx: Any, name: str) -> Any:
        return (yield ctx.schedule_activity("it-slow-greet", [name]))


@workflow.defn(name="it-many-markers")
class ManyMarkersWorkflow:
    """More events than one history page holds (1000): one marker per side effect,
    in two workflow tasks (one completion carries at most 1000 commands)."""

    def run(self, ctx: Any, count: int) -> Any:
        total = 0
        for i in range(count):
            if i == count // 2:
                yield ctx.schedule_activity("greet", ["half way"])
            total += yield ctx.side_effect(lambda i=i: i)
        return total


@pytest.fixture
async def server(gen_server: DevServerHandle) -> AsyncIterator[DevServerHandle]:
    """The dev server of each generation (generations.py)."""
    yield gen_server


@pytest.fixture
async def client(server: DevServerHandle, spec: SpecCheck) -> AsyncIterator[Client]:
    async with spec.attach(Client(server.url, token=server.token)) as c:
        yield c


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_worker(client: Client) -> Worker:
    return Worker(
        client,
        task_queue=QUEUE,
        workflows=[
            GreeterWorkflow,
            CatcherWorkflow,
            UncaughtWorkflow,
            ChainWorkflow,
            FanOutWorkflow,
            SlowGreeterWorkflow,
            ManyMarkersWorkflow,
        ],
        activities=[greet, explode, slow_greet],
        poll_timeout=10.0,
        shutdown_timeout=5.0,
    )


async def test_greeter_end_to_end(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="greeter", task_queue=QUEUE, workflow_id=new_id("greet"), input=["world"]
    )
    execution = await make_worker(client).run_until(workflow_id=handle.workflow_id, timeout=30)
    assert execution.status == "completed"
    assert execution.output == "hello, world"
    assert await client.get_result(handle) == "hello, world"
    described = await client.describe_workflow(handle.workflow_id)
    assert (described.input, described.workflow_type) == (["world"], "greeter")


async def test_two_workflows_in_parallel_on_one_worker(client: Client) -> None:
    worker = make_worker(client)
    running = asyncio.create_task(worker.run())
    try:
        handles = [
            await client.start_workflow(
                workflow_type="greeter", task_queue=QUEUE, workflow_id=new_id("par"), input=[name]
            )
            for name in ("Ada", "Grace")
        ]
        results = await asyncio.gather(*(h.result(timeout=30) for h in handles))
    finally:
        await worker.stop()
        await running
    assert results == ["hello, Ada", "hello, Grace"]


async def test_parallel_activities_in_one_workflow(client: Client) -> None:
    """Wake-ups while siblings are still running produce no new commands; none are lost."""
    names = ["a", "b", "c"]
    handle = await client.start_workflow(
        workflow_type="it-fan-out", task_queue=QUEUE, workflow_id=new_id("fan"), input=[names]
    )
    await make_worker(client).run_until(workflow_id=handle.workflow_id, timeout=30)
    assert await client.get_result(handle) == [f"hello, {n}" for n in names]


async def test_activity_failure_reaches_the_workflow(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="it-catcher", task_queue=QUEUE, workflow_id=new_id("catch")
    )
    await make_worker(client).run_until(workflow_id=handle.workflow_id, timeout=30)
    result = await client.get_result(handle)
    assert result["caught"] == "exploded: caught"
    assert result["type"] == "ValueError"


async def test_uncaught_activity_failure_fails_the_workflow(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="it-uncaught", task_queue=QUEUE, workflow_id=new_id("uncaught")
    )
    execution = await make_worker(client).run_until(workflow_id=handle.workflow_id, timeout=30)
    assert execution.status == "failed"
    with pytest.raises(errors.WorkflowFailed, match="exploded: uncaught"):
        await client.get_result(handle)


async def test_get_result_follows_continue_as_new(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="it-chain", task_queue=QUEUE, workflow_id=new_id("chain"), input=[2]
    )
    worker = make_worker(client)
    running = asyncio.create_task(worker.run())
    try:
        # An hour's poll interval: only the history long poll can bring the result in time.
        result = await client.get_result(handle, poll_interval=3600, timeout=30)
        assert result == "hello, end of chain"
    finally:
        await worker.stop()
        await running
    runs = await client.list_workflow_runs(handle.workflow_id)
    assert runs.run_count == 3
    assert runs.runs[0].run_id == handle.run_id


async def test_result_arrives_by_the_history_long_poll(client: Client) -> None:
    """The client waits while the run is open; the closing event ends the wait, not a timer."""
    worker = make_worker(client)
    running = asyncio.create_task(worker.run())
    try:
        handle = await client.start_workflow(
            workflow_type="it-slow-greeter",
            task_queue=QUEUE,
            workflow_id=new_id("lp"),
            input=["Ada"],
        )
        assert await handle.result(poll_interval=3600, timeout=30) == "slowly, Ada"
        # A second handle without a run id finds the current run first.
        again = client.get_workflow_handle(handle.workflow_id)
        assert await again.result(poll_interval=3600, timeout=30) == "slowly, Ada"
    finally:
        await worker.stop()
        await running


async def test_result_beyond_the_first_history_page(client: Client) -> None:
    handle = await client.start_workflow(
        workflow_type="it-many-markers", task_queue=QUEUE, workflow_id=new_id("long"), input=[1200]
    )
    worker = make_worker(client)
    running = asyncio.create_task(worker.run())
    try:
        assert await client.get_result(handle, poll_interval=3600, timeout=60) == sum(range(1200))
    finally:
        await worker.stop()
        await running
    first = await client.get_history_page(handle.workflow_id, handle.run_id or "", page_size=1000)
    assert first["next_page_token"], "the history must span more than one page"


def without_extension(request: httpx.Request, answer: httpx.Response, name: str) -> httpx.Response:
    """``answer`` passed on, with ``name`` left out of the advertised dev extensions."""
    decoded = ("content-encoding", "content-length")
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in decoded}
    if request.url.path != "/api/cluster/info":
        return httpx.Response(answer.status_code, content=answer.content, headers=headers)
    info = answer.json()
    extensions = info.get("capabilities", {}).get("extensions", [])
    info.get("capabilities", {})["extensions"] = [e for e in extensions if e != name]
    return httpx.Response(answer.status_code, json=info)


async def test_result_without_the_long_poll_falls_back_to_polling(
    server: DevServerHandle,
) -> None:
    """Behind a proxy that answers every history long poll at once (a server without it)."""
    seen: list[str | None] = []
    async with httpx.AsyncClient(base_url=server.url) as upstream:

        async def proxy(request: httpx.Request) -> httpx.Response:
            params = dict(request.url.params)
            if request.url.path.endswith("/history"):
                seen.append(params.pop("wait_new_event", None))
            answer = await upstream.request(
                request.method,
                request.url.path,
                params=params,
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
                content=request.content,
            )
            return without_extension(request, answer, CLOSED_RUNS_WAIT)

        transport = httpx.MockTransport(proxy)
        async with Client("http://proxied", token=server.token, transport=transport) as client:
            worker = make_worker(client)
            running = asyncio.create_task(worker.run())
            try:
                handle = await client.start_workflow(
                    workflow_type="it-slow-greeter",
                    task_queue=QUEUE,
                    workflow_id=new_id("fallback"),
                    input=["Grace"],
                )
                assert await handle.result(poll_interval=0.05, timeout=30) == "slowly, Grace"
            finally:
                await worker.stop()
                await running
    # The client asked to wait, got empty answers at once, and kept reading at its pace.
    assert seen.count("1") >= 2, seen


async def test_result_wait_uses_the_wait_for_close_extension_only_where_advertised(
    server: DevServerHandle,
) -> None:
    """Generation 1 (the dev server advertises ``history_wait_for_close``): one held
    request until the run closes. Generation 2 advertises nothing: plain long polls only."""
    sent: list[dict[str, str]] = []
    reads: list[str] = []
    async with httpx.AsyncClient(base_url=server.url) as upstream:

        async def proxy(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/history"):
                sent.append(dict(request.url.params))
            elif request.method == "GET" and "/api/workflows/" in request.url.path:
                reads.append(request.url.path)
            answer = await forward(upstream, request)
            # A dev server of before closed_runs_wait: the per-run wait for close.
            return without_extension(request, answer, CLOSED_RUNS_WAIT)

        transport = httpx.MockTransport(proxy)
        async with Client("http://proxied", token=server.token, transport=transport) as client:
            worker = make_worker(client)
            running = asyncio.create_task(worker.run())
            try:
                handle = await client.start_workflow(
                    workflow_type="it-slow-greeter",
                    task_queue=QUEUE,
                    workflow_id=new_id("close"),
                    input=["Lin"],
                )
                assert await handle.result(poll_interval=3600, timeout=30) == "slowly, Lin"
            finally:
                await worker.stop()
                await running
    held = [params for params in sent if params.get("wait_new_event") == "1"]
    if server.generation == 1:
        assert held and all(params.get("wait_for_close") == "1" for params in held), sent
        # One request for the whole wait: the slow activity's events did not end it, and
        # the run's codec came with the page (no describe for the bare output blob).
        assert len(sent) == len(held) == 1 and reads == [], (sent, reads)
    else:
        assert held and not any("wait_for_close" in params for params in sent), sent


async def test_worker_refuses_a_server_with_a_mismatching_manifest(server: DevServerHandle) -> None:
    """The real dev server behind a proxy that changes only the advertised control plane."""
    forwarded: list[str] = []
    async with httpx.AsyncClient(base_url=server.url) as upstream:

        async def proxy(request: httpx.Request) -> httpx.Response:
            forwarded.append(request.url.path)
            answer = await forward(upstream, request)
            if request.url.path == "/api/cluster/info":
                info = answer.json()
                info["control_plane"]["version"] = "3"
                return httpx.Response(200, json=info)
            return httpx.Response(
                answer.status_code, content=answer.content, headers=answer.headers
            )

        async with Client("http://proxy.test", transport=httpx.MockTransport(proxy)) as client:
            worker = make_worker(client)
            with pytest.raises(errors.IncompatibleServerError) as caught:
                await worker.run()
            assert isinstance(caught.value, RuntimeError)
            assert "control_plane.version is '3'" in str(caught.value)
    assert forwarded == ["/api/cluster/info"]


def _proxied(
    server: DevServerHandle, upstream: httpx.AsyncClient, seen: list[str], hide: str = ""
) -> Client:
    """A client through a recording proxy (which may hide one advertised dev extension)."""

    async def proxy(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        answer = await forward(upstream, request)
        return without_extension(request, answer, hide)

    return Client("http://proxied", token=server.token, transport=httpx.MockTransport(proxy))


async def test_many_results_gathered_at_once(server: DevServerHandle) -> None:
    """120 workflows started at once, every result gathered; on generation 1 through the
    shared closed-runs requests alone (no history read, no describe of a run)."""
    seen: list[str] = []
    count = 120
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=60) as upstream,
        _proxied(server, upstream, seen) as client,
    ):
        worker = make_worker(client)
        running = asyncio.create_task(worker.run())
        try:
            handles = await asyncio.gather(
                *(
                    client.start_workflow(
                        workflow_type="greeter",
                        task_queue=QUEUE,
                        workflow_id=new_id("many"),
                        input=[f"n{i}"],
                    )
                    for i in range(count)
                )
            )
            results = await asyncio.gather(*(h.result(timeout=60) for h in handles))
        finally:
            await worker.stop()
            await running
    assert results == [f"hello, n{i}" for i in range(count)]
    reads = [p for p in seen if p.startswith("/api/workflows/")]  # not the worker's
    history = [p for p in reads if p.endswith("/history")]
    described = [p for p in reads if "/runs/" in p and not p.endswith("/history")]
    closed_runs = [p for p in seen if p == "/api/dev/closed-runs"]
    if server.generation == 1:
        assert closed_runs and history == [] and described == [], (history, described)
    else:
        assert closed_runs == [] and len(history) >= count


async def test_a_failed_workflow_raises_the_same_error_either_way(server: DevServerHandle) -> None:
    """The closed-runs wait and the per-run history wait raise the same error."""
    raised: dict[str, errors.WorkflowFailed] = {}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as upstream:
        for hide in ("", CLOSED_RUNS_WAIT):
            seen: list[str] = []
            async with _proxied(server, upstream, seen, hide) as client:
                handle = await client.start_workflow(
                    workflow_type="it-uncaught", task_queue=QUEUE, workflow_id=new_id("fail")
                )
                worker = make_worker(client)
                running = asyncio.create_task(worker.run())
                try:
                    with pytest.raises(errors.WorkflowFailed) as caught:
                        await handle.result(poll_interval=3600, timeout=30)
                finally:
                    await worker.stop()
                    await running
            raised[hide] = caught.value
            used = "/api/dev/closed-runs" in seen
            assert used == (server.generation == 1 and hide == ""), seen
    first, second = raised.values()
    assert (type(first), str(first), first.exception_class) == (
        type(second),
        str(second),
        second.exception_class,
    )
    assert "exploded: uncaught" in str(first)
