"""WorkflowEnvironment: in-process execution against mocks, and history replay helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import replay_verify, workflow
from durable_workflow.codecs import GzipCodec
from durable_workflow.converter import DataConverter
from durable_workflow.errors import (
    ActivityFailed,
    ChildWorkflowFailed,
    WorkflowFailed,
    WorkflowPayloadDecodeError,
)
from durable_workflow.external_storage import LocalFilesystemExternalStorage
from durable_workflow.testing import (
    WorkflowEnvironment,
    replay_history,
    replay_history_file,
)
from durable_workflow.workflow import CompleteWorkflow, ContinueAsNew


@workflow.defn(name="env.order")
class Order:
    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.signal("approve")
    def approve(self, who: str) -> None:
        self.approved_by = who

    def run(self, ctx: workflow.WorkflowContext, order_id: str) -> Any:
        reserved = yield ctx.schedule_activity("reserve", [order_id])
        yield ctx.sleep(30)
        token = yield ctx.side_effect(lambda: "tok")
        version = yield ctx.get_version("pricing", 1, 2)
        yield ctx.upsert_search_attributes({"order": order_id})
        approved = yield ctx.wait_condition(lambda: self.approved_by is not None, timeout=60)
        both = yield [
            ctx.schedule_activity("price", [order_id]),
            ctx.schedule_activity("price", [order_id + "!"]),
        ]
        child = yield ctx.start_child_workflow("env.ship", [order_id])
        return {
            "reserved": reserved,
            "token": token,
            "version": version,
            "approved": approved,
            "by": self.approved_by,
            "prices": both,
            "child": child,
        }


def order_env() -> WorkflowEnvironment:
    env = WorkflowEnvironment()
    env.register_activity_result("reserve", "R1")
    env.register_activity("price", lambda order_id: len(order_id))
    env.register_child_workflow_result("env.ship", "shipped")
    return env


def test_executes_every_command_kind_against_mocks() -> None:
    env = order_env()
    env.signal("approve", ["ada"])
    result = env.execute_workflow(Order, "o-1")
    assert result == {
        "reserved": "R1",
        "token": "tok",
        "version": 2,
        "approved": True,
        "by": "ada",
        "prices": [3, 4],
        "child": "shipped",
    }
    assert env.run_count == 1
    (record,) = env.runs
    assert record.workflow_type == "env.order" and record.input == ["o-1"]
    assert isinstance(record.terminal, CompleteWorkflow)
    # The recorded history is a real history: replaying it gives the same completion.
    outcome = replay_history(Order, record.history, ["o-1"], run_id="test-run")
    assert outcome.commands == [CompleteWorkflow(result)]


def test_wait_without_signal_times_out() -> None:
    env = order_env()
    assert env.execute_workflow(Order, "o-2")["approved"] is False


def test_unmocked_activity_is_a_key_error() -> None:
    env = WorkflowEnvironment()
    with pytest.raises(KeyError, match="reserve"):
        env.execute_workflow(Order, "o-3")


@workflow.defn(name="env.saga")
class Saga:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        undo: list[str] = []
        try:
            yield ctx.schedule_activity("book", [])
            undo.append("unbook")
            yield ctx.schedule_activity("charge", [])
        except ActivityFailed as exc:
            for step in reversed(undo):
                yield ctx.schedule_activity(step, [])
            return f"compensated: {exc.exception_type}: {exc.message}"
        return "done"


def test_activity_exceptions_are_thrown_into_the_workflow() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("book", None)
    env.register_activity_result("unbook", None)

    def charge() -> None:
        raise ValueError("card declined")

    env.register_activity("charge", charge)
    assert env.execute_workflow(Saga) == "compensated: ValueError: card declined"


@workflow.defn(name="env.fails")
class Fails:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        yield ctx.start_timer(1)
        raise RuntimeError("nope")


def test_failure_raises_workflow_failed() -> None:
    with pytest.raises(WorkflowFailed, match="nope") as caught:
        WorkflowEnvironment().execute_workflow(Fails)
    assert caught.value.exception_class == "RuntimeError"


@workflow.defn(name="env.counter")
class Counter:
    def run(self, ctx: workflow.WorkflowContext, n: int) -> Any:
        yield ctx.start_timer(1)
        if n < 3:
            return ctx.continue_as_new(n + 1)
        return n


@workflow.defn(name="env.forever")
class Forever:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        yield ctx.start_timer(1)
        return ctx.continue_as_new()


@workflow.defn(name="env.hop")
class Hop:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        yield ctx.start_timer(1)
        return ctx.continue_as_new("via hop", workflow_type="env.landing")


@workflow.defn(name="env.landing")
class Landing:
    def __init__(self) -> None:
        self.got: list[str] = []

    @workflow.signal("note")
    def note(self, text: str) -> None:
        self.got.append(text)

    def run(self, ctx: workflow.WorkflowContext, how: str) -> Any:
        yield ctx.wait_condition(lambda: bool(self.got), timeout=5)
        return [how, *self.got]


def test_continue_as_new_chain_and_limits() -> None:
    env = WorkflowEnvironment()
    assert env.execute_workflow(Counter, 0) == 3
    assert env.run_count == 4
    assert [r.input for r in env.runs] == [[0], [1], [2], [3]]
    assert all(isinstance(r.terminal, ContinueAsNew) for r in env.runs[:-1])

    with pytest.raises(RuntimeError, match="continue-as-new limit"):
        WorkflowEnvironment(continue_as_new_limit=5).execute_workflow(Forever)

    hop = WorkflowEnvironment()
    with pytest.raises(KeyError, match=r"env\.landing"):
        hop.execute_workflow(Hop)
    hop.register_workflow(Landing)
    hop.signal("note", ["for link 2"], run=2)
    assert hop.execute_workflow(Hop) == ["via hop", "for link 2"]
    with pytest.raises(TypeError):
        hop.register_workflow(int)


@workflow.defn(name="env.spin")
class Spin:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        while True:
            yield ctx.start_timer(1)


@workflow.defn(name="env.stuck")
class Stuck:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        yield ctx.wait_condition(lambda: False)


def test_iteration_limit_and_deadlock_are_runtime_errors() -> None:
    with pytest.raises(RuntimeError, match="iteration limit"):
        WorkflowEnvironment(iteration_limit=20).execute_workflow(Spin)
    with pytest.raises(RuntimeError, match="wait forever"):
        WorkflowEnvironment().execute_workflow(Stuck)


@workflow.defn(name="env.parent")
class Parent:
    def run(self, ctx: workflow.WorkflowContext) -> Any:
        try:
            return (yield ctx.start_child_workflow("env.fails"))
        except ChildWorkflowFailed as exc:
            return f"child failed: {exc}"


def test_registered_child_workflows_run_in_full() -> None:
    env = WorkflowEnvironment()
    with pytest.raises(KeyError, match=r"env\.fails"):
        env.execute_workflow(Parent)
    env.register_workflow(Fails)
    assert env.execute_workflow(Parent) == "child failed: nope"


def test_replay_history_file(tmp_path: Path) -> None:
    env = order_env()
    env.signal("approve", ["bo"])
    result = env.execute_workflow(Order, "o-9")
    history = env.runs[0].history
    path = tmp_path / "history.json"
    path.write_text(json.dumps({"events": history}), encoding="utf-8")
    outcome = replay_history_file(Order, path, ["o-9"], run_id="test-run")
    assert outcome.commands == [CompleteWorkflow(result)]
    path.write_text("3", encoding="utf-8")
    with pytest.raises(ValueError):
        replay_history_file(Order, path)


# -- payloads through a converter (codec chain and external storage) -----------------
@workflow.defn(name="env.stored")
class Stored:
    def run(self, ctx: workflow.WorkflowContext, size: int) -> Any:
        text = yield ctx.schedule_activity("make", [size])
        token = yield ctx.side_effect(lambda: "tok")
        return [len(text), token]


STORED_SOURCE = """
from durable_workflow import workflow


@workflow.defn(name="env.stored-cli")
class StoredCli:
    def run(self, ctx, size):
        text = yield ctx.schedule_activity("make", [size])
        return len(text)


def workflows():
    return [StoredCli]
"""


def _offloading(root: Path) -> DataConverter:
    return DataConverter(
        codec="json",
        codec_chain=GzipCodec(min_bytes=1),
        external_storage=LocalFilesystemExternalStorage(root),
        threshold_bytes=64,
    )


def test_recorded_values_go_through_the_converter_and_replay(tmp_path: Path) -> None:
    converter = _offloading(tmp_path / "store")
    env = WorkflowEnvironment(converter=converter)
    env.register_activity("make", lambda size: "x" * size)
    assert env.execute_workflow(Stored, 5000) == [5000, "tok"]
    completed = next(e for e in env.runs[0].history if e["event_type"] == "ActivityCompleted")
    assert "external_storage" in completed["payload"]["result"]
    assert any((tmp_path / "store").rglob("*"))
    history = env.runs[0].history
    outcome = replay_history(Stored, history, [5000], converter=converter)
    assert outcome.commands[-1] == CompleteWorkflow([5000, "tok"])
    with pytest.raises(WorkflowPayloadDecodeError, match="external"):
        replay_history(Stored, history, [5000])  # no driver: the reference cannot be read


def test_replay_verify_reads_stored_values_with_its_storage_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "stored_cli_workflows.py").write_text(STORED_SOURCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    from stored_cli_workflows import StoredCli  # type: ignore[import-not-found]

    root = tmp_path / "store"
    env = WorkflowEnvironment(converter=_offloading(root))
    env.register_activity("make", lambda size: "y" * size)
    assert env.execute_workflow(StoredCli, 3000) == 3000
    fixtures = tmp_path / "fixtures"
    fixtures.mkdir()
    case = {
        "name": "stored",
        "family": "activity",
        "workflow_type": "env.stored-cli",
        "history": env.runs[0].history,
        "start_input": [3000],
        "expected": {"command_type": "CompleteWorkflow", "result": 3000},
    }
    fixture = {
        "fixture_schema": "durable-workflow.golden-history.v1",
        "source": {"runtime": "sdk-python", "version": "test"},
        "cases": [case],
    }
    (fixtures / "stored.json").write_text(json.dumps(fixture), encoding="utf-8")
    base = [str(fixtures), "--workflows", "stored_cli_workflows:workflows", "--quiet"]

    assert replay_verify.main(base) == 1  # without the storage root nothing decodes
    assert json.loads(capsys.readouterr().out)["cases"][0]["reason"] == "replay_error"
    options = ["--external-storage-root", str(root), "--payload-codec", "gzip"]
    assert replay_verify.main([*base, *options]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cases"][0]["status"] == "replayed"
    assert report["cases"][0]["observed"]["result"] == 3000
