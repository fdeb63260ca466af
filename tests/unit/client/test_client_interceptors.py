"""Client interceptors: the ClientCall each public command method produces, chain order, changes."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest

from durable_workflow import workflow
from durable_workflow.client import Client
from durable_workflow.client._intercept import intercepted
from durable_workflow.interceptors import ClientCall, ClientCallHandler, ClientInterceptor


class Recorder:
    def __init__(self, label: str, seen: list[str], memo: dict[str, Any] | None = None) -> None:
        self.label, self.seen, self.memo = label, seen, memo
        self.calls: list[ClientCall] = []

    async def execute_client_call(self, call: ClientCall, next: ClientCallHandler) -> Any:
        self.calls.append(call)
        self.seen.append(f"{self.label}>")
        if self.memo is not None:
            call = dataclasses.replace(call, arguments={**call.arguments, "memo": self.memo})
        result = await next(call)
        self.seen.append(f"<{self.label}")
        return result


async def fake_start(
    self: Any, *, workflow_type: str, task_queue: str, workflow_id: str, memo: Any = None
) -> dict[str, Any]:
    return {"type": workflow_type, "id": workflow_id, "memo": memo}


async def fake_signal(
    self: Any, workflow_id: str, run_id: str, signal_name: str, *, args: Any = None
) -> tuple[str, str, str, Any]:
    return (workflow_id, run_id, signal_name, args)


async def test_interceptors_wrap_the_call_first_outermost_and_may_change_arguments() -> None:
    seen: list[str] = []
    outer, inner = Recorder("outer", seen), Recorder("inner", seen, memo={"k": "v"})
    start = intercepted("start_workflow", fake_start)
    owner = SimpleNamespace(interceptors=(outer, inner))
    result = await start(owner, workflow_type="t", task_queue="q", workflow_id="w-1")
    assert result == {"type": "t", "id": "w-1", "memo": {"k": "v"}}
    assert seen == ["outer>", "inner>", "<inner", "<outer"]
    (call,) = outer.calls
    assert (call.operation, call.workflow_id, call.name, call.run_id) == (
        "start_workflow",
        "w-1",
        "t",
        None,
    )
    assert call.arguments == {"workflow_type": "t", "task_queue": "q", "workflow_id": "w-1"}
    assert call.client is owner


async def test_positional_arguments_are_named_and_run_forms_report_the_run() -> None:
    recorder = Recorder("r", [])
    signal = intercepted("signal_workflow", fake_signal)
    result = await signal(SimpleNamespace(interceptors=[recorder]), "w", "r-1", "go", args=[1])
    assert result == ("w", "r-1", "go", [1])
    (call,) = recorder.calls
    assert (call.operation, call.name, call.run_id) == ("signal_workflow", "go", "r-1")


async def test_a_start_given_the_workflow_class_is_named_by_its_type() -> None:
    @workflow.defn(name="typed-start")
    class Typed:
        def run(self, ctx: Any) -> Any:
            return None

    recorder = Recorder("r", [])
    start = intercepted("start_workflow", fake_start)
    owner = SimpleNamespace(interceptors=[recorder])
    await start(owner, workflow_type=Typed, task_queue="q", workflow_id="w")  # type: ignore[arg-type]
    await start(owner, workflow_type=int, task_queue="q", workflow_id="w")  # type: ignore[arg-type]
    assert [call.name for call in recorder.calls] == ["typed-start", None]


async def test_without_interceptors_the_method_runs_directly() -> None:
    signal = intercepted("signal_workflow", fake_signal)
    assert await signal(SimpleNamespace(interceptors=()), "w", "r", "s") == ("w", "r", "s", None)


def test_client_takes_interceptors_and_rejects_objects_without_the_hook() -> None:
    recorder = Recorder("r", [])
    assert isinstance(recorder, ClientInterceptor)
    client = Client("http://127.0.0.1:1", interceptors=[recorder])
    assert client.interceptors == (recorder,)
    # The client's own methods are wrapped; the class (and its typed signatures) is not.
    assert client.signal_workflow.__wrapped__ is Client.signal_workflow  # type: ignore[attr-defined]
    assert "signal_workflow" not in vars(Client("http://127.0.0.1:1"))
    with pytest.raises(TypeError, match=r"interceptors: .* no execute_client_call"):
        Client("http://127.0.0.1:1", interceptors=[object()])  # type: ignore[list-item]
