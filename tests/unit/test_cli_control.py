"""The control-plane CLI: coverage of the catalogue, request building, output and errors."""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from durable_workflow import cli
from durable_workflow._generated.operations import OPERATIONS, Operations
from durable_workflow.cli._control import build_control_parser, build_request, run_control
from durable_workflow.cli._control_output import render
from durable_workflow.cli._control_specs import COMMANDS, command_words
from durable_workflow.client import Client


class Canned:
    """A loopback server answering every request with one status and JSON body."""

    def __init__(self) -> None:
        self.status = 200
        self.answer: Any = {}
        self.paths: list[str] = []
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                canned.paths.append(f"{self.command} {self.path}")
                payload = json.dumps(canned.answer).encode()
                self.send_response(canned.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _reply

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def canned() -> Iterator[Canned]:
    server = Canned()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _run(canned: Canned, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_control([*argv, "--server", canned.url])
    return code, out.getvalue(), err.getvalue()


def test_every_catalogued_operation_has_a_cli_command() -> None:
    assert set(COMMANDS) == set(OPERATIONS)


# Client methods for the operations upstream 0.4.53 has no method for.
EXTRA_CLIENT_METHODS = {
    "health.ready": "ready",
    "workflow.debug": "debug_workflow",
    "workflow.debug_run": "debug_workflow",
    "workflow.signal_run": "signal_workflow_run",
    "workflow.query_run": "query_workflow_run",
    "workflow.update_run": "update_workflow_run",
    "workflow.cancel_run": "cancel_workflow_run",
    "workflow.terminate_run": "terminate_workflow_run",
    "system.metrics": "system_metrics",
    "system.operator_metrics": "operator_metrics",
    "workflow-task.heartbeat": "heartbeat_workflow_task",
}


def test_every_catalogued_operation_is_reachable_from_the_client() -> None:
    for name, spec in OPERATIONS.items():
        assert hasattr(Operations, name.replace(".", "_").replace("-", "_")), name
        method = spec.sdk_method or EXTRA_CLIENT_METHODS[name]
        assert callable(getattr(Client, method, None)), (name, method)


def test_command_words_come_from_the_operation_name() -> None:
    assert command_words("task_queue.build_id.drain") == ["task-queue", "build-id", "drain"]
    assert command_words("workflow-task.poll") == ["workflow-task", "poll"]


def test_request_building_targets_path_query_and_nested_body() -> None:
    parser = build_control_parser()
    args = parser.parse_args(
        ["workflow-task", "fail", "t-1", "3", "--lease-owner", "w", "--message", "boom"]
    )
    path, query, body = build_request(args.control_command, args)
    assert path == {"taskId": "t-1"}
    assert query == {}
    assert body == {"workflow_task_attempt": 3, "lease_owner": "w", "failure": {"message": "boom"}}
    args = parser.parse_args(["workflow", "history", "wf", "r1", "--page-size", "5"])
    assert build_request(args.control_command, args) == (
        {"workflowId": "wf", "runId": "r1"},
        {"page_size": 5, "wait_new_event": 0},
        None,
    )


def test_disabled_flag_sends_enabled_false() -> None:
    args = build_control_parser().parse_args(
        ["namespace", "set-storage-driver", "ns", "--driver", "s3", "--disabled"]
    )
    assert build_request(args.control_command, args)[2] == {"driver": "s3", "enabled": False}


def test_bad_json_is_an_argument_error() -> None:
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        build_control_parser().parse_args(["workflow", "signal", "wf", "go", "--input", "[1,"])


def test_table_output_lists_rows(canned: Canned) -> None:
    canned.answer = {
        "workflows": [
            {"workflow_id": "a", "status": "running", "memo": {"x": 1}, "tags": ["t"]},
            {"workflow_id": "b", "status": "completed"},
        ]
    }
    code, out, _ = _run(canned, "workflow", "list", "--status", "running")
    assert code == 0
    assert canned.paths == ["GET /api/workflows?status=running"]
    lines = [line for line in out.splitlines() if "a" in line or "b" in line]
    assert any("running" in line for line in lines) and any("completed" in line for line in lines)
    assert "memo.x" in out  # one nested level is flattened
    assert "tags" not in out  # lists are not columns


def test_plain_table_without_rich() -> None:
    out = io.StringIO()
    from durable_workflow.cli import _control_output

    _control_output._plain(["name", "status"], [["a", "active"]], out)
    assert out.getvalue().splitlines() == ["NAME  STATUS", "a     active"]
    json_out = io.StringIO()
    render({"k": [1]}, "json", json_out)
    assert json.loads(json_out.getvalue()) == {"k": [1]}


def test_server_errors_exit_1_with_the_reason(canned: Canned) -> None:
    canned.status = 404
    canned.answer = {"reason": "schedule_not_found", "message": "no schedule"}
    code, out, err = _run(canned, "schedule", "describe", "nightly", "--json")
    assert code == 1 and out == ""
    assert "schedule not found: nightly" in err
    detail = json.loads(err.split("\n", 1)[1])
    assert detail["error"] == "ScheduleNotFound"


def test_bad_key_value_exits_1(canned: Canned) -> None:
    code, _, err = _run(canned, "workflow", "start", "--type", "t", "--search-attr", "novalue")
    assert code == 1 and "KEY=VALUE" in err
    assert canned.paths == []


def test_console_script_dispatches_control_commands(canned: Canned) -> None:
    canned.answer = {"namespaces": [{"name": "default"}]}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["namespace", "list", "--server", canned.url, "--output", "json"])
    assert code == 0
    assert json.loads(out.getvalue()) == canned.answer


def test_activity_commands_use_the_standalone_routes(canned: Canned) -> None:
    canned.answer = {
        "activities": [{"activity_id": "a1", "status": "running"}],
        "activity_count": 1,
    }
    code, out, _ = _run(canned, "activity", "list", "--status", "running", "--json")
    assert code == 0
    assert canned.paths == ["GET /api/activities?status=running"]
    listed = json.loads(out)
    assert listed["activity_count"] == 1 and listed["activities"][0]["activity_id"] == "a1"


def test_workflow_result_reports_a_terminated_workflow(canned: Canned) -> None:
    canned.answer = {
        "workflow_id": "wf",
        "run_id": "r1",
        "status": "terminated",
        "events": [{"event_type": "WorkflowTerminated", "payload": {"reason": "operator"}}],
    }
    code, out, err = _run(canned, "workflow", "result", "wf", "--timeout", "1")
    assert code == 1 and out == ""
    assert "operator" in err
