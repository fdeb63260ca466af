"""Typed errors as callers meet them: through ``Client`` methods, with upstream's fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from durable_workflow import errors
from durable_workflow.client import Client
from durable_workflow.retry_policy import TransportRetryPolicy

Call = Callable[[Client], Awaitable[Any]]


def _client(status: int, body: Any) -> Client:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    return Client(
        "http://dw.test",
        retry_policy=TransportRetryPolicy(max_attempts=1),
        transport=httpx.MockTransport(handler),
    )


@pytest.mark.parametrize(
    ("status", "body", "call", "expected", "fields"),
    [
        (
            422,
            {"reason": "invalid_signal_arguments", "validation_errors": {"input": ["bad"]}},
            lambda c: c.signal_workflow("wf-1", "go", args=[1]),
            errors.SignalFailed,
            {
                "reason": "invalid_signal_arguments",
                "status": 422,
                "validation_errors": {"input": ["bad"]},
            },
        ),
        (
            409,
            {"reason": "run_not_active", "control_plane": {"operation": "query"}},
            lambda c: c.query_workflow("wf-1", "status"),
            errors.QueryFailed,
            {"reason": "run_not_active", "status": 409},
        ),
        (
            404,
            {"reason": "instance_not_found", "message": "no such instance"},
            lambda c: c.describe_workflow("order-1"),
            errors.WorkflowNotFound,
            {"workflow_id": "order-1"},
        ),
        (
            409,
            {"reason": "duplicate_not_allowed"},
            lambda c: c.start_workflow(workflow_type="t", task_queue="q", workflow_id="order-2"),
            errors.WorkflowAlreadyStarted,
            {"workflow_id": "order-2"},
        ),
        (
            409,
            {"reason": "schedule_already_exists"},
            lambda c: c.create_schedule(
                schedule_id="nightly",
                spec={"cron_expressions": ["0 0 * * *"]},
                action={"workflow_type": "t"},
            ),
            errors.ScheduleAlreadyExists,
            {"schedule_id": "nightly"},
        ),
        (
            404,
            {"reason": "namespace_not_found", "message": "Namespace [x] not found."},
            lambda c: c.describe_namespace("x"),
            errors.NamespaceNotFound,
            {"namespace": "Namespace [x] not found."},  # upstream quirk: the message
        ),
        (
            422,
            {"reason": "validation_failed", "message": "bad", "errors": {"name": ["required"]}},
            lambda c: c.create_namespace("ok"),
            errors.InvalidArgument,
            {"errors": {"name": ["required"]}},
        ),
        (
            401,
            {"message": "Unauthenticated."},
            lambda c: c.list_namespaces(),
            errors.Unauthorized,
            {},
        ),
        (
            503,
            {"reason": "maintenance"},
            lambda c: c.list_task_queues(),
            errors.ServerError,
            {"status": 503, "body": {"reason": "maintenance"}},
        ),
    ],
)
async def test_client_methods_raise_the_mapped_error_with_its_fields(
    status: int, body: Any, call: Call, expected: type[Exception], fields: dict[str, Any]
) -> None:
    async with _client(status, body) as client:
        with pytest.raises(expected) as caught:
            await call(client)
    for name, value in fields.items():
        assert getattr(caught.value, name) == value, name


async def test_server_error_reason_is_a_method() -> None:
    async with _client(500, {"reason": "boom"}) as client:
        with pytest.raises(errors.ServerError) as caught:
            await client.repair_status()
    assert caught.value.reason() == "boom"


async def test_timeouts_raise_the_typed_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    policy = TransportRetryPolicy(max_attempts=2, initial_backoff_seconds=0, jitter=False)
    async with Client(
        "http://dw.test", retry_policy=policy, transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(errors.TransportTimeout, match="/api/namespaces"):
            await client.list_namespaces()
