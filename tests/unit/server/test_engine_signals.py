"""Signals: accepted for any valid name, arguments in history, task creation rules."""

from __future__ import annotations

import pytest
from server_engine_helpers import complete, start, worker

from durable_workflow.server.engine import signals, workflow_tasks
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.engine.errors import ValidationFailed
from durable_workflow.server.engine.payload_codec import encode_avro


def test_signal_records_arguments_and_creates_a_task_when_none_is_open(engine: Engine) -> None:
    start(engine)
    w = worker(engine)
    first = engine.tx(workflow_tasks.claim, engine.config, w)
    assert first is not None
    complete(engine, first, {"type": "start_timer", "delay_seconds": 600})
    status, body = engine.tx(signals.signal, "default", "wf-1", "approve", {"input": ["yes"]})
    assert status == 202
    assert body["outcome"] == "signal_received" and body["signal_name"] == "approve"
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    assert task["workflow_wait_kind"] == "signal" and task["signal_name"] == "approve"
    received = task["history_events"][-1]
    assert received["event_type"] == "SignalReceived"
    assert received["payload"]["arguments"] == encode_avro(["yes"])
    assert received["payload"]["payload_codec"] == "avro"


def test_signal_while_leased_gets_a_follow_up_task_after_completion(engine: Engine) -> None:
    start(engine)
    w = worker(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    assert engine.tx(signals.signal, "default", "wf-1", "poke", {})[0] == 202
    status, body = complete(engine, task, {"type": "start_timer", "delay_seconds": 600})
    assert status == 200, body
    follow_up = engine.tx(workflow_tasks.claim, engine.config, w)
    assert follow_up is not None and follow_up["signal_name"] == "poke"
    assert follow_up["history_events"][-1]["event_type"] == "TimerScheduled"


def test_signal_to_closed_run_and_bad_names(engine: Engine) -> None:
    start(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, worker(engine))
    assert task is not None
    complete(engine, task, {"type": "complete_workflow"})
    status, body = engine.tx(signals.signal, "default", "wf-1", "late", {})
    assert status == 409 and body["rejection_reason"] == "run_not_active"
    with pytest.raises(ValidationFailed) as caught:
        engine.tx(signals.signal, "default", "wf-1", "bad\nname", {})
    assert "signal_name" in caught.value.errors
    with pytest.raises(ValidationFailed):
        engine.tx(signals.signal, "default", "wf-1", "x" * 257, {})
