"""Updates over raw HTTP: accept, the update task, complete/fail_update, wait policies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from server_http_helpers import Api, check_model

from durable_workflow.server.engine.payload_codec import encode_avro


def _first_task(api: Api) -> dict[str, Any]:
    """Start wf-1 and park it: its first task schedules a timer and completes."""
    api.start()
    api.register()
    task = _poll(api)
    done = _complete(api, task, [{"type": "start_timer", "delay_seconds": 3600}])
    assert done.status_code == 200, done.text
    return task


def _poll(api: Api) -> dict[str, Any]:
    response = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    task = response.json()["task"]
    assert task is not None, response.text
    return dict(task)


def _complete(api: Api, task: dict[str, Any], commands: list[dict[str, Any]]) -> Any:
    return api.worker(
        f"/workflow-tasks/{task['task_id']}/complete",
        {"lease_owner": "w1", "workflow_task_attempt": task["workflow_task_attempt"],
         "commands": commands},
    )  # fmt: skip


def _events(api: Api, run_id: str) -> list[dict[str, Any]]:
    history = api.control("GET", f"/workflows/wf-1/runs/{run_id}/history")
    return list(history.json()["events"])


def test_accepted_update_is_applied_by_an_update_task(api: Api) -> None:
    first = _first_task(api)
    accepted = api.control("POST", "/workflows/wf-1/update/approve", json={"input": [7]})
    assert accepted.status_code == 202, accepted.text
    check_model("workflow.update", accepted)
    body = accepted.json()
    assert body["update_status"] == "accepted" and body["outcome"] is None
    assert body["wait_for"] == "accepted" and body["update_name"] == "approve"
    assert body["control_plane"]["operation"] == "update"
    update_id = body["update_id"]

    task = _poll(api)
    assert task["workflow_update_id"] == update_id
    accepted_event = task["history_events"][-1]
    assert accepted_event["event_type"] == "UpdateAccepted"
    assert accepted_event["payload"]["arguments"] == encode_avro([7])
    assert accepted_event["payload"]["update_name"] == "approve"
    result = {"codec": "avro", "blob": encode_avro("ok")}
    done = _complete(api, task, [{"type": "complete_update", "update_id": update_id,
                                  "result": result}])  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["run_status"] == "waiting"
    types = [e["event_type"] for e in _events(api, first["run_id"])]
    assert types[-2:] == ["UpdateApplied", "UpdateCompleted"]

    follow = _poll(api)  # the workflow gets a plain task to react to the new state
    assert follow["workflow_update_id"] is None
    again = _complete(api, task, [{"type": "complete_update", "update_id": update_id}])
    assert again.status_code == 409


def test_wait_for_completed_returns_the_result(api: Api) -> None:
    _first_task(api)
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(
            api.control, "POST", "/workflows/wf-1/update/approve",
            json={"wait_for": "completed", "wait_timeout_seconds": 5},
        )  # fmt: skip
        task = _poll(api)
        result = {"codec": "avro", "blob": encode_avro({"n": 1})}
        _complete(api, task, [{"type": "complete_update", "update_id": task["workflow_update_id"],
                               "result": result}])  # fmt: skip
        answer = waiting.result(timeout=10)
    assert answer.status_code == 200, answer.text
    check_model("workflow.update", answer)
    body = answer.json()
    assert body["outcome"] == "update_completed" and body["update_status"] == "completed"
    assert body["result"] == {"n": 1} and body["result_envelope"] == result
    assert body["wait_timed_out"] is False and body["applied_at"] is not None


def test_failed_update_is_422_and_wait_timeout_is_202(api: Api) -> None:
    first = _first_task(api)
    timed_out = api.control(
        "POST", "/workflows/wf-1/update/approve",
        json={"wait_for": "completed", "wait_timeout_seconds": 1},
    )  # fmt: skip
    assert timed_out.status_code == 202
    assert timed_out.json()["wait_timed_out"] is True
    task = _poll(api)
    failed = _complete(
        api, task,
        [{"type": "fail_update", "update_id": task["workflow_update_id"], "message": "no way",
          "exception_type": "ValueError", "non_retryable": True}],
    )  # fmt: skip
    assert failed.status_code == 200, failed.text
    completed = _events(api, first["run_id"])[-1]
    assert completed["event_type"] == "UpdateCompleted"
    assert completed["payload"]["message"] == "no way"
    assert completed["payload"]["non_retryable"] is True
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(
            api.control, "POST", "/workflows/wf-1/update/approve",
            json={"wait_for": "completed", "wait_timeout_seconds": 5},
        )  # fmt: skip
        second = _poll(api)
        while second["workflow_update_id"] is None:  # the follow-up of the first update
            api.worker(
                f"/workflow-tasks/{second['task_id']}/fail",
                {"lease_owner": "w1", "workflow_task_attempt": 1, "failure": {"message": "-"}},
            )
            second = _poll(api)
        _complete(api, second, [{"type": "fail_update", "message": "still no",
                                 "update_id": second["workflow_update_id"]}])  # fmt: skip
        answer = waiting.result(timeout=10)
    assert answer.status_code == 422
    assert answer.json()["outcome"] == "update_failed"
    assert answer.json()["failure_message"] == "still no"
    assert answer.json()["failure_id"]


def test_update_command_for_an_unknown_update_is_rejected(api: Api) -> None:
    _first_task(api)
    api.control("POST", "/workflows/wf-1/signal/poke", json={})
    task = _poll(api)
    rejected = _complete(api, task, [{"type": "complete_update", "update_id": "nope"}])
    assert rejected.status_code == 409 and rejected.json()["reason"] == "invalid_commands"
    missing_id = _complete(api, task, [{"type": "fail_update", "message": "x"}])
    assert missing_id.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"wait_policy": "completed"}, "wait_policy"),
        ({"wait_for": "soon"}, "wait_for"),
        ({"wait_timeout_seconds": 0}, "wait_timeout_seconds"),
    ],
)
def test_update_validation(api: Api, body: dict[str, Any], field: str) -> None:
    api.start()
    response = api.control("POST", "/workflows/wf-1/update/approve", json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


def test_update_targeting_errors(api: Api) -> None:
    unknown = api.control("POST", "/workflows/nope/update/approve", json={})
    assert unknown.status_code == 404 and unknown.json()["reason"] == "instance_not_found"
    api.start()
    historical = api.control("POST", "/workflows/wf-1/runs/old/update/approve", json={})
    assert historical.status_code == 409
    api.control("POST", "/workflows/wf-1/terminate", json={})
    closed = api.control("POST", "/workflows/wf-1/update/approve", json={})
    assert closed.status_code == 409
    assert closed.json()["reason"] == "run_not_active"
    assert closed.json()["update_status"] == "rejected"
