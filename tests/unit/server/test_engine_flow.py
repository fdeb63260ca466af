"""End-to-end engine flow without HTTP: start -> activity -> complete, history shape."""

from __future__ import annotations

from server_engine_helpers import complete, owner, start, worker

from durable_workflow.server.engine import activities, activity_outcomes, run_views, workflow_tasks
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.engine.payload_codec import encode_avro


def test_one_activity_workflow_records_the_documented_history(engine: Engine) -> None:
    status, body = start(engine)
    assert status == 201 and body["outcome"] == "started_new" and body["status"] == "pending"
    w = worker(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    assert task["workflow_task_attempt"] == 1
    assert task["arguments"] == {"codec": "avro", "blob": encode_avro(["Ada"])}
    assert [e["event_type"] for e in task["history_events"]] == ["StartAccepted", "WorkflowStarted"]
    assert task["total_history_events"] == 2 and task["next_history_page_token"] is None
    assert task["workflow_wait_kind"] is None and "condition_definition_fingerprint" in task
    started = task["history_events"][1]["payload"]
    assert started["command"]["payload"] == encode_avro(["Ada"])
    assert started["workflow_instance_id"] == "wf-1"

    status, done = complete(
        engine,
        task,
        {
            "type": "schedule_activity",
            "activity_type": "greet",
            "queue": "q",
            "arguments": {"codec": "avro", "blob": encode_avro(["Ada"])},
        },
    )
    assert status == 200, done
    assert done["recorded"] is True and done["run_status"] == "waiting"
    assert len(done["created_task_ids"]) == 1

    act = engine.tx(activities.claim, engine.config, w)
    assert act is not None
    assert act["attempt_number"] == 1 and act["activity_type"] == "greet"
    assert act["activity_attempt_id"].isupper()
    assert "retry_policy" not in act and "deadlines" not in act
    result = {"codec": "avro", "blob": encode_avro("hello Ada")}
    status, out = engine.tx(
        activity_outcomes.complete, "default", act["task_id"], {**owner(act), "result": result}
    )
    assert status == 200 and out["outcome"] == "completed" and out["next_task_id"]

    task2 = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task2 is not None and task2["task_id"] == out["next_task_id"]
    assert task2["workflow_wait_kind"] == "activity"
    assert task2["workflow_sequence"] == 3
    assert task2["workflow_event_type"] == "ActivityCompleted"
    status, fin = complete(engine, task2, {"type": "complete_workflow", "result": result})
    assert status == 200 and fin["run_status"] == "completed"

    history = engine.tx(run_views.history_page, engine.config, "default", "wf-1", body["run_id"])
    types = [e["event_type"] for e in history["events"]]
    assert types == [
        "StartAccepted",
        "WorkflowStarted",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivityCompleted",
        "WorkflowCompleted",
    ]
    assert [e["sequence"] for e in history["events"]] == [1, 2, 3, 4, 5, 6]
    payloads = [e["payload"] for e in history["events"]]
    assert payloads[2]["sequence"] == 3 and payloads[3]["sequence"] == 3
    assert payloads[4]["result"] == result["blob"] and payloads[4]["payload_codec"] == "avro"
    assert payloads[5]["output"] == result["blob"]
    view = engine.tx(run_views.describe_workflow, "default", "wf-1")
    assert view["status"] == "completed" and view["output"] == "hello Ada"
    assert view["input"] == ["Ada"]


def test_step_numbers_follow_command_order_from_last_sequence(engine: Engine) -> None:
    start(engine)
    w = worker(engine)
    task = engine.tx(workflow_tasks.claim, engine.config, w)
    assert task is not None
    status, body = complete(
        engine,
        task,
        {"type": "record_side_effect", "result": encode_avro(1)},
        {"type": "complete_workflow"},
        {"type": "schedule_activity", "activity_type": "a"},
        {"type": "start_timer", "delay_seconds": 5},
        {
            "type": "record_version_marker",
            "change_id": "c",
            "version": 1,
            "min_supported": -1,
            "max_supported": 1,
        },
        {"type": "upsert_search_attributes", "attributes": {"Tenant": " acme ", "Gone": ""}},
    )
    assert status == 200, body
    assert body["run_status"] == "completed"
    events = engine.tx(run_views.history_page, engine.config, "default", "wf-1", task["run_id"])[
        "events"
    ]
    kinds = [(e["event_type"], e["payload"].get("sequence")) for e in events[2:]]
    assert kinds == [
        ("SideEffectRecorded", 3),
        ("ActivityScheduled", 4),
        ("TimerScheduled", 5),
        ("VersionMarkerRecorded", 6),
        ("SearchAttributesUpserted", 7),
        ("WorkflowCompleted", None),
    ]
    assert events[6]["payload"]["merged"] == {"Tenant": "acme"}
