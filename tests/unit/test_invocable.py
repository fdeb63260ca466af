"""Invocable carriers: every failure kind of contracts.md §4.3 and the HTTP/Lambda/ASGI shapes."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import serializer
from durable_workflow.carriers import asgi_app
from durable_workflow.converter import DataConverter
from durable_workflow.errors import ActivityCancelled, NonRetryableError
from durable_workflow.external_storage import (
    ExternalPayloadCache,
    ExternalPayloadReference,
    LocalFilesystemExternalStorage,
)
from durable_workflow.external_task_input import ExternalTaskInputError
from durable_workflow.external_task_result import (
    EXTERNAL_TASK_RESULT_MEDIA_TYPE,
    ExternalTaskResult,
    parse_external_task_result,
)
from durable_workflow.invocable import (
    InvocableActivityHandler,
    handle_invocable_activity,
    handle_invocable_http_request,
    handle_invocable_lambda_event,
    lambda_invocable_activity_handler,
)


def _at(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


def envelope(
    handler: str = "add",
    arguments: Any = None,
    *,
    codec: str = "avro",
    lease_in: float = 60.0,
    start_to_close_in: float | None = 30.0,
) -> dict[str, Any]:
    args = serializer.envelope(arguments, codec=codec) if arguments is not None else None
    return {
        "schema": "durable-workflow.v2.external-task-input",
        "version": 1,
        "task": {
            "id": "acttask_1",
            "kind": "activity_task",
            "attempt": 2,
            "activity_attempt_id": "attempt_1",
            "task_queue": "q",
            "handler": handler,
            "connection": None,
            "idempotency_key": "attempt_1",
        },
        "workflow": {"id": "wf-1", "run_id": "run-1"},
        "lease": {
            "owner": "carrier",
            "expires_at": _at(lease_in),
            "heartbeat_endpoint": "/api/worker/activity-tasks/acttask_1/heartbeat",
        },
        "payloads": {"arguments": args},
        "deadlines": {
            "schedule_to_start": None,
            "start_to_close": _at(start_to_close_in) if start_to_close_in is not None else None,
            "schedule_to_close": None,
            "heartbeat": None,
        },
        "headers": {},
    }


def add(a: int, b: int) -> int:
    return a + b


async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "late"


def cancelled() -> None:
    raise ActivityCancelled("stop requested")


def refuse() -> None:
    raise NonRetryableError("card declined")


def boom() -> None:
    raise RuntimeError("provider down")


def crash() -> None:
    sys.exit(3)


def unencodable() -> object:
    return object()


HANDLERS = {
    "add": add,
    "slow": slow,
    "cancelled": cancelled,
    "refuse": refuse,
    "boom": boom,
    "crash": crash,
    "unencodable": unencodable,
}


async def run(env: dict[str, Any], **options: Any) -> ExternalTaskResult:
    handlers = options.pop("handlers", HANDLERS)
    result = await handle_invocable_activity(env, handlers, **options)
    parsed = parse_external_task_result(result)  # every answer is a valid envelope
    assert parsed.task.id == "acttask_1"
    assert parsed.task.attempt == 2
    assert parsed.task.idempotency_key == "attempt_1"
    assert parsed.recorded is True
    assert parsed.metadata["carrier"] == options.get("carrier", "python-invocable")
    return parsed


@pytest.mark.parametrize("codec", ["avro", "json"])
async def test_success_round_trip(codec: str) -> None:
    parsed = await run(envelope("add", [2, 3], codec=codec), result_codec=codec)
    assert parsed.succeeded
    assert parsed.result is not None
    assert parsed.result["payload"]["codec"] == codec
    assert serializer.decode_envelope(parsed.result["payload"]) == 5


async def test_scalar_argument_is_one_positional_argument() -> None:
    parsed = await run(envelope("slow", 0.0))
    assert serializer.decode_envelope(parsed.result["payload"] if parsed.result else None) == (
        "late"
    )


def _failure(parsed: ExternalTaskResult) -> Any:
    assert parsed.failed and parsed.failure is not None
    return parsed.failure


async def test_workflow_task_is_refused() -> None:
    env = envelope()
    env["task"].update(kind="workflow_task", compatibility=None)
    del env["task"]["activity_attempt_id"]
    env["workflow"].update(status="running", resume={})
    env["history"] = {"events": [], "last_sequence": 0, "next_page_token": None, "encoding": None}
    parsed = parse_external_task_result(await handle_invocable_activity(env, HANDLERS))
    failure = _failure(parsed)
    assert (failure.kind, failure.classification) == ("application", "application_error")
    assert failure.type == "UnsupportedExternalTaskKind"
    assert parsed.retryable is False


async def test_deadline_passed_before_running() -> None:
    parsed = await run(envelope("add", [1, 1], start_to_close_in=-5))
    failure = _failure(parsed)
    assert (failure.kind, failure.classification) == ("timeout", "deadline_exceeded")
    assert failure.timeout_type == "deadline_exceeded"
    assert failure.type == "ExternalTaskDeadlineExceeded"
    assert parsed.retryable is True and parsed.deadline_exceeded
    details = serializer.decode_envelope(failure.details)
    assert details["deadline"] == "deadlines.start_to_close"


async def test_expired_lease_counts_as_a_deadline() -> None:
    parsed = await run(envelope("add", [1, 1], lease_in=-1, start_to_close_in=None))
    assert _failure(parsed).classification == "deadline_exceeded"


async def test_handler_running_past_the_deadline_times_out() -> None:
    parsed = await run(envelope("slow", [5.0], start_to_close_in=0.3))
    failure = _failure(parsed)
    assert (failure.kind, failure.classification) == ("timeout", "deadline_exceeded")
    assert parsed.retryable is True


async def test_unreadable_deadline_is_a_decode_failure() -> None:
    env = envelope("add", [1, 1])
    env["deadlines"]["heartbeat"] = "next tuesday"
    parsed = await run(env)
    failure = _failure(parsed)
    assert (failure.kind, failure.classification) == ("decode_failure", "decode_failure")
    assert parsed.retryable is False


async def test_unknown_handler() -> None:
    parsed = await run(envelope("missing", [1]))
    failure = _failure(parsed)
    assert failure.type == "UnknownActivityHandler"
    assert failure.classification == "application_error" and parsed.retryable is False


async def test_cancellation() -> None:
    parsed = await run(envelope("cancelled"))
    failure = _failure(parsed)
    assert (failure.kind, failure.classification) == ("cancellation", "cancelled")
    assert failure.cancelled is True and parsed.retryable is False


async def test_non_retryable_application_error() -> None:
    parsed = await run(envelope("refuse"))
    failure = _failure(parsed)
    assert (failure.kind, failure.type, failure.message) == (
        "application",
        "NonRetryableError",
        "card declined",
    )
    assert parsed.retryable is False
    assert "card declined" in (failure.stack_trace or "")


async def test_retryable_application_error() -> None:
    parsed = await run(envelope("boom"), carrier="edge-1")
    failure = _failure(parsed)
    assert (failure.kind, failure.type) == ("application", "RuntimeError")
    assert parsed.retryable is True


async def test_handler_crash() -> None:
    parsed = await run(envelope("crash"))
    failure = _failure(parsed)
    assert (failure.kind, failure.classification) == ("handler_crash", "handler_crash")
    assert failure.type == "SystemExit" and parsed.retryable is True
    assert parsed.handler_crash


async def test_unsupported_payload_reference() -> None:
    env = envelope("add")
    env["payloads"]["arguments"] = {
        "codec": "avro",
        "external_storage": {"uri": "s3://bucket/key", "sha256": "00"},
    }
    parsed = await run(env)
    failure = _failure(parsed)
    assert (failure.kind, failure.classification) == (
        "unsupported_payload",
        "unsupported_payload_reference",
    )
    assert parsed.retryable is False and parsed.unsupported_payload


async def test_payload_reference_is_fetched_through_the_handlers_storage(tmp_path: Path) -> None:
    store = LocalFilesystemExternalStorage(tmp_path)
    cache = ExternalPayloadCache()
    env = envelope("add")
    env["payloads"]["arguments"] = serializer.external_storage_envelope(
        [2, 3], external_storage=store, threshold_bytes=1
    )
    assert "external_storage" in env["payloads"]["arguments"]
    parsed = await run(env, external_storage=store, external_storage_cache=cache)
    assert parsed.succeeded and parsed.result is not None
    assert serializer.decode_envelope(parsed.result["payload"]) == 5
    assert cache.current_bytes > 0  # verified bytes are kept for the next decode

    # Bytes that no longer match the reference's checksum are a decode failure.
    reference = ExternalPayloadReference.from_dict(env["payloads"]["arguments"]["external_storage"])
    store.path_for(reference.uri).write_bytes(b"tampered!")
    failure = _failure(await run(env, external_storage=store))
    assert (failure.kind, failure.classification) == ("decode_failure", "decode_failure")
    assert failure.type == "ExternalPayloadIntegrityError"

    handler = InvocableActivityHandler(HANDLERS, external_storage=store)
    assert handler.external_storage is store


async def test_unsupported_payload_codec() -> None:
    env = envelope("add")
    env["payloads"]["arguments"] = {"codec": "protobuf", "blob": "AAAA"}
    failure = _failure(await run(env))
    assert failure.classification == "unsupported_payload_codec"


async def test_undecodable_arguments() -> None:
    env = envelope("add")
    env["payloads"]["arguments"] = {"codec": "avro", "blob": "not base64!"}
    parsed = await run(env)
    failure = _failure(parsed)
    assert (failure.kind, failure.classification) == ("decode_failure", "decode_failure")
    assert serializer.decode_envelope(failure.details) == {"codec": "avro"}


async def test_unencodable_result() -> None:
    failure = _failure(await run(envelope("unencodable")))
    assert failure.classification == "decode_failure"


async def test_invalid_input_raises_naming_the_field() -> None:
    env = envelope("add", [1, 2])
    del env["task"]["idempotency_key"]
    with pytest.raises(ExternalTaskInputError, match=r"'task\.idempotency_key'"):
        await handle_invocable_activity(env, HANDLERS)


def test_unsupported_result_codec_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="result_codec"):
        InvocableActivityHandler(HANDLERS, result_codec="protobuf")


async def test_http_helper_shapes() -> None:
    ok = await handle_invocable_http_request(json.dumps(envelope("add", [1, 2])), HANDLERS)
    assert ok.status_code == 200
    assert ok.headers["Content-Type"] == EXTERNAL_TASK_RESULT_MEDIA_TYPE
    assert ok.body == json.dumps(ok.json(), separators=(",", ":"), sort_keys=True)
    assert parse_external_task_result(ok.json()).succeeded
    for bad in (b"[1, 2]", "{not json", json.dumps({"schema": "x"})):
        response = await handle_invocable_http_request(bad, HANDLERS)
        assert response.status_code == 400
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["error"] == "invalid_invocable_request"


async def test_lambda_event_with_base64_body() -> None:
    body = base64.b64encode(json.dumps(envelope("add", [4, 4])).encode()).decode()
    response = await handle_invocable_lambda_event(
        {"body": body, "isBase64Encoded": True}, HANDLERS
    )
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
    result = parse_external_task_result(json.loads(response["body"]))
    assert serializer.decode_envelope(result.result["payload"] if result.result else None) == 8


def test_lambda_entry_point_is_synchronous() -> None:
    entry = lambda_invocable_activity_handler(HANDLERS, carrier="lambda")
    response = entry({"body": json.dumps(envelope("boom"))}, None)
    parsed = parse_external_task_result(json.loads(response["body"]))
    assert parsed.metadata["carrier"] == "lambda"
    assert parsed.failure_kind == "application"
    assert entry({"body": "[]"}, None)["statusCode"] == 400


async def test_asgi_app_serves_envelopes() -> None:
    app = asgi_app(HANDLERS, path="/invoke")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://carrier") as http:
        ok = await http.post("/invoke", content=json.dumps(envelope("add", [20, 22])))
        assert ok.status_code == 200
        assert ok.headers["content-type"] == EXTERNAL_TASK_RESULT_MEDIA_TYPE
        parsed = parse_external_task_result(ok.json())
        assert serializer.decode_envelope(parsed.result["payload"] if parsed.result else None) == 42
        assert (await http.post("/invoke", content=b"nope")).status_code == 400
        wrong_method = await http.get("/invoke")
        assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
        assert (await http.post("/elsewhere", content=b"{}")).status_code == 404


# -- external storage (through the handler's converter) --------------------------
BIG = "x" * 4096


def total_length(*parts: str) -> int:
    return sum(len(part) for part in parts)


def referenced(store: LocalFilesystemExternalStorage, arguments: list[Any]) -> dict[str, Any]:
    env = envelope("length")
    env["payloads"]["arguments"] = serializer.external_storage_envelope(
        arguments, external_storage=store, threshold_bytes=64
    )
    assert "external_storage" in env["payloads"]["arguments"]
    return env


async def test_reference_arguments_are_fetched_through_the_driver(tmp_path: Path) -> None:
    store = LocalFilesystemExternalStorage(tmp_path)
    handler = InvocableActivityHandler({"length": total_length}, external_storage=store)
    parsed = parse_external_task_result(await handler.handle(referenced(store, [BIG, "ab"])))
    assert parsed.succeeded and parsed.result is not None
    assert serializer.decode_envelope(parsed.result["payload"]) == 4098


async def test_verified_bytes_come_from_the_cache_on_the_second_read(tmp_path: Path) -> None:
    store = LocalFilesystemExternalStorage(tmp_path)
    cache = ExternalPayloadCache()
    handler = InvocableActivityHandler(
        {"length": total_length}, external_storage=store, external_storage_cache=cache
    )
    assert handler.external_storage_cache is cache
    env = referenced(store, [BIG])
    first = parse_external_task_result(await handler.handle(env))
    for stored in tmp_path.rglob("*"):
        if stored.is_file():
            stored.unlink()  # only the cache can answer now
    second = parse_external_task_result(await handler.handle(env))
    assert first.succeeded and second.succeeded
    assert (cache.misses, cache.hits) == (1, 1)


async def test_a_missing_object_is_a_decode_failure_naming_it(tmp_path: Path) -> None:
    store = LocalFilesystemExternalStorage(tmp_path)
    env = referenced(store, [BIG])
    for stored in tmp_path.rglob("*"):
        if stored.is_file():
            stored.unlink()
    handler = InvocableActivityHandler({"length": total_length}, external_storage=store)
    parsed = parse_external_task_result(await handler.handle(env))
    assert parsed.failed and parsed.failure is not None
    assert parsed.failure.classification == "decode_failure"
    assert parsed.failure.type == "ExternalPayloadNotFoundError"
    assert parsed.retryable is False


async def test_a_converter_with_a_threshold_offloads_large_results(tmp_path: Path) -> None:
    store = LocalFilesystemExternalStorage(tmp_path)
    converter = DataConverter(external_storage=store, threshold_bytes=64)
    handler = InvocableActivityHandler({"echo": lambda value: value}, converter=converter)
    env = envelope("echo", [BIG])
    parsed = parse_external_task_result(await handler.handle(env))
    assert parsed.succeeded and parsed.result is not None
    payload = parsed.result["payload"]
    assert "external_storage" in payload
    assert serializer.decode_envelope(payload, external_storage=store) == BIG


@dataclasses.dataclass
class Charge:
    amount: Decimal
    due: datetime


def bill(charge: Charge) -> Charge:
    assert isinstance(charge.amount, Decimal) and isinstance(charge.due, datetime)
    return dataclasses.replace(charge, amount=charge.amount * 2)


async def test_rich_arguments_and_results_follow_the_handlers_hints() -> None:
    due = "2026-12-06T10:00:00+00:00"
    parsed = await run(
        envelope("bill", [{"amount": "1.25", "due": due}]), handlers={**HANDLERS, "bill": bill}
    )
    assert parsed.succeeded and parsed.result is not None
    decoded = serializer.decode_envelope(parsed.result["payload"])
    assert decoded == {"amount": "2.50", "due": due}

    failed = await run(
        envelope("bill", [{"amount": "lots", "due": due}]), handlers={**HANDLERS, "bill": bill}
    )
    failure = _failure(failed)
    assert (failure.kind, failure.classification) == ("decode_failure", "decode_failure")
    assert failure.type == "PayloadConversionError" and failed.retryable is False
    assert "charge" in failure.message
