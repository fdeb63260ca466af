"""Simulated server bumps of the vendored 2.x specs are classified additive or breaking."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from durable_workflow._contract_diff import ADDITIVE, BREAKING, MATCH, diff_folders, verdict
from durable_workflow.cli import main

VENDORED = Path(__file__).resolve().parents[2] / "contracts" / "server-2.x"
WORKER = "worker-protocol-api.openapi.yaml"
CONTROL = "control-plane-api.openapi.yaml"
SESSIONS = "worker-sessions-runtime.schema.json"

Edit = Callable[[dict[str, Any]], None]


def _bump(tmp_path: Path, file: str, edit: Edit) -> Path:
    """A copy of the vendored folder with ``file`` parsed, edited and written back."""
    new = tmp_path / "new"
    shutil.copytree(VENDORED, new)
    path = new / file
    text = path.read_text("utf-8")
    yaml_file = file.endswith(".yaml")
    loader, dumper = (
        getattr(yaml, c, getattr(yaml, c[1:])) for c in ("CSafeLoader", "CSafeDumper")
    )
    document = yaml.load(text, Loader=loader) if yaml_file else json.loads(text)
    edit(document)
    text = yaml.dump(document, Dumper=dumper) if yaml_file else json.dumps(document)
    path.write_text(text, encoding="utf-8")
    return new


def _schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = doc["components"]["schemas"][name]
    return schema


def _kinds(new: Path) -> dict[str, set[str]]:
    """where -> kinds of the changes reported there."""
    out: dict[str, set[str]] = {}
    for change in diff_folders(VENDORED, new):
        out.setdefault(change.where, set()).add(change.kind)
    return out


def test_unchanged_folder_matches() -> None:
    assert verdict(diff_folders(VENDORED, VENDORED)) == MATCH


def test_a_reformatted_copy_matches(tmp_path: Path) -> None:
    assert verdict(diff_folders(VENDORED, _bump(tmp_path, WORKER, lambda doc: None))) == MATCH


def test_new_optional_request_field_is_additive(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        _schema(doc, "WorkerRegistrationRequest")["properties"]["locale"] = {"type": "string"}

    kinds = _kinds(_bump(tmp_path, WORKER, edit))
    assert kinds == {"WorkerRegistrationRequest.locale": {ADDITIVE}}


def test_new_operation_is_additive(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["paths"]["/worker/ping"] = {
            "post": {"operationId": "pingWorker", "responses": {"204": {"description": "ok"}}}
        }

    changes = diff_folders(VENDORED, _bump(tmp_path, WORKER, edit))
    assert [(c.kind, c.where) for c in changes] == [(ADDITIVE, "pingWorker")]
    assert verdict(changes) == ADDITIVE


def test_new_response_enum_value_is_additive(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        verbs = _schema(doc, "WorkerServerCapabilities")["properties"]["worker_session_verbs"]
        verbs["items"]["enum"].append("renew")

    # Reported once, under the shared schema, not under each of the 30 operations using it.
    kinds = _kinds(_bump(tmp_path, WORKER, edit))
    assert kinds == {"WorkerServerCapabilities.worker_session_verbs[]": {ADDITIVE}}


def test_removed_request_field_is_breaking(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        del _schema(doc, "WorkerRegistrationRequest")["properties"]["build_id"]

    kinds = _kinds(_bump(tmp_path, WORKER, edit))
    assert kinds == {"WorkerRegistrationRequest.build_id": {BREAKING}}


def test_removed_operation_is_breaking(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        del doc["paths"]["/worker/registrations/{workerId}"]

    changes = diff_folders(VENDORED, _bump(tmp_path, WORKER, edit))
    assert [(c.kind, c.where) for c in changes] == [(BREAKING, "deregisterWorker")]


def test_renamed_operation_is_breaking(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["paths"]["/workers"]["get"]["operationId"] = "listAllWorkers"

    changes = diff_folders(VENDORED, _bump(tmp_path, CONTROL, edit))
    assert {(c.kind, c.where) for c in changes} == {
        (BREAKING, "listWorkers"),
        (ADDITIVE, "listAllWorkers"),
    }
    assert verdict(changes) == BREAKING


def test_retyped_field_is_breaking_on_either_side(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        _schema(doc, "WorkerHeartbeatRequest")["properties"]["active_slots"]["type"] = "string"
        status = _schema(doc, "ActivityTaskStatusResponse")["allOf"][1]["properties"]
        status["can_continue"]["type"] = "string"

    kinds = _kinds(_bump(tmp_path, WORKER, edit))
    assert kinds["WorkerHeartbeatRequest.active_slots"] == {BREAKING}
    assert kinds["ActivityTaskStatusResponse<allOf[1]>.can_continue"] == {BREAKING}


def test_widened_request_type_is_additive_and_new_request_const_breaking(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        props = _schema(doc, "WorkerHeartbeatRequest")["properties"]
        props["active_slots"]["type"] = ["integer", "null"]
        props["worker_id"]["const"] = "w1"

    changes = diff_folders(VENDORED, _bump(tmp_path, WORKER, edit))
    assert {(c.kind, c.where, c.what) for c in changes} == {
        (ADDITIVE, "WorkerHeartbeatRequest.active_slots", "retyped: integer -> integer|null"),
        (BREAKING, "WorkerHeartbeatRequest.worker_id", "now a constant"),
    }


def test_newly_required_request_field_is_breaking(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        _schema(doc, "WorkerRegistrationRequest")["required"].append("build_id")

    kinds = _kinds(_bump(tmp_path, WORKER, edit))
    assert kinds == {"WorkerRegistrationRequest.build_id": {BREAKING}}


def test_tighter_request_bound_is_breaking_and_looser_additive(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        props = _schema(doc, "WorkerHeartbeatRequest")["properties"]
        props["active_slots"]["minimum"] = 1
        props["worker_id"].pop("minLength")

    kinds = _kinds(_bump(tmp_path, WORKER, edit))
    assert kinds["WorkerHeartbeatRequest.active_slots"] == {BREAKING}
    assert kinds["WorkerHeartbeatRequest.worker_id"] == {ADDITIVE}


def test_changes_in_referenced_schema_files_are_followed(tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        del doc["$defs"]["workerSessionHeartbeatRequest"]["properties"]["lease_seconds"]

    kinds = _kinds(_bump(tmp_path, SESSIONS, edit))
    assert kinds == {"workerSessionHeartbeatRequest.lease_seconds": {BREAKING}}


def _cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["contract", *args])
    return code, capsys.readouterr().out


def test_cli_diff_and_check_against_report_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def remove(doc: dict[str, Any]) -> None:
        del doc["paths"]["/worker/heartbeat"]

    breaking = _bump(tmp_path, WORKER, remove)
    code, out = _cli("diff", str(VENDORED), str(breaking), capsys=capsys)
    assert code == 1
    assert "BREAKING  heartbeatWorker: operation removed (POST /worker/heartbeat)" in out
    assert out.rstrip().endswith("0 additive, 1 breaking: breaking")
    code, out = _cli(
        "check", "--against", str(VENDORED), "--contracts", str(breaking), "--json", capsys=capsys
    )
    assert code == 1
    report = json.loads(out)
    assert report["verdict"] == BREAKING and report["counts"] == {ADDITIVE: 0, BREAKING: 1}
    code, out = _cli(
        "check", "--against", str(breaking), "--contracts", str(VENDORED), capsys=capsys
    )
    assert code == 0 and out.rstrip().endswith("1 additive, 0 breaking: additive")


def test_cli_diff_of_a_folder_without_documents_is_unusable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["contract", "diff", str(tmp_path), str(tmp_path)]) == 2
    assert "cannot compare" in capsys.readouterr().err
