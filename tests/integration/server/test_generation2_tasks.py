"""Generation-2 task kinds over real HTTP: update-validation tasks, the multiplexed poll, queries.

Every response is checked against the vendored specs by the ``api2`` fixture.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
from gen2_helpers import Api2, value

from durable_workflow.converter._value_codec import decode_value_blob

CONTRACTS = {"greeting": {"updates": ["set"], "update_validators": ["set"], "queries": ["stage"]}}
VALIDATING = {
    "capabilities": ["update_validation_tasks", "query_tasks"],
    "workflow_command_contracts": CONTRACTS,
}


def _in_background(call: Callable[[], httpx.Response]) -> Callable[[], httpx.Response]:
    """Run a blocking request in a thread; the returned function joins and gives its response."""
    box: dict[str, httpx.Response] = {}
    thread = threading.Thread(target=lambda: box.setdefault("response", call()))
    thread.start()

    def join() -> httpx.Response:
        thread.join(timeout=30)
        return box["response"]

    return join


def _complete_first_task(api2: Api2) -> dict[str, Any]:
    """Start a run and finish its first workflow task with an open condition wait."""
    assert api2.start().status_code == 201
    poll = api2.worker(
        "POST",
        "/workflow-tasks/poll",
        {"worker_id": "w1", "task_queue": "q", "task_kinds": ["workflow"]},
    )
    task: dict[str, Any] = poll.json()["task"]
    assert task["task_kind"] == "workflow"
    body = {
        "lease_owner": "w1",
        "workflow_task_attempt": task["workflow_task_attempt"],
        "commands": [{"type": "open_condition_wait", "condition_key": "set"}],
    }
    done = api2.worker("POST", f"/workflow-tasks/{task['task_id']}/complete", body)
    assert done.status_code == 200, done.text
    return task


def _update(api2: Api2, arg: int) -> Callable[[], httpx.Response]:
    return _in_background(
        lambda: api2.control(
            "POST",
            "/workflows/wf-1/update/set",
            json={"input": value([arg]), "wait_for": "accepted"},
        )
    )


def _poll_validation(api2: Api2, kinds: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"worker_id": "w1", "task_queue": "q"}
    if kinds is None:
        response = api2.worker("POST", "/update-validation-tasks/poll", body)
    else:
        response = api2.worker("POST", "/workflow-tasks/poll", {**body, "task_kinds": kinds})
    assert response.status_code == 200, response.text
    assert response.json()["poll_status"] == "leased"
    task: dict[str, Any] = response.json()["task"]
    return task


def _history_types(api2: Api2, run_id: str) -> list[str]:
    events = api2.control("GET", f"/workflows/wf-1/runs/{run_id}/history").json()["events"]
    return [e["event_type"] for e in events]


def test_a_validated_update_is_accepted_only_after_the_worker_approves(api2: Api2) -> None:
    api2.register(**VALIDATING)
    run = _complete_first_task(api2)
    answer = _update(api2, 7)
    task = _poll_validation(api2, ["workflow", "update_validation"])
    assert task["task_kind"] == "update_validation"
    assert task["update_name"] == "set"
    assert decode_value_blob(task["update_arguments"]["blob"]) == [7]
    assert task["payload_codec"] == "avro"
    assert [e["event_type"] for e in task["history_events"]][-1] == "ConditionWaitOpened"
    # Nothing is recorded while the validator runs.
    assert "UpdateAccepted" not in _history_types(api2, run["run_id"])
    fence = {"lease_owner": "w1", "update_validation_attempt": task["update_validation_attempt"]}
    path = f"/update-validation-tasks/{task['update_validation_task_id']}"
    stale = api2.worker("POST", path + "/approve", {**fence, "update_validation_attempt": 9})
    assert stale.json()["reason"] == "stale_update_validation_completion"
    owner = api2.worker("POST", path + "/approve", {**fence, "lease_owner": "w9"})
    assert owner.json()["reason"] == "update_validation_lease_owner_mismatch"
    approved = api2.worker("POST", path + "/approve", fence)
    assert approved.status_code == 200
    assert approved.json()["outcome"] == "approved"
    response = answer()
    assert response.status_code == 202, response.text
    assert response.json()["update_id"] == task["update_id"]
    assert "UpdateAccepted" in _history_types(api2, run["run_id"])
    again = api2.worker("POST", path + "/approve", fence)
    assert again.json()["reason"] == "duplicate_update_validation_completion"


def test_a_rejected_update_leaves_no_trace(api2: Api2) -> None:
    api2.register(**VALIDATING)
    run = _complete_first_task(api2)
    answer = _update(api2, -1)
    task = _poll_validation(api2)  # the dedicated poll
    rejected = api2.worker(
        "POST",
        f"/update-validation-tasks/{task['update_validation_task_id']}/reject",
        {
            "lease_owner": "w1",
            "update_validation_attempt": task["update_validation_attempt"],
            "failure": {
                "message": "value must not be negative",
                "reason": "update_validator_rejected",
                "validation_errors": {"value": ["must not be negative"]},
            },
        },
    )
    assert rejected.status_code == 200
    assert rejected.json()["outcome"] == "rejected"
    response = answer()
    assert response.status_code == 422
    assert response.json()["reason"] == "update_validator_rejected"
    assert response.json()["validation_errors"] == {"value": ["must not be negative"]}
    assert "UpdateAccepted" not in _history_types(api2, run["run_id"])


def test_an_update_without_a_validator_needs_no_validation(api2: Api2) -> None:
    api2.register(**VALIDATING)
    _complete_first_task(api2)
    response = api2.control(
        "POST", "/workflows/wf-1/update/other", json={"input": value([1]), "wait_for": "accepted"}
    )
    assert response.status_code == 202, response.text
    assert response.json()["update_status"] == "accepted"


def test_validators_require_the_validation_task_capability(api2: Api2) -> None:
    refused = api2.worker(
        "POST",
        "/register",
        {
            "worker_id": "w1",
            "task_queue": "q",
            "runtime": "python",
            "capability_manifest": VALIDATING_MANIFEST,
            "workflow_command_contracts": CONTRACTS,
        },
    )
    assert refused.status_code == 409
    assert refused.json()["reason"] == "update_validation_capability_not_advertised"
    api2.register()  # no validators, no capability
    multiplexed = api2.worker(
        "POST",
        "/workflow-tasks/poll",
        {"worker_id": "w1", "task_queue": "q", "task_kinds": ["workflow", "update_validation"]},
    )
    assert multiplexed.status_code == 409
    assert multiplexed.json()["reason"] == "update_validation_capability_not_advertised"


def test_a_poll_request_id_stays_bound_to_its_task_kinds(api2: Api2) -> None:
    api2.register(**VALIDATING)
    first = {
        "worker_id": "w1",
        "task_queue": "q",
        "poll_request_id": "p-1",
        "task_kinds": ["update_validation", "workflow"],
        "timeout_seconds": 0,
    }
    assert api2.worker("POST", "/workflow-tasks/poll", first).status_code == 200
    reordered = {**first, "task_kinds": ["workflow", "update_validation"]}
    assert api2.worker("POST", "/workflow-tasks/poll", reordered).status_code == 200
    conflict = api2.worker("POST", "/workflow-tasks/poll", {**first, "task_kinds": ["workflow"]})
    assert conflict.status_code == 409
    assert conflict.json()["reason"] == "poll_request_task_kinds_conflict"
    assert conflict.json()["bound_task_kinds"] == ["workflow", "update_validation"]


def test_query_tasks_carry_value_payloads(api2: Api2) -> None:
    api2.register(**VALIDATING)
    _complete_first_task(api2)
    answer = _in_background(lambda: api2.control("POST", "/workflows/wf-1/query/stage", json={}))
    poll = api2.worker("POST", "/query-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    task = poll.json()["task"]
    assert task["payload_codec"] == "avro"
    assert decode_value_blob(task["query_arguments"]["blob"]) == []
    assert decode_value_blob(task["workflow_arguments"]["blob"]) == ["Ada"]
    done = api2.worker(
        "POST",
        f"/query-tasks/{task['query_task_id']}/complete",
        {
            "lease_owner": "w1",
            "query_task_attempt": task["query_task_attempt"],
            "result": "waiting",
            "result_envelope": value("waiting"),
        },
    )
    assert done.status_code == 200, done.text
    response = answer()
    assert response.status_code == 200
    assert response.json()["result"] == "waiting"


VALIDATING_MANIFEST = {
    name: {"supported": False, "minimum_protocol_version": "1.18"}
    for name in ("local_activities", "worker_sessions", "sticky_execution")
}


def test_long_poll_capacity_answers_the_typed_backpressure() -> None:
    from durable_workflow.testing import dev_server

    with dev_server(generation=2, poll_timeout=2.0, long_poll_capacity=1) as handle:
        api2 = Api2(handle)
        try:
            api2.register()
            body = {"worker_id": "w1", "task_queue": "q"}
            # Two polls of one wait pool at once: whichever parks first is held, the
            # other is refused (no ordering between them is assumed).
            first = _in_background(lambda: api2.worker("POST", "/workflow-tasks/poll", body))
            second = _in_background(lambda: api2.worker("POST", "/workflow-tasks/poll", body))
            answers = [first(), second()]
            statuses = sorted(answer.status_code for answer in answers)
            assert statuses == [200, 429], statuses
            refused = next(answer for answer in answers if answer.status_code == 429)
            assert refused.json()["reason"] == "long_poll_capacity_exhausted"
            assert refused.json()["task_kind"] == "workflow_task"
            assert refused.json()["wait_pool"] == "worker"
            assert refused.headers["Retry-After"] == "1"
            # The query pool is separate, and the worker pool is free again.
            assert (
                api2.worker(
                    "POST", "/workflow-tasks/poll", {**body, "timeout_seconds": 0}
                ).status_code
                == 200
            )
        finally:
            api2.close()
        assert api2.spec.mismatches == []
