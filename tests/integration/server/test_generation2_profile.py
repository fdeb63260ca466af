"""The generation-2 (2.x) profile of the dev server over real HTTP.

Every response these tests see is validated against the vendored OpenAPI
documents by the ``api2`` fixture (a mismatch fails the test at teardown).
"""

from __future__ import annotations

import base64

import pytest
from gen2_helpers import Api2, value

from durable_workflow import _spec_validation as spec
from durable_workflow.server.engine.payload_codec import encode_avro
from durable_workflow.server.http.gen2.deviations import TOLERATED_RESPONSE_FIELDS


def test_cluster_info_is_the_2x_envelope(api2: Api2) -> None:
    response = api2.control("GET", "/cluster/info")
    assert response.status_code == 200
    info = response.json()
    operation = spec.find_operation("GET", "/api/cluster/info")
    assert operation is not None
    errors = spec.validate_response(operation, 200, info)
    # Its one documented deviation, and nothing else.
    tolerated = sorted(t for t in TOLERATED_RESPONSE_FIELDS if t[0] == operation.operation_id)
    assert tolerated
    assert [(operation.operation_id, e.field) for e in errors] == tolerated
    assert info["worker_protocol"]["version"] == "1.20"
    assert info["capabilities"]["payload_codecs"] == ["avro"]
    assert info["version"].startswith("2.")
    assert info["control_plane"]["version"] == 2
    capabilities = info["worker_protocol"]["server_capabilities"]
    assert capabilities["update_validation_tasks"] is True
    assert capabilities["query_tasks"] is True
    # 1.20 features the dev server does not implement are not advertised.
    for absent in ("cooperative_cancellation", "prepared_local_activities", "worker_sessions"):
        assert absent not in capabilities
    assert capabilities["message_streams"]["supported"] is False


def test_a_1_1_cluster_info_and_worker_header_still_negotiate(api2: Api2) -> None:
    # "same major, minor <= advertised": an 0.x-era worker header is accepted.
    ack = api2.register(headers={"X-Durable-Workflow-Protocol-Version": "1.1"})
    assert ack["registered"] is True
    ahead = api2.worker(
        "POST",
        "/heartbeat",
        {"worker_id": "w1"},
        headers={"X-Durable-Workflow-Protocol-Version": "1.21"},
    )
    assert ahead.status_code == 400
    assert ahead.json()["reason"] == "unsupported_protocol_version"
    assert ahead.headers["X-Durable-Workflow-Protocol-Version"] == "1.20"


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (
            {"codec": "json", "blob": base64.b64encode(b'["Ada"]').decode()},
            "unsupported_payload_codec",
        ),
        ({"codec": "avro", "blob": encode_avro(["Ada"])}, "invalid_payload_framing"),
        ({"codec": "avro", "blob": "wwEdoz3/VYAiNwA="}, "unsupported_payload_schema"),
        ({"codec": "avro", "blob": "wwHioz3/VYAiNwQ="}, "invalid_payload_framing"),
        ({"codec": "avro", "blob": "not base64!"}, "invalid_payload_framing"),
        ({"codec": None, "blob": "wwHioz3/VYAiNwQA"}, "unsupported_payload_codec"),
    ],
    ids=["json", "0.4.53-wrapper", "other-fingerprint", "truncated", "not-base64", "null-codec"],
)
def test_legacy_payloads_are_refused_with_the_server_reason(
    api2: Api2, envelope: dict[str, object], reason: str
) -> None:
    response = api2.control(
        "POST",
        "/workflows",
        json={"workflow_id": "wf", "workflow_type": "t", "task_queue": "q", "input": envelope},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["reason"] == reason
    assert body["field"] == "input"
    assert api2.control("GET", "/workflows/wf").status_code == 404


def test_legacy_payloads_are_refused_on_the_worker_plane_too(api2: Api2) -> None:
    api2.register()
    assert api2.start().status_code == 201
    poll = api2.worker("POST", "/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    task = poll.json()["task"]
    command = {"type": "complete_workflow", "result": {"codec": "json", "blob": "IkFkYSI="}}
    response = api2.worker(
        "POST",
        f"/workflow-tasks/{task['task_id']}/complete",
        {
            "lease_owner": "w1",
            "workflow_task_attempt": task["workflow_task_attempt"],
            "commands": [command],
        },
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "unsupported_payload_codec"
    assert response.json()["field"] == "commands.0.result"


def test_value_payloads_round_trip_and_server_encodings_use_value_framing(api2: Api2) -> None:
    assert api2.start(args=["Ada", 7, {"k": [1.5, None]}]).status_code == 201
    described = api2.control("GET", "/workflows/wf-1").json()
    assert described["input"] == ["Ada", 7, {"k": [1.5, None]}]
    # Plain JSON arguments are accepted; what the server encodes itself is a Value frame.
    signal = api2.control("POST", "/workflows/wf-1/signal/go", json={"input": ["x"]})
    assert signal.status_code == 202
    api2.register()
    task = api2.worker(
        "POST", "/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"}
    ).json()["task"]
    assert task["task_kind"] == "workflow"
    assert task["arguments"]["blob"].startswith("wwHi")
    signalled = [e for e in task["history_events"] if e["event_type"] == "SignalReceived"]
    assert signalled and signalled[0]["payload"]["arguments"].startswith("wwHi")


def test_registration_requires_the_2x_fields_and_answers_the_2x_envelope(api2: Api2) -> None:
    missing = api2.worker(
        "POST", "/register", {"worker_id": "w1", "task_queue": "q", "runtime": "python"}
    )
    assert missing.status_code == 422
    assert missing.json()["reason"] == "validation_failed"
    assert missing.json()["field"] == "capability_manifest"
    ack = api2.register(capabilities=["query_tasks"])
    assert ack["registered"] is True
    assert ack["namespace"] == "default"
    assert ack["capabilities"] == ["query_tasks"]
    assert len(ack["registration_token"]) == 32
    assert ack["heartbeat_interval_seconds"] >= 1
    again = api2.register()
    assert again["registration_token"] != ack["registration_token"]


def test_deregistration_recovers_leases_and_is_gone_after(api2: Api2) -> None:
    api2.register()
    assert api2.start().status_code == 201
    leased = api2.worker("POST", "/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    assert leased.json()["task"] is not None
    gone = api2.worker("DELETE", "/registrations/w1")
    assert gone.status_code == 200
    assert gone.json()["outcome"] == "deregistered"
    assert gone.json()["recovered_workflow_task_count"] == 1
    assert api2.worker("DELETE", "/registrations/w1").json()["reason"] == "worker_not_registered"
    # The recovered task is leased again by a replacement worker at once.
    api2.register("w2")
    again = api2.worker("POST", "/workflow-tasks/poll", {"worker_id": "w2", "task_queue": "q"})
    assert again.json()["task"]["task_id"] == leased.json()["task"]["task_id"]


def test_fenced_deregistration_replays_its_receipt(api2: Api2) -> None:
    token = api2.register()["registration_token"]
    wrong = api2.worker("POST", "/registrations/w1/deregister", {"registration_token": "0" * 32})
    assert wrong.status_code == 409
    first = api2.worker("POST", "/registrations/w1/deregister", {"registration_token": token})
    assert first.status_code == 200
    assert first.json()["registration_token"] == token
    replay = api2.worker("POST", "/registrations/w1/deregister", {"registration_token": token})
    assert replay.status_code == 200
    assert (
        replay.json()["recovered_workflow_task_count"]
        == first.json()["recovered_workflow_task_count"]
    )
    malformed = api2.worker("POST", "/registrations/w1/deregister", {"registration_token": "nope"})
    assert malformed.status_code == 422
    assert malformed.json()["field"] == "registration_token"


def test_requests_are_validated_against_the_vendored_schemas(api2: Api2) -> None:
    bad_poll = api2.worker(
        "POST",
        "/workflow-tasks/poll",
        {"worker_id": "w1", "task_queue": "q", "task_kinds": ["activity"]},
    )
    assert bad_poll.status_code == 422
    assert bad_poll.json()["reason"] == "validation_failed"
    assert bad_poll.json()["field"] == "task_kinds.0"
    bad_runtime = api2.worker(
        "POST", "/register", {"task_queue": "q", "runtime": "cobol", "capability_manifest": {}}
    )
    assert bad_runtime.status_code == 422
    fields = bad_runtime.json()["errors"]
    assert "runtime" in fields
    assert "capability_manifest.local_activities" in fields
    no_body = api2.worker("POST", "/heartbeat", None)
    assert no_body.status_code == 422
    assert no_body.json()["field"] == "body"
    # A well-formed request of the same operation goes through.
    api2.register()
    assert api2.worker("POST", "/heartbeat", {"worker_id": "w1"}).status_code == 200
    assert value([1])["codec"] == "avro"


def _leased_task(api2: Api2) -> dict[str, object]:
    api2.register()
    assert api2.start().status_code == 201
    poll = api2.worker("POST", "/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"})
    task: dict[str, object] = poll.json()["task"]
    return task


def test_condition_wait_occurrence_identity_is_recorded_from_1_17(api2: Api2) -> None:
    task = _leased_task(api2)
    command = {
        "type": "open_condition_wait",
        "condition_key": "done",
        "condition_wait_occurrence_id": "wait-1",
        "timeout_seconds": 60,
    }
    body = {
        "lease_owner": "w1",
        "workflow_task_attempt": task["workflow_task_attempt"],
        "commands": [command],
    }
    old = {"X-Durable-Workflow-Protocol-Version": "1.16"}
    refused = api2.worker("POST", f"/workflow-tasks/{task['task_id']}/complete", body, headers=old)
    assert refused.status_code == 409
    assert refused.json()["reason"] == "condition_wait_occurrence_identity_unavailable"
    assert refused.json()["recorded"] is False
    done = api2.worker("POST", f"/workflow-tasks/{task['task_id']}/complete", body)
    assert done.status_code == 200, done.text
    run_id = task["run_id"]
    events = api2.control("GET", f"/workflows/wf-1/runs/{run_id}/history").json()["events"]
    opened = [e for e in events if e["event_type"] == "ConditionWaitOpened"]
    scheduled = [e for e in events if e["event_type"] == "TimerScheduled"]
    assert opened[0]["payload"]["condition_wait_occurrence_id"] == "wait-1"
    assert scheduled[0]["payload"]["condition_wait_occurrence_id"] == "wait-1"


def _schedule(api2: Api2, schedule_id: str, workflow_type: str) -> None:
    body = {
        "schedule_id": schedule_id,
        "spec": {"cron_expressions": ["0 0 1 1 *"]},
        "action": {"workflow_type": workflow_type, "task_queue": "q"},
    }
    assert api2.control("POST", "/schedules", json=body).status_code == 201


def test_schedules_list_in_bounded_filtered_pages_and_delete_with_204(api2: Api2) -> None:
    for index in range(3):
        _schedule(api2, f"s-{index}", "a" if index < 2 else "b")
    first = api2.control("GET", "/schedules", params={"page_size": 1, "workflow_type": "a"})
    assert first.status_code == 200
    page = first.json()
    assert page["schedule_count"] == 1
    assert page["schedules"][0]["namespace"] == "default"
    token = page["next_page_token"]
    second = api2.control(
        "GET", "/schedules", params={"page_size": 1, "workflow_type": "a", "next_page_token": token}
    ).json()
    assert second["next_page_token"] is None
    seen = {page["schedules"][0]["schedule_id"], second["schedules"][0]["schedule_id"]}
    assert seen == {"s-0", "s-1"}
    mismatch = api2.control("GET", "/schedules", params={"page_size": 1, "next_page_token": token})
    assert mismatch.status_code == 409
    assert mismatch.json()["reason"] == "schedule_page_token_filter_mismatch"
    deleted = api2.control("DELETE", "/schedules/s-2")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api2.control("GET", "/schedules/s-2").status_code == 404


def test_history_export_bundle_has_2x_shapes(api2: Api2) -> None:
    started = api2.start()
    run_id = started.json()["run_id"]
    bundle = api2.control("GET", f"/workflows/wf-1/runs/{run_id}/history/export").json()
    assert bundle["workflow"]["memo"] == {}
    assert bundle["workflow"]["search_attributes"] == {}
    assert api2.control("POST", "/workflows/wf-1/terminate", json={}).status_code == 202
