"""Deliver one input envelope to an ``invocable_http`` target (contracts.md §8.1-8.2).

Always yields a valid *result* envelope: the endpoint's own when it sent one,
otherwise one the carrier synthesizes from the transport outcome via the
contract's ``failure_mapping`` (timeout -> ``timeout/deadline_exceeded``;
non-2xx without an envelope, invalid JSON, schema mismatch ->
``malformed_output``). Transport retries happen here, before any reporting.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from durable_workflow._connection_config import redact_secrets
from durable_workflow.carriers.executor_config import InvocableTarget
from durable_workflow.external_task_input import EXTERNAL_TASK_INPUT_MEDIA_TYPE
from durable_workflow.external_task_result import (
    EXTERNAL_TASK_RESULT_MEDIA_TYPE,
    EXTERNAL_TASK_RESULT_SCHEMA,
    EXTERNAL_TASK_RESULT_VERSION,
    ExternalTaskResultError,
    parse_external_task_result,
)

__all__ = ["DispatchOutcome", "deliver"]

PREVIEW_CHARS = 512
CARRIER_NAME = "python-carrier-runner"


@dataclass(frozen=True)
class DispatchOutcome:
    """The result envelope to report, and how delivery went."""

    envelope: dict[str, Any]
    attempts: int
    status_code: int | None
    synthesized: bool


def _echo(input_envelope: Mapping[str, Any]) -> dict[str, Any]:
    task = input_envelope["task"]
    return {
        "id": task["id"],
        "kind": task["kind"],
        "attempt": task["attempt"],
        "idempotency_key": task["idempotency_key"],
    }


def _failure(
    input_envelope: Mapping[str, Any],
    *,
    kind: str,
    classification: str,
    message: str,
    failure_type: str,
    retryable: bool,
    started: float,
    timeout_type: str | None = None,
    raw_output: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "schema": EXTERNAL_TASK_RESULT_SCHEMA,
        "version": EXTERNAL_TASK_RESULT_VERSION,
        "outcome": {"status": "failed", "retryable": retryable, "recorded": False},
        "task": _echo(input_envelope),
        "failure": {
            "kind": kind,
            "classification": classification,
            "message": message,
            "type": failure_type,
            "stack_trace": None,
            "timeout_type": timeout_type,
            "cancelled": False,
            "details": None,
        },
        "metadata": {
            "handler": input_envelope["task"]["handler"],
            "carrier": CARRIER_NAME,
            "duration_ms": int((time.monotonic() - started) * 1000),
        },
    }
    if raw_output is not None:
        envelope["raw_output"] = dict(raw_output)
    return envelope


def _malformed(
    input_envelope: Mapping[str, Any],
    message: str,
    started: float,
    raw_output: Mapping[str, Any],
    *,
    retryable: bool = False,
) -> dict[str, Any]:
    return _failure(
        input_envelope,
        kind="malformed_output",
        classification="malformed_output",
        message=message,
        failure_type="MalformedExternalTaskOutput",
        retryable=retryable,
        started=started,
        raw_output=raw_output,
    )


def _raw(response: httpx.Response, secrets: list[str | None]) -> dict[str, Any]:
    return {
        "status_code": response.status_code,
        "content_type": response.headers.get("content-type"),
        "body_preview": redact_secrets(response.text[:PREVIEW_CHARS], secrets),
    }


def _valid_result(
    response: httpx.Response, input_envelope: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    """(the endpoint's envelope, None) when valid, else (None, why not)."""
    try:
        body = response.json()
    except ValueError:
        return None, "invalid_json"
    try:
        parsed = parse_external_task_result(body)
    except ExternalTaskResultError as exc:
        return None, f"schema_mismatch: {exc}"
    expected = _echo(input_envelope)
    actual = {
        "id": parsed.task.id,
        "kind": parsed.task.kind,
        "attempt": parsed.task.attempt,
        "idempotency_key": parsed.task.idempotency_key,
    }
    if actual != expected:
        return None, "schema_mismatch: the result answers a different task or attempt"
    return dict(body), None


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


async def deliver(
    http: httpx.AsyncClient,
    target: InvocableTarget,
    input_envelope: Mapping[str, Any],
    *,
    auth_token: str | None = None,
    deadline: float | None = None,
) -> DispatchOutcome:
    """POST the envelope (retrying per the carrier policy) and return the result to report.

    ``deadline`` is a ``time.monotonic()`` instant (the task's nearest
    deadline); no attempt runs past it or past ``target.timeout_seconds``.
    """
    started = time.monotonic()
    secrets = [auth_token]
    headers = {
        "Content-Type": EXTERNAL_TASK_INPUT_MEDIA_TYPE,
        "Accept": EXTERNAL_TASK_RESULT_MEDIA_TYPE,
        "Idempotency-Key": str(input_envelope["task"]["idempotency_key"]),
    }
    if auth_token:
        headers["Authorization"] = f"Bearer {auth_token}"
    body = json.dumps(input_envelope, separators=(",", ":"), ensure_ascii=False)
    policy = target.retry_policy
    attempt = 0
    status: int | None = None
    outcome: dict[str, Any] | None = None
    while attempt < policy.max_attempts:
        attempt += 1
        timeout = float(target.timeout_seconds)
        left = _remaining(deadline)
        if left is not None:
            timeout = min(timeout, left)
        if timeout <= 0:
            outcome = _timeout(input_envelope, started, "the task deadline passed before delivery")
            break
        try:
            response = await http.post(target.url, content=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException:
            # The handler may still be running: never redeliver, report the timeout.
            outcome = _timeout(
                input_envelope, started, f"no response from the endpoint within {timeout:.1f}s"
            )
            break
        except httpx.TransportError as exc:
            outcome = _malformed(
                input_envelope,
                f"endpoint unreachable: {type(exc).__name__}",
                started,
                {"transport_error": redact_secrets(str(exc), secrets)},
                retryable=True,  # nothing was delivered, so a durable retry is safe
            )
            if attempt < policy.max_attempts:
                await asyncio.sleep(policy.backoff(attempt))
            continue
        status = response.status_code
        result, problem = _valid_result(response, input_envelope)
        if result is not None:
            return DispatchOutcome(result, attempt, status, synthesized=False)
        if response.is_success:
            outcome = _malformed(
                input_envelope,
                f"endpoint answered {status} without a valid result envelope ({problem})",
                started,
                _raw(response, secrets),
            )
            break
        outcome = _malformed(
            input_envelope,
            f"endpoint answered {status} without a valid result envelope",
            started,
            _raw(response, secrets),
        )
        if not policy.retries_status(status) or attempt >= policy.max_attempts:
            break
        await asyncio.sleep(policy.backoff(attempt))
    assert outcome is not None
    return DispatchOutcome(outcome, attempt, status, synthesized=True)


def _timeout(input_envelope: Mapping[str, Any], started: float, message: str) -> dict[str, Any]:
    return _failure(
        input_envelope,
        kind="timeout",
        classification="deadline_exceeded",
        message=message,
        failure_type="InvocableTransportTimeout",
        retryable=True,
        started=started,
        timeout_type="deadline_exceeded",
    )
