"""Start semantics: duplicate policies, validation, namespace binding."""

from __future__ import annotations

import pytest
from server_engine_helpers import complete, start, worker

from durable_workflow.server.engine import run_views, runs, workflow_tasks
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.engine.errors import EngineError, ValidationFailed


def _types(engine: Engine, run_id: str) -> list[str]:
    return [
        e["event_type"]
        for e in engine.tx(run_views.history_page, engine.config, "default", "wf-1", run_id)[
            "events"
        ]
    ]


def test_duplicate_start_with_default_policy_is_rejected_with_reason(engine: Engine) -> None:
    _, first = start(engine)
    status, body = start(engine)
    assert status == 409
    assert body["outcome"] == "rejected_duplicate"
    assert body["reason"] == "duplicate_not_allowed"
    assert body["run_id"] == first["run_id"]
    assert _types(engine, first["run_id"])[-1] == "StartRejected"


def test_use_existing_returns_the_active_run(engine: Engine) -> None:
    _, first = start(engine)
    status, body = start(engine, duplicate_policy="use-existing")
    assert status == 200
    assert body["outcome"] == "returned_existing_active" and body["run_id"] == first["run_id"]
    assert "reason" not in body
    events = engine.tx(run_views.history_page, engine.config, "default", "wf-1", first["run_id"])[
        "events"
    ]
    assert events[-1]["event_type"] == "StartAccepted"
    assert events[-1]["payload"]["outcome"] == "returned_existing_active"


def test_use_existing_on_a_closed_run_is_rejected(engine: Engine) -> None:
    start(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, worker(engine))
    assert task is not None
    complete(engine, task, {"type": "complete_workflow"})
    status, body = start(engine, duplicate_policy="use-existing")
    assert status == 409 and body["outcome"] == "rejected_duplicate"


def test_start_without_id_generates_a_lowercase_ulid(engine: Engine) -> None:
    status, body = engine.tx(
        runs.start_workflow,
        "default",
        {"workflow_type": "t", "task_queue": "q"},
        max_memo_bytes=engine.config.max_memo_bytes,
    )
    assert status == 201
    assert len(body["workflow_id"]) == 26 and body["workflow_id"] == body["workflow_id"].lower()


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"duplicate_policy": "use_existing"}, "duplicate_policy"),
        ({"workflow_id": "bad id!"}, "workflow_id"),
        ({"retry_policy": {}}, "retry_policy"),
        ({"run_timeout_seconds": 0}, "run_timeout_seconds"),
        ({"input": 5}, "input"),
    ],
)
def test_invalid_start_fields_are_422(engine: Engine, extra: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        start(engine, **extra)
    assert field in caught.value.errors
    assert caught.value.body["reason"] == "validation_failed"


def test_duplicate_policy_message_is_the_documented_one(engine: Engine) -> None:
    with pytest.raises(ValidationFailed) as caught:
        start(engine, duplicate_policy="reject")
    assert caught.value.errors["duplicate_policy"] == [
        "The duplicate_policy field only supports fail or use-existing."
    ]


def test_workflow_id_from_another_namespace_is_reserved(engine: Engine) -> None:
    start(engine)
    with engine.store.transaction() as conn:
        conn.execute(
            "INSERT INTO namespaces (name, retention_days, status, created_at, updated_at)"
            " VALUES ('other', 30, 'active', 'x', 'x')"
        )
    with pytest.raises(EngineError) as caught:
        engine.tx(
            runs.start_workflow,
            "other",
            {"workflow_id": "wf-1", "workflow_type": "greeting"},
            max_memo_bytes=engine.config.max_memo_bytes,
        )
    assert caught.value.status == 409
    assert caught.value.body["reason"] == "workflow_id_reserved_in_namespace"


def test_plain_input_array_is_avro_encoded_and_deadlines_are_set(engine: Engine) -> None:
    start(engine, execution_timeout_seconds=3600, run_timeout_seconds=600)
    view = engine.tx(run_views.describe_workflow, "default", "wf-1")
    assert view["input"] == ["Ada"]
    assert view["input_envelope"]["codec"] == "avro"
    assert view["run_deadline_at"] == "2026-04-25T07:10:00+00:00"
    assert view["execution_deadline_at"] == "2026-04-25T08:00:00+00:00"
    assert view["status"] == "pending" and view["is_terminal"] is False


def test_unknown_workflow_is_instance_not_found(engine: Engine) -> None:
    with pytest.raises(EngineError) as caught:
        engine.tx(run_views.describe_workflow, "default", "missing")
    assert caught.value.status == 404 and caught.value.body["reason"] == "instance_not_found"
