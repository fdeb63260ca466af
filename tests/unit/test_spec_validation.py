"""The validator over the vendored 2.x documents: finds operations, catches mismatches."""

from __future__ import annotations

from durable_workflow import _spec_validation as spec
from durable_workflow.server.http.gen2.deviations import normalized_request

MANIFEST = {
    name: {"supported": False, "minimum_protocol_version": "1.18"}
    for name in ("local_activities", "worker_sessions", "sticky_execution")
}


def test_operations_are_found_by_method_and_concrete_path() -> None:
    found = spec.find_operation("POST", "/api/worker/update-validation-tasks/abc/approve")
    assert found is not None and found.operation_id == "approveUpdateValidationTask"
    # A literal segment wins over a parameter at the same place.
    history = spec.find_operation("GET", "/api/schedules/s-1/history")
    assert history is not None and history.operation_id == "getScheduleHistory"
    assert spec.find_operation("GET", "/api/nowhere") is None
    assert spec.find_operation("PATCH", "/api/worker/register") is None


def test_request_mismatches_name_their_field() -> None:
    register = spec.find_operation("POST", "/api/worker/register")
    assert register is not None
    ok = {"task_queue": "q", "runtime": "python", "capability_manifest": MANIFEST}
    assert spec.validate_request(register, ok) == []
    errors = spec.validate_request(register, {**ok, "runtime": "cobol", "capability_manifest": {}})
    fields = {e.field for e in errors}
    assert "runtime" in fields and "capability_manifest.local_activities" in fields
    assert spec.validate_request(register, None)[0].field == "body"


def test_response_mismatches_include_status_headers_and_nested_branches() -> None:
    poll = spec.find_operation("POST", "/api/worker/workflow-tasks/poll")
    assert poll is not None
    assert [e.field for e in spec.validate_response(poll, 201, {})] == ["status"]
    errors = spec.validate_response(
        poll, 200, {"task": None}, {"X-Durable-Workflow-Protocol-Version": "1.1"}
    )
    assert any(e.field == "header X-Durable-Workflow-Protocol-Version" for e in errors)
    assert any(e.field == "protocol_version" for e in errors)


def test_the_recorder_collects_all_but_tolerated_mismatches() -> None:
    recorder = spec.SpecRecorder(frozenset({("getClusterInfo", "server_id")}))
    recorder.check_response("GET", "/api/cluster/info", 200, {"server_id": 1}, {})
    assert recorder.mismatches and not any("server_id" in m for m in recorder.mismatches)
    recorder.check_request("GET", "/api/nowhere", None)
    assert any("no operation" in m for m in recorder.mismatches)


def test_deviations_only_fill_what_the_reference_client_words_differently() -> None:
    poll = {"worker_id": "w", "task_queue": "q"}
    assert normalized_request("pollActivityTask", poll)["task_queues"] == ["q"]
    assert normalized_request("pollWorkflowTask", poll) == poll
    done = {"lease_owner": "w"}
    assert normalized_request("completeActivityTask", done)["worker_id"] == "w"
    assert (
        normalized_request("completeActivityTask", {**done, "worker_id": "x"})["worker_id"] == "x"
    )
