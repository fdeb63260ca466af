"""Executor config validation, envelope building and delivery mapping (no server needed)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import serializer
from durable_workflow.carriers import asgi_app
from durable_workflow.carriers.dispatch import deliver
from durable_workflow.carriers.executor_config import (
    ExecutorConfigError,
    InvocableTarget,
    TransportRetryPolicy,
    load_executor_config,
    validate_executor_config,
)
from durable_workflow.carriers.runner import main
from durable_workflow.carriers.task_envelope import activity_input_envelope
from durable_workflow.external_task_input import parse_external_task_input
from durable_workflow.external_task_result import parse_external_task_result

BASE: dict[str, Any] = {
    "schema": "durable-workflow.external-executor.config",
    "version": 1,
    "defaults": {"task_queue": "q", "namespace": "billing"},
    "auth_refs": {"prod": {"type": "env", "env": "PROD_ENDPOINT_TOKEN"}},
    "carriers": {
        "http": {"type": "invocable_http", "url": "http://127.0.0.1:9/invoke"},
        "proc": {"type": "process", "command": ["run"]},
    },
    "mappings": [
        {
            "name": "charge",
            "kind": "activity",
            "activity_type": "billing.charge",
            "carrier": "http",
            "handler": "charge",
        },
        {
            "name": "start",
            "kind": "workflow_start",
            "workflow_type": "invoice",
            "carrier": "proc",
            "handler": "x",
        },
    ],
}


def config(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        target = doc
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is KeyError:
            del target[leaf]
        else:
            target[leaf] = value
    return doc


def test_valid_config_maps_invocable_activities_only() -> None:
    parsed = validate_executor_config(config())
    assert [m.name for m in parsed.mappings] == ["charge"]
    assert parsed.other_mappings == ("start",)
    assert parsed.namespace == "billing"
    mapping = parsed.mappings[0]
    assert (mapping.task_queue, mapping.target.timeout_seconds) == ("q", 30)
    assert mapping.target.retry_policy.max_attempts == 1
    assert parsed.task_queues == {"q": [mapping]}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"schema": "nope"}, "invalid_schema"),
        ({"version": 2}, "unsupported_version"),
        ({"carriers": {}}, "invalid_schema"),
        ({"mappings": []}, "invalid_schema"),
        ({"mappings__0__carrier": "ghost"}, "unknown_carrier"),
        ({"mappings__0__auth_ref": "ghost"}, "unknown_auth_ref"),
        ({"mappings__0__handler": KeyError}, "missing_handler_target"),
        ({"mappings__0__activity_type": KeyError}, "missing_handler_target"),
        ({"mappings__1__name": "charge"}, "duplicate_mapping_name"),
        ({"defaults__task_queue": KeyError}, "invalid_queue_binding"),
        ({"carriers__http__capabilities": ["workflow_start"]}, "invalid_invocable_carrier_scope"),
        ({"carriers__proc__capabilities": ["activity_task"]}, "unsupported_carrier_capability"),
        ({"carriers__http__url": "https://example.com/x"}, "missing_invocable_auth_ref"),
        ({"carriers__http__url": "http://example.com/x"}, "invalid_carrier_target"),
        ({"carriers__http__url": "ftp://127.0.0.1/x"}, "invalid_carrier_target"),
        ({"carriers__http__url": "https://u:p@example.com/x"}, "invalid_carrier_target"),
        ({"carriers__http__method": "PUT"}, "invalid_carrier_target"),
        ({"carriers__http__timeout_seconds": 901}, "invalid_carrier_target"),
        ({"carriers__http__retry_policy": {"max_attempts": 6}}, "invalid_carrier_target"),
        (
            {"carriers__http__retry_policy": {"retryable_status_codes": [404]}},
            "invalid_carrier_target",
        ),
        ({"carriers__http__retry_policy": {"backoff_seconds": [301]}}, "invalid_carrier_target"),
    ],
)
def test_named_errors(changes: dict[str, Any], code: str) -> None:
    with pytest.raises(ExecutorConfigError) as err:
        validate_executor_config(config(**changes))
    assert err.value.code == code


def test_non_loopback_https_with_auth_ref_is_valid() -> None:
    parsed = validate_executor_config(
        config(carriers__http__url="https://fn.example/run", mappings__0__auth_ref="prod")
    )
    assert parsed.mappings[0].auth is not None and parsed.mappings[0].auth.env == (
        "PROD_ENDPOINT_TOKEN"
    )


def test_overlays_and_file_errors(tmp_path: Path) -> None:
    doc = config(overlays={"staging": {"carriers": {"http": {"timeout_seconds": 5}}}})
    path = tmp_path / "executor.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load_executor_config(path, environ={}).mappings[0].target.timeout_seconds == 30
    staged = load_executor_config(path, environ={"DW_EXTERNAL_EXECUTOR_CONFIG_OVERLAY": "staging"})
    assert staged.mappings[0].target.timeout_seconds == 5
    with pytest.raises(ExecutorConfigError) as err:
        load_executor_config(path, overlay="prod", environ={})
    assert err.value.code == "unknown_overlay"
    path.write_text("{nope", encoding="utf-8")
    with pytest.raises(ExecutorConfigError) as err:
        load_executor_config(path, environ={})
    assert err.value.code == "invalid_json"
    with pytest.raises(ExecutorConfigError) as err:
        load_executor_config(tmp_path / "missing.json", environ={})
    assert err.value.code == "unreadable_config"


def test_error_context_redacts_secret_keys() -> None:
    error = ExecutorConfigError("x", "y", {"token": "abc", "auth_token": "def", "carrier": "c"})
    assert error.context == {"token": "redacted", "auth_token": "redacted", "carrier": "c"}


def test_retry_policy_status_and_backoff() -> None:
    policy = TransportRetryPolicy(max_attempts=3, backoff_seconds=(1, 4))
    assert policy.retries_status(503) and policy.retries_status(408)
    assert not policy.retries_status(404)
    assert [policy.backoff(n) for n in (1, 2, 3)] == [1.0, 4.0, 4.0]


TASK: dict[str, Any] = {
    "task_id": "acttask_9",
    "workflow_id": "wf",
    "run_id": "run",
    "activity_attempt_id": "ATT9",
    "attempt_number": 1,
    "activity_type": "billing.charge",
    "arguments": serializer.envelope([2, 3]),
    "task_queue": "q",
    "lease_owner": "carrier-1",
    "lease_expires_at": "2999-01-01T00:00:00+00:00",
    "deadlines": {"start_to_close": "2999-01-01T00:00:00+00:00"},
}


def test_input_envelope_from_a_leased_task() -> None:
    envelope = activity_input_envelope(TASK)
    parsed = parse_external_task_input(envelope)
    assert parsed.task.idempotency_key == "ATT9"
    assert parsed.task.handler == "billing.charge"
    assert parsed.lease.heartbeat_endpoint == "/api/worker/activity-tasks/acttask_9/heartbeat"
    assert parsed.deadlines == {
        "schedule_to_start": None,
        "start_to_close": "2999-01-01T00:00:00+00:00",
        "schedule_to_close": None,
        "heartbeat": None,
    }
    assert parsed.task.connection is None


def _client(handler: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


TARGET = InvocableTarget(carrier="c", url="http://127.0.0.1/invoke")


async def test_delivery_success_uses_the_endpoint_envelope() -> None:
    app = asgi_app({"billing.charge": lambda a, b: a * b})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        outcome = await deliver(http, TARGET, activity_input_envelope(TASK))
    assert not outcome.synthesized and outcome.status_code == 200
    result = parse_external_task_result(outcome.envelope)
    assert serializer.decode_envelope(result.result["payload"] if result.result else None) == 6


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, b"{not json", "invalid_json"),
        (200, json.dumps({"schema": "durable-workflow.v2.external-task-result"}), "schema"),
        (502, b"bad gateway", "502"),
    ],
)
async def test_delivery_maps_bad_answers_to_malformed_output(
    status: int, body: Any, problem: str
) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, content=body)

    async with _client(answer) as http:
        outcome = await deliver(
            http, TARGET, activity_input_envelope(TASK), auth_token="tok-SECRET-1"
        )
    result = parse_external_task_result(outcome.envelope)
    assert result.malformed_output and result.recorded is False and result.retryable is False
    assert problem in (result.failure.message if result.failure else "")
    request = seen[0]
    assert request.headers["content-type"] == (
        "application/vnd.durable-workflow.external-task-input+json"
    )
    assert request.headers["idempotency-key"] == "ATT9"
    assert request.headers["authorization"] == "Bearer tok-SECRET-1"
    assert "tok-SECRET-1" not in json.dumps(outcome.envelope)


async def test_envelope_for_another_attempt_is_a_schema_mismatch() -> None:
    app = asgi_app({"billing.charge": lambda a, b: a + b})
    other = copy.deepcopy(TASK)
    other["activity_attempt_id"] = "OTHER"

    async def forward(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        body["task"]["idempotency_key"] = "OTHER"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as inner:
            reply = await inner.post("http://x/", content=json.dumps(body))
        return httpx.Response(reply.status_code, content=reply.content)

    async with _client(forward) as http:
        outcome = await deliver(http, TARGET, activity_input_envelope(TASK))
    assert outcome.envelope["failure"]["kind"] == "malformed_output"
    assert "different task" in outcome.envelope["failure"]["message"]


async def test_secret_echoed_by_the_endpoint_is_redacted_from_raw_output() -> None:
    async with _client(lambda request: httpx.Response(500, text="bad token tok-XYZ")) as http:
        outcome = await deliver(http, TARGET, activity_input_envelope(TASK), auth_token="tok-XYZ")
    assert outcome.envelope["raw_output"]["body_preview"] == "bad token redacted"


async def test_transport_timeout_is_not_redelivered() -> None:
    calls = 0

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadTimeout("timed out", request=request)

    target = InvocableTarget(
        carrier="c",
        url="http://127.0.0.1/invoke",
        retry_policy=TransportRetryPolicy(max_attempts=3),
    )
    async with _client(slow) as http:
        outcome = await deliver(http, target, activity_input_envelope(TASK))
    failure = outcome.envelope["failure"]
    assert (failure["kind"], failure["classification"]) == ("timeout", "deadline_exceeded")
    assert calls == 1


def test_runner_cli_check_and_invalid_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("DURABLE_WORKFLOW_AUTH_TOKEN", "server-secret-token")
    path = tmp_path / "executor.json"
    path.write_text(json.dumps(config()), encoding="utf-8")
    assert main(["--config", str(path), "--check"]) == 0
    shown = capsys.readouterr().out
    assert json.loads(shown)["mappings"][0]["activity_type"] == "billing.charge"
    assert "server-secret-token" not in shown
    path.write_text(json.dumps(config(version=3)), encoding="utf-8")
    assert main(["--config", str(path)]) == 2
    assert "unsupported_version" in capsys.readouterr().err
