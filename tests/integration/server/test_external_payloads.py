"""External payload references accepted by the dev server, verified before use (payloads.md §4-5).

Each test sets a ``local`` policy on a tmp dir, offloads values there with the
SDK driver (as a worker or client would), and sends the ``{codec,
external_storage}`` envelope over real HTTP.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from server_http_helpers import Api, check_model
from storage_emulators import BUCKET, Backend

from durable_workflow.external_storage import LocalFilesystemExternalStorage, envelope_for_blob
from durable_workflow.server.engine.payload_codec import EXTERNAL_MARKER_PREFIX, encode_avro
from durable_workflow.testing import DevServerHandle

WORKER_ID = "w1"


def set_local_policy(api: Api, root: Path) -> None:
    policy = {"driver": "local", "config": {"uri": root.as_uri()}}
    response = api.control("PUT", "/namespaces/default/external-storage", json=policy)
    assert response.status_code == 200, response.text


def offload(root: Path, value: Any) -> tuple[dict[str, Any], str]:
    """The external envelope of ``value`` stored under ``root`` and its blob text."""
    blob = encode_avro(value)
    driver = LocalFilesystemExternalStorage(root)
    envelope = envelope_for_blob(blob, codec="avro", external_storage=driver, threshold_bytes=1)
    assert set(envelope) == {"codec", "external_storage"}
    return envelope, blob


def stored_path(envelope: dict[str, Any]) -> Path:
    return Path(envelope["external_storage"]["uri"].removeprefix("file://"))


def db_text(server: DevServerHandle) -> str:
    """Every text cell of the dev server's database, joined (to prove bytes were not stored)."""
    conn = sqlite3.connect(server.db_path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        cells = []
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):
                cells.extend(str(c) for c in row if isinstance(c, str))
        return "\n".join(cells)
    finally:
        conn.close()


def workflow_task(api: Api) -> dict[str, Any]:
    poll = api.worker("/workflow-tasks/poll", {"worker_id": WORKER_ID, "task_queue": "q"})
    assert poll.status_code == 200, poll.text
    task = poll.json()["task"]
    assert task is not None
    return task  # type: ignore[no-any-return]


def complete_workflow_task(api: Api, task: dict[str, Any], commands: list[Any]) -> Any:
    return api.worker(
        f"/workflow-tasks/{task['task_id']}/complete",
        {"lease_owner": WORKER_ID, "workflow_task_attempt": task["workflow_task_attempt"],
         "commands": commands},
    )  # fmt: skip


def activity_task(api: Api, workflow_id: str = "wf-1") -> dict[str, Any]:
    """Start a run, schedule one activity and lease it."""
    assert api.start(workflow_id).status_code == 201
    api.register()
    task = workflow_task(api)
    schedule = {"type": "schedule_activity", "activity_type": "greet", "queue": "q",
                "arguments": encode_avro(["Ada"])}  # fmt: skip
    assert complete_workflow_task(api, task, [schedule]).status_code == 200
    poll = api.worker("/activity-tasks/poll", {"worker_id": WORKER_ID, "task_queue": "q"})
    return poll.json()["task"]  # type: ignore[no-any-return]


def complete_activity(api: Api, act: dict[str, Any], result: Any) -> Any:
    ident = {"activity_attempt_id": act["activity_attempt_id"], "lease_owner": WORKER_ID}
    return api.worker(f"/activity-tasks/{act['task_id']}/complete", {**ident, "result": result})


def history(api: Api, workflow_id: str = "wf-1") -> list[dict[str, Any]]:
    run_id = api.control("GET", f"/workflows/{workflow_id}").json()["run_id"]
    response = api.control("GET", f"/workflows/{workflow_id}/runs/{run_id}/history")
    assert response.status_code == 200, response.text
    return response.json()["events"]  # type: ignore[no-any-return]


def event(events: list[dict[str, Any]], event_type: str) -> dict[str, Any]:
    return next(e for e in events if e["event_type"] == event_type)


def assert_field_error(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["reason"] == "validation_failed"
    assert field in body["errors"], body["errors"]


def test_activity_result_reference_is_verified_and_stored_as_reference(
    api: Api, server: DevServerHandle, tmp_path: Path
) -> None:
    set_local_policy(api, tmp_path)
    act = activity_task(api)
    value = {"rows": [f"row-{i:06d}" for i in range(20_000)]}
    envelope, blob = offload(tmp_path, value)

    done = complete_activity(api, act, envelope)
    assert done.status_code == 200, done.text
    assert done.json()["outcome"] == "completed"
    check_model("activity.complete", done)

    completed = event(history(api), "ActivityCompleted")
    assert completed["payload"]["result"] == envelope
    assert completed["payload"]["payload_codec"] == "avro"
    task = workflow_task(api)
    worker_view = event(task["history_events"], "ActivityCompleted")
    assert worker_view["payload"]["result"] == envelope
    stored = db_text(server)
    assert blob not in stored and blob[:4000] not in stored
    assert EXTERNAL_MARKER_PREFIX in stored


def test_tampered_object_is_refused_and_nothing_is_recorded(api: Api, tmp_path: Path) -> None:
    set_local_policy(api, tmp_path)
    act = activity_task(api)
    envelope, _ = offload(tmp_path, "the real result")
    path = stored_path(envelope)
    original = path.read_bytes()
    path.write_bytes(original[:-2] + (b"AA" if original[-2:] != b"AA" else b"BB"))

    tampered = complete_activity(api, act, envelope)
    assert_field_error(tampered, "result.external_storage.sha256")
    assert "ActivityCompleted" not in [e["event_type"] for e in history(api)]

    path.write_bytes(original + b"xx")
    assert_field_error(complete_activity(api, act, envelope), "result.external_storage.size_bytes")
    path.unlink()
    assert_field_error(complete_activity(api, act, envelope), "result.external_storage.uri")

    path.write_bytes(original)  # the attempt is still open: the genuine object completes it
    assert complete_activity(api, act, envelope).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sha256": "ab" * 10}, "result.external_storage.sha256"),
        ({"size_bytes": -1}, "result.external_storage.size_bytes"),
        ({"size_bytes": "12"}, "result.external_storage.size_bytes"),
        ({"schema": "durable-workflow.v2.external-payload-reference.v0"},
         "result.external_storage.schema"),
        ({"uri": ""}, "result.external_storage.uri"),
        ({"codec": "json"}, "result.external_storage.codec"),
    ],
)  # fmt: skip
def test_malformed_reference_names_the_field(
    api: Api, tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    set_local_policy(api, tmp_path)
    act = activity_task(api)
    envelope, _ = offload(tmp_path, "value")
    bad = {"codec": "avro", "external_storage": {**envelope["external_storage"], **change}}
    assert_field_error(complete_activity(api, act, bad), field)


def test_reference_without_a_policy_is_refused(api: Api, tmp_path: Path) -> None:
    act = activity_task(api)
    envelope, _ = offload(tmp_path, "value")
    refused = complete_activity(api, act, envelope)
    assert_field_error(refused, "result")
    assert "external storage driver" in refused.json()["errors"]["result"][0]
    policy = {"driver": "local", "enabled": False, "config": {"uri": tmp_path.as_uri()}}
    api.control("PUT", "/namespaces/default/external-storage", json=policy)
    disabled = complete_activity(api, act, envelope)
    assert_field_error(disabled, "result")
    assert "external_storage_disabled" in disabled.json()["errors"]["result"][0]


def test_reference_outside_the_policy_root_is_refused(api: Api, tmp_path: Path) -> None:
    set_local_policy(api, tmp_path / "policy-root")
    act = activity_task(api)
    envelope, _ = offload(tmp_path / "elsewhere", "value")
    assert_field_error(complete_activity(api, act, envelope), "result.external_storage.uri")


def test_activity_failure_details_reference(api: Api, tmp_path: Path) -> None:
    set_local_policy(api, tmp_path)
    act = activity_task(api)
    envelope, _ = offload(tmp_path, {"trace": "x" * 5000})
    ident = {"activity_attempt_id": act["activity_attempt_id"], "lease_owner": WORKER_ID}
    failure = {"message": "boom", "non_retryable": True, "details": envelope}
    bad = {**failure, "details": {"codec": "avro",
           "external_storage": {**envelope["external_storage"], "sha256": "0" * 64}}}  # fmt: skip
    refused = api.worker(f"/activity-tasks/{act['task_id']}/fail", {**ident, "failure": bad})
    assert_field_error(refused, "failure.details.external_storage.sha256")
    failed = api.worker(f"/activity-tasks/{act['task_id']}/fail", {**ident, "failure": failure})
    assert failed.status_code == 200, failed.text
    exception = event(history(api), "ActivityFailed")["payload"]["exception"]
    assert exception["details"] == envelope
    assert exception["details_payload_codec"] == "avro"


def test_activity_result_reference_through_s3(api: Api, s3_env: Backend) -> None:
    policy = {"driver": "s3", "config": {"bucket": BUCKET, "prefix": "refs"}}
    assert api.control("PUT", "/namespaces/default/external-storage", json=policy).is_success
    act = activity_task(api)
    driver = s3_env.driver(prefix="refs")
    envelope = envelope_for_blob(
        encode_avro({"big": "b" * 10_000}), codec="avro", external_storage=driver, threshold_bytes=1
    )
    key = envelope["external_storage"]["uri"].split("/", 3)[3]
    s3_env.overwrite(key, b"not the payload")
    assert_field_error(complete_activity(api, act, envelope), "result.external_storage.size_bytes")
    outside = envelope_for_blob(
        encode_avro("x"), codec="avro", external_storage=s3_env.driver(), threshold_bytes=1
    )
    assert_field_error(complete_activity(api, act, outside), "result.external_storage.uri")
    envelope = envelope_for_blob(
        encode_avro({"big": "c" * 10_000}), codec="avro", external_storage=driver, threshold_bytes=1
    )
    assert complete_activity(api, act, envelope).status_code == 200
    assert event(history(api), "ActivityCompleted")["payload"]["result"] == envelope
