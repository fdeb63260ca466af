"""One naming rule for workflow classes: the ``@workflow.defn`` name, else the class name."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from durable_workflow import Client, Worker, workflow
from durable_workflow.testing import WorkflowEnvironment
from durable_workflow.workflow import CompleteWorkflow, Replayer


class Plain:
    """A workflow class without ``@workflow.defn``."""

    def run(self, ctx: Any, name: str) -> Generator[Any, Any, str]:
        if False:  # a generator that yields nothing
            yield
        return f"hi {name}"


@workflow.defn(name="naming-decorated")
class Decorated(Plain):
    pass


def not_a_class(ctx: Any) -> None:
    return None


def started(workflow_type: str) -> list[dict[str, Any]]:
    return [
        {
            "id": "evt-1",
            "sequence": 1,
            "event_type": "WorkflowStarted",
            "payload": {"workflow_type": workflow_type},
        }
    ]


@pytest.mark.parametrize(("cls", "name"), [(Plain, "Plain"), (Decorated, "naming-decorated")])
async def test_every_entry_point_names_a_class_the_same_way(cls: type, name: str) -> None:
    async with Client("http://127.0.0.1:9") as client:
        assert Worker(client, task_queue="q", workflows=[cls]).workflows == {name: cls}
    env = WorkflowEnvironment()
    assert env.execute_workflow(cls, "ann") == "hi ann"
    assert env.runs[0].workflow_type == name
    outcome = Replayer(workflows=[cls]).replay(started(name), ["bob"])
    assert outcome.commands == [CompleteWorkflow("hi bob")]


async def test_every_entry_point_refuses_a_non_class_with_one_error() -> None:
    async with Client("http://127.0.0.1:9") as client:
        with pytest.raises(TypeError, match="is not a workflow class"):
            Worker(client, task_queue="q", workflows=[not_a_class])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="is not a workflow class"):
        WorkflowEnvironment().register_workflow(not_a_class)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="is not a workflow class"):
        Replayer(workflows=[not_a_class])  # type: ignore[list-item]
