"""Authoring mistakes fail at once with a message that says how to write it instead."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest

from durable_workflow import workflow
from durable_workflow.errors import WorkflowFailed
from durable_workflow.testing import WorkflowEnvironment
from durable_workflow.workflow import CompleteWorkflow, FailWorkflow

FORGOT = (
    "workflow returned schedule_activity('greet') instead of yielding it: did you forget "
    "`yield`? Write `result = yield ctx.schedule_activity(...)` and return the result."
)


def test_async_run_is_refused_at_decoration_saying_how_to_write_it() -> None:
    class AsyncGreeter:
        async def run(self, ctx: Any, name: str) -> str:
            return name

    with pytest.raises(TypeError) as raised:
        workflow.defn(name="tests.async-greeter")(AsyncGreeter)
    assert str(raised.value) == (
        "workflow class test_async_run_is_refused_at_decoration_saying_how_to_write_it.<locals>."
        "AsyncGreeter: run() is declared `async def`, but workflow code is a generator that "
        "yields commands. Write it as `def run(self, ctx, ...):` with `result = yield "
        "ctx.schedule_activity(...)` for each step, and move async code into an activity."
    )
    assert "tests.async-greeter" not in workflow.registry()


def test_async_generator_and_wrapped_async_run_are_refused_too() -> None:
    class AsyncGen:
        async def run(self, ctx: Any) -> Any:
            yield ctx.sleep(1)

    def logged(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any) -> Any:
            return fn(*args)

        return wrapper

    class Wrapped:
        @logged
        async def run(self, ctx: Any) -> None:
            return None

    for cls in (AsyncGen, Wrapped):
        with pytest.raises(TypeError, match=r"run\(\) is declared `async def`"):
            workflow.defn(name=f"tests.{cls.__name__}")(cls)


def test_plain_and_generator_runs_are_still_accepted() -> None:
    @workflow.defn(name="tests.mistakes-plain")
    class Plain:
        def run(self, ctx: Any) -> int:
            return 1

    assert workflow.replay(Plain, [], []).commands == [CompleteWorkflow(1)]


@workflow.defn(name="tests.no-yield")
class NoYield:
    def run(self, ctx: Any, name: str) -> Any:
        result = ctx.schedule_activity("greet", [name])
        return result


def test_returning_a_command_fails_the_run_with_the_forgotten_yield_hint() -> None:
    assert workflow.replay(NoYield, [], ["world"]).commands == [
        FailWorkflow(FORGOT, exception_type="TypeError")
    ]


def test_returning_a_list_of_commands_names_the_first() -> None:
    @workflow.defn(name="tests.no-yield-list")
    class NoYieldList:
        def run(self, ctx: Any) -> Any:
            yield ctx.sleep(1)
            return [ctx.sleep(5), ctx.schedule_activity("b")]

    history = [
        {"sequence": 1, "event_type": "WorkflowStarted", "payload": {}},
        {
            "sequence": 2,
            "event_type": "TimerScheduled",
            "payload": {"timer_id": "t1", "sequence": 1},
        },
        {"sequence": 3, "event_type": "TimerFired", "payload": {"timer_id": "t1", "sequence": 1}},
    ]
    (command,) = workflow.replay(NoYieldList, history, []).commands
    assert command == FailWorkflow(
        "workflow returned start_timer(5s) instead of yielding it: did you forget `yield`? "
        "Write `result = yield ctx.sleep(...)` and return the result.",
        exception_type="TypeError",
    )


def test_yielding_something_that_is_not_a_command_hints_at_yield() -> None:
    @workflow.defn(name="tests.yields-a-value")
    class YieldsValue:
        def run(self, ctx: Any) -> Any:
            yield "hello"

    (command,) = workflow.replay(YieldsValue, [], []).commands
    assert command == FailWorkflow(
        "workflow yielded unsupported command: 'hello'; did you forget `yield`? Yield only what "
        "ctx methods return: `result = yield ctx.schedule_activity(...)`",
        exception_type="TypeError",
    )


def test_workflow_environment_raises_the_same_message() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("greet", "hello, world")
    with pytest.raises(WorkflowFailed) as raised:
        env.execute_workflow(NoYield, "world")
    assert str(raised.value) == FORGOT
    assert raised.value.exception_class == "TypeError"
