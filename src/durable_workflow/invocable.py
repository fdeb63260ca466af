"""Invocable activity carriers (contracts.md §4.5, §8.3): run one activity from an envelope.

An invocable endpoint receives an external-task *input* envelope, runs the
named handler, and answers with a *result* envelope. Every way that can go
wrong maps onto the failure catalogue of contracts.md §4.3, so the carrier
that reports to the server never has to guess what happened.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import inspect
import json
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from durable_workflow import serializer
from durable_workflow.converter import ConverterAttribute, DataConverter
from durable_workflow.converter._rich_values import PayloadConversionError, call_arguments
from durable_workflow.errors import ActivityCancelled, NonRetryableError
from durable_workflow.external_storage import (
    ExternalPayloadCache,
    ExternalStorageDriver,
    ExternalStorageError,
)
from durable_workflow.external_task_input import (
    ExternalTaskInput,
    ExternalTaskInputError,
    parse_external_task_input,
)
from durable_workflow.external_task_result import (
    EXTERNAL_TASK_RESULT_MEDIA_TYPE,
    EXTERNAL_TASK_RESULT_SCHEMA,
    EXTERNAL_TASK_RESULT_VERSION,
)

__all__ = [
    "RESULT_CONTENT_TYPE",
    "InvocableActivityCallable",
    "InvocableActivityHandler",
    "InvocableHttpResponse",
    "handle_invocable_activity",
    "handle_invocable_http_request",
    "handle_invocable_lambda_event",
    "lambda_invocable_activity_handler",
]

RESULT_CONTENT_TYPE = "application/vnd.durable-workflow.result+json"
DEFAULT_CARRIER = "python-invocable"

#: An activity handler: sync, or returning an awaitable (upstream's name).
InvocableActivityCallable = Callable[..., Any | Awaitable[Any]]


class _Failure(Exception):
    """Internal: a decided failure outcome, raised to leave the pipeline early."""

    def __init__(
        self,
        kind: str,
        classification: str,
        message: str,
        *,
        retryable: bool,
        failure_type: str | None = None,
        stack_trace: str | None = None,
        timeout_type: str | None = None,
        cancelled: bool = False,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.classification = classification
        self.message = message
        self.retryable = retryable
        self.failure_type = failure_type
        self.stack_trace = stack_trace
        self.timeout_type = timeout_type
        self.cancelled = cancelled
        self.details = details


class _Crash(Exception):
    """Internal: the handler escaped with a non-``Exception`` (e.g. ``SystemExit``).

    Such an escape would tear down the event loop (asyncio re-raises
    ``SystemExit`` from tasks), so it is caught where it happens and carried
    out as an ordinary exception; the catalogue calls it a handler crash.
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(repr(original))
        self.original = original


def _contained(handler: InvocableActivityCallable, arguments: list[Any]) -> Any:
    """Run a sync handler in its worker thread, containing crash-type escapes."""
    try:
        return handler(*arguments)
    except (Exception, ActivityCancelled, KeyboardInterrupt):
        raise
    except BaseException as exc:
        raise _Crash(exc) from exc


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _parse_time(value: str) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _deadlines(task: ExternalTaskInput) -> list[tuple[str, str]]:
    """Every deadline the task carries: the lease expiry and the four activity deadlines."""
    found = [("lease.expires_at", task.lease.expires_at)]
    for name, value in (task.deadlines or {}).items():
        if value is not None:
            found.append((f"deadlines.{name}", value))
    return found


class InvocableActivityHandler:
    """Runs activity handlers for input envelopes; answers result envelopes.

    ``handlers`` maps the envelope's ``task.handler`` (the activity type) to a
    callable. Sync callables run in a worker thread so a slow one cannot stall
    an ASGI server's event loop, and every handler is bounded by the task's
    nearest deadline. With ``external_storage`` (and optionally its
    ``external_storage_cache``), arguments sent as an external-storage reference
    are fetched, verified and decoded; without it they are answered with
    ``unsupported_payload_reference``.
    """

    # Upstream's storage attributes, views of ``self.converter``.
    external_storage = ConverterAttribute[ExternalStorageDriver | None]("external_storage")
    external_storage_cache = ConverterAttribute[ExternalPayloadCache | None]("storage_cache")

    def __init__(
        self,
        handlers: Mapping[str, InvocableActivityCallable],
        *,
        carrier: str = DEFAULT_CARRIER,
        result_codec: str = serializer.AVRO_CODEC,
        external_storage: ExternalStorageDriver | None = None,
        external_storage_cache: ExternalPayloadCache | None = None,
        converter: DataConverter | None = None,
    ) -> None:
        if result_codec not in serializer.SUPPORTED_CODECS:
            raise ValueError(
                f"unsupported invocable result codec {result_codec!r}: "
                f"unsupported result_codec {result_codec!r}; "
                f"supported: {', '.join(serializer.SUPPORTED_CODECS)}"
            )
        self.handlers = dict(handlers)
        self.carrier = carrier
        self.result_codec = result_codec
        # Argument references are read through the driver (verified via the cache);
        # results are written in ``result_codec``, offloaded only when ``converter``
        # sets a threshold.
        self.converter = DataConverter.from_options(
            converter,
            external_storage=external_storage,
            storage_cache=external_storage_cache,
        ).with_codec(result_codec)
        if self.converter.external_storage is not None and self.converter.storage_cache is None:
            self.converter = self.converter.replace(storage_cache=ExternalPayloadCache())

    async def handle(self, envelope: Mapping[str, Any]) -> dict[str, Any]:
        """One envelope in, one result envelope out; ``ExternalTaskInputError`` if invalid."""
        task = parse_external_task_input(envelope)
        started = time.monotonic()
        try:
            value = await self._run(task)
        except _Failure as failure:
            return self._failure_envelope(task, failure, started)
        return self._success_envelope(task, value, started)

    async def _run(self, task: ExternalTaskInput) -> dict[str, Any]:
        if not task.is_activity_task:
            raise _Failure(
                "application",
                "application_error",
                f"invocable carriers run activity tasks only, not {task.kind}",
                retryable=False,
                failure_type="UnsupportedExternalTaskKind",
            )
        remaining = self._check_deadlines(task)
        handler_name = task.task.handler or ""
        handler = self.handlers.get(handler_name)
        if handler is None:
            raise _Failure(
                "application",
                "application_error",
                f"no handler registered for activity {handler_name!r}",
                retryable=False,
                failure_type="UnknownActivityHandler",
            )
        arguments = self._arguments(task)
        value = await self._call(handler, arguments, remaining)
        self._check_deadlines(task)
        try:
            return self.converter.encode(value)
        except (TypeError, ValueError, ExternalStorageError) as exc:
            raise _Failure(
                "decode_failure",
                "decode_failure",
                f"could not encode the handler result: {exc}",
                retryable=False,
                failure_type=type(exc).__name__,
                stack_trace=_trace(exc),
                details=self._details({"codec": self.result_codec}),
            ) from exc

    def _check_deadlines(self, task: ExternalTaskInput) -> float | None:
        """Fail if any deadline has passed; otherwise return the seconds left to the nearest."""
        now = datetime.now(timezone.utc)
        nearest: float | None = None
        for name, value in _deadlines(task):
            try:
                due = _parse_time(value)
            except ValueError as exc:
                raise _Failure(
                    "decode_failure",
                    "decode_failure",
                    f"deadline {name} is not an ISO-8601 timestamp: {value!r}",
                    retryable=False,
                    failure_type="ExternalTaskDeadlineUnreadable",
                    details=self._details({"deadline": name, "expires_at": value}),
                ) from exc
            left = (due - now).total_seconds()
            if left <= 0:
                raise _Failure(
                    "timeout",
                    "deadline_exceeded",
                    f"deadline {name} passed at {value}",
                    retryable=True,
                    failure_type="ExternalTaskDeadlineExceeded",
                    timeout_type="deadline_exceeded",
                    details=self._details({"deadline": name, "expires_at": value}),
                )
            nearest = left if nearest is None else min(nearest, left)
        return nearest

    def _arguments(self, task: ExternalTaskInput) -> list[Any]:
        payload = task.payloads.get("arguments")
        if payload is None:
            return []
        codec = payload.get("codec")
        if (
            "external_storage" in payload
            and "blob" not in payload
            and self.external_storage is None
        ):
            raise _Failure(
                "unsupported_payload",
                "unsupported_payload_reference",
                "arguments are an external-storage reference and this carrier has no storage "
                "provider; the reference is not dereferenced",
                retryable=False,
                failure_type="UnsupportedPayloadReference",
                details=self._details({"codec": codec}),
            )
        if not isinstance(codec, str) or codec not in serializer.SUPPORTED_CODECS:
            raise _Failure(
                "unsupported_payload",
                "unsupported_payload_codec",
                f"arguments use unsupported payload codec {codec!r}",
                retryable=False,
                failure_type="UnsupportedPayloadCodec",
                details=self._details({"codec": codec}),
            )
        try:
            value = self.converter.decode(payload)
        except (TypeError, ValueError, ExternalStorageError) as exc:
            raise _Failure(
                "decode_failure",
                "decode_failure",
                f"could not decode the arguments: {exc}",
                retryable=False,
                failure_type=type(exc).__name__,
                stack_trace=_trace(exc),
                details=self._details({"codec": codec}),
            ) from exc
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    async def _call(
        self, handler: InvocableActivityCallable, arguments: list[Any], timeout: float | None
    ) -> Any:
        async def invoke() -> Any:
            try:
                # Arguments annotated with rich types (dataclasses, datetimes, ...) arrive as such.
                typed = call_arguments(handler, arguments)
                if inspect.iscoroutinefunction(handler):
                    outcome = handler(*typed)
                else:
                    outcome = await asyncio.to_thread(_contained, handler, typed)
                if inspect.isawaitable(outcome):
                    return await outcome
                return outcome
            except (Exception, ActivityCancelled, asyncio.CancelledError, KeyboardInterrupt):
                raise
            except BaseException as exc:
                raise _Crash(exc) from exc

        try:
            return await asyncio.wait_for(invoke(), timeout)
        except ActivityCancelled as exc:
            raise _Failure(
                "cancellation",
                "cancelled",
                str(exc) or "activity was cancelled",
                retryable=False,
                failure_type="ActivityCancelled",
                cancelled=True,
            ) from exc
        except asyncio.CancelledError:
            raise
        except (asyncio.TimeoutError, TimeoutError) as exc:
            raise _Failure(
                "timeout",
                "deadline_exceeded",
                str(exc) or "handler did not finish before the task deadline",
                retryable=True,
                failure_type=type(exc).__name__,
                stack_trace=_trace(exc),
                timeout_type="deadline_exceeded",
            ) from exc
        except _Crash as crash:
            died = crash.original
            raise _Failure(
                "handler_crash",
                "handler_crash",
                f"handler crashed: {type(died).__name__}: {died}",
                retryable=True,
                failure_type=type(died).__name__,
                stack_trace=_trace(died),
            ) from died
        except PayloadConversionError as exc:
            # The same arguments would not fit on any retry.
            raise _Failure(
                "decode_failure",
                "decode_failure",
                f"could not decode the handler arguments: {exc}",
                retryable=False,
                failure_type=type(exc).__name__,
                stack_trace=_trace(exc),
            ) from exc
        except NonRetryableError as exc:
            raise _Failure(
                "application",
                "application_error",
                str(exc),
                retryable=False,
                failure_type=type(exc).__name__,
                stack_trace=_trace(exc),
            ) from exc
        except Exception as exc:
            raise _Failure(
                "application",
                "application_error",
                str(exc) or type(exc).__name__,
                retryable=True,
                failure_type=type(exc).__name__,
                stack_trace=_trace(exc),
            ) from exc

    def _details(self, value: Mapping[str, Any]) -> dict[str, str]:
        """Failure details, codec-tagged as contracts.md §4.2 asks (upstream sent them bare)."""
        return serializer.envelope(dict(value), codec=self.result_codec)

    def _common(self, task: ExternalTaskInput, started: float) -> dict[str, Any]:
        return {
            "schema": EXTERNAL_TASK_RESULT_SCHEMA,
            "version": EXTERNAL_TASK_RESULT_VERSION,
            "task": {
                "id": task.task.id,
                "kind": task.kind,
                "attempt": task.task.attempt,
                "idempotency_key": task.task.idempotency_key,
            },
            "metadata": {
                "handler": task.task.handler,
                "carrier": self.carrier,
                "duration_ms": int((time.monotonic() - started) * 1000),
            },
        }

    def _success_envelope(
        self, task: ExternalTaskInput, payload: dict[str, Any], started: float
    ) -> dict[str, Any]:
        return {
            **self._common(task, started),
            "outcome": {"status": "succeeded", "recorded": True},
            "result": {"payload": payload, "metadata": {"content_type": RESULT_CONTENT_TYPE}},
        }

    def _failure_envelope(
        self, task: ExternalTaskInput, failure: _Failure, started: float
    ) -> dict[str, Any]:
        return {
            **self._common(task, started),
            "outcome": {"status": "failed", "retryable": failure.retryable, "recorded": True},
            "failure": {
                "kind": failure.kind,
                "classification": failure.classification,
                "message": failure.message,
                "type": failure.failure_type,
                "stack_trace": failure.stack_trace,
                "timeout_type": failure.timeout_type,
                "cancelled": failure.cancelled,
                "details": failure.details,
            },
        }


async def handle_invocable_activity(
    envelope: Mapping[str, Any], handlers: Mapping[str, InvocableActivityCallable], **options: Any
) -> dict[str, Any]:
    """One-shot form of ``InvocableActivityHandler(handlers, **options).handle(envelope)``."""
    return await InvocableActivityHandler(handlers, **options).handle(envelope)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class InvocableHttpResponse:
    """What an HTTP framework should answer: status, headers and a text body."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def _bad_request(message: str) -> InvocableHttpResponse:
    return InvocableHttpResponse(
        400,
        {"Content-Type": "application/json"},
        _compact({"error": "invalid_invocable_request", "message": message}),
    )


async def handle_invocable_http_request(
    body: bytes | str | Mapping[str, Any],
    handlers: Mapping[str, InvocableActivityCallable] | InvocableActivityHandler,
    **options: Any,
) -> InvocableHttpResponse:
    """Serve one invocable HTTP request body: 200 + result envelope, or 400 if unusable.

    A parsed request always gets 200 (failures travel inside the envelope);
    only a body that is not a JSON object or not a valid input envelope is 400.
    """
    if isinstance(body, Mapping):
        data: Any = body
    else:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return _bad_request(f"request body is not valid JSON: {exc}")
    if not isinstance(data, Mapping):
        return _bad_request("request body must be a JSON object (an external task input)")
    runner = (
        handlers
        if isinstance(handlers, InvocableActivityHandler)
        else InvocableActivityHandler(handlers, **options)
    )
    try:
        result = await runner.handle(data)
    except ExternalTaskInputError as exc:
        return _bad_request(str(exc))
    return InvocableHttpResponse(
        200, {"Content-Type": EXTERNAL_TASK_RESULT_MEDIA_TYPE}, _compact(result)
    )


async def handle_invocable_lambda_event(
    event: Mapping[str, Any],
    handlers: Mapping[str, InvocableActivityCallable] | InvocableActivityHandler,
    **options: Any,
) -> dict[str, Any]:
    """Serve an API-Gateway/Function-URL style event (base64 bodies decoded)."""
    raw = event.get("body")
    body: bytes | str
    if raw is None:
        body = ""
    elif event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(str(raw), validate=True)
        except (binascii.Error, ValueError) as exc:
            response = _bad_request(f"request body is not valid base64: {exc}")
            return _lambda_response(response)
    else:
        body = raw if isinstance(raw, (str, bytes)) else json.dumps(raw)
    return _lambda_response(await handle_invocable_http_request(body, handlers, **options))


def _lambda_response(response: InvocableHttpResponse) -> dict[str, Any]:
    return {
        "statusCode": response.status_code,
        "headers": dict(response.headers),
        "body": response.body,
        "isBase64Encoded": False,
    }


def lambda_invocable_activity_handler(
    handlers: Mapping[str, InvocableActivityCallable], **options: Any
) -> Callable[[Mapping[str, Any], Any], dict[str, Any]]:
    """A synchronous Lambda entry point ``(event, context) -> response``."""
    runner = InvocableActivityHandler(handlers, **options)

    def entry(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return asyncio.run(handle_invocable_lambda_event(event, runner))

    return entry
