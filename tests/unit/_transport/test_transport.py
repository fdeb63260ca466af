"""HttpTransport on httpx.MockTransport: headers per plane, tokens, retries, typed failures."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx
import pytest

from durable_workflow import errors
from durable_workflow._generated import manifest
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow._transport import HttpTransport
from durable_workflow._version import SDK_VERSION
from durable_workflow.client import Client
from durable_workflow.retry_policy import TransportRetryPolicy

CP_HEADER = "X-Durable-Workflow-Control-Plane-Version"
WP_HEADER = "X-Durable-Workflow-Protocol-Version"
FAST = TransportRetryPolicy(initial_backoff_seconds=0, jitter=False)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that records requests and replays scripted answers."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers) or [httpx.Response(200, json={})]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def transport(recorder: Recorder, **kwargs: object) -> HttpTransport:
    options: dict[str, object] = {"retry_policy": FAST, **kwargs}
    return HttpTransport(
        "http://server.test/",
        http_transport=httpx.MockTransport(recorder),
        **options,  # type: ignore[arg-type]
    )


async def test_control_plane_headers() -> None:
    rec = Recorder()
    t = transport(rec, token="shared", namespace="orders")
    await t.call(
        OPERATIONS["workflow.describe"], path_params={"workflowId": "wf-1"}, query=None, body=None
    )
    request = rec.requests[0]
    assert str(request.url) == "http://server.test/api/workflows/wf-1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Bearer shared"
    assert request.headers["X-Namespace"] == "orders"
    assert request.headers["User-Agent"] == SDK_VERSION
    assert SDK_VERSION.startswith("durable-workflow-python/")
    assert request.headers[CP_HEADER] == manifest.CONTROL_PLANE_VERSION
    assert WP_HEADER not in request.headers
    await t.aclose()


async def test_worker_plane_headers() -> None:
    rec = Recorder(httpx.Response(200, json={"task": None}))
    t = transport(rec, token="shared")
    await t.call(
        OPERATIONS["workflow-task.poll"],
        path_params={},
        query=None,
        body={"worker_id": "w", "task_queue": "q", "poll_request_id": "p"},
    )
    request = rec.requests[0]
    assert request.method == "POST"
    assert request.url.path == "/api/worker/workflow-tasks/poll"
    assert request.headers[WP_HEADER] == manifest.WORKER_PROTOCOL_VERSION
    assert CP_HEADER not in request.headers
    assert json.loads(request.content) == {
        "worker_id": "w",
        "task_queue": "q",
        "poll_request_id": "p",
    }
    await t.aclose()


@pytest.mark.parametrize("operation", ["health.check", "cluster.info"])
async def test_health_and_cluster_info_carry_no_version_header(operation: str) -> None:
    rec = Recorder()
    t = transport(rec, token="tok")
    await t.call(OPERATIONS[operation], path_params={}, query=None, body=None)
    assert CP_HEADER not in rec.requests[0].headers
    assert WP_HEADER not in rec.requests[0].headers
    await t.aclose()


@pytest.mark.parametrize(
    ("tokens", "control", "worker"),
    [
        ({}, None, None),
        ({"token": "t"}, "t", "t"),
        ({"control_token": "c"}, "c", "c"),
        ({"worker_token": "w"}, "w", "w"),
        ({"token": "t", "control_token": "c"}, "c", "t"),
        ({"token": "t", "worker_token": "w"}, "t", "w"),
        ({"control_token": "c", "worker_token": "w"}, "c", "w"),
        ({"token": "t", "control_token": "c", "worker_token": "w"}, "c", "w"),
    ],
)
async def test_bearer_token_choice_per_plane(
    tokens: dict[str, str], control: str | None, worker: str | None
) -> None:
    rec = Recorder(httpx.Response(200, json={"task": None}))
    t = transport(rec, **tokens)
    await t.request("GET", "/api/workflows/x", plane="control")
    await t.request("POST", "/api/worker/heartbeat", plane="worker", json={"worker_id": "w"})
    control_auth = rec.requests[0].headers.get("Authorization")
    worker_auth = rec.requests[1].headers.get("Authorization")
    assert control_auth == (f"Bearer {control}" if control else None)
    assert worker_auth == (f"Bearer {worker}" if worker else None)
    await t.aclose()


async def test_path_params_are_quoted_as_one_segment() -> None:
    rec = Recorder()
    t = transport(rec)
    await t.call(
        OPERATIONS["workflow.show_run"],
        path_params={"workflowId": "a/b c", "runId": "r1"},
        query=None,
        body=None,
    )
    assert rec.requests[0].url.raw_path == b"/api/workflows/a%2Fb%20c/runs/r1"
    await t.aclose()


async def test_empty_and_204_bodies_are_none() -> None:
    rec = Recorder(httpx.Response(204), httpx.Response(200, content=b""))
    t = transport(rec)
    assert await t.request("POST", "/api/x", plane="control", json={}) is None
    assert await t.request("GET", "/api/x", plane="control") is None
    await t.aclose()


async def test_error_status_is_mapped_with_context() -> None:
    rec = Recorder(httpx.Response(404, json={"reason": "instance_not_found", "message": "nope"}))
    t = transport(rec)
    with pytest.raises(errors.WorkflowNotFound) as caught:
        await t.call(
            OPERATIONS["workflow.describe"],
            path_params={"workflowId": "order-1"},
            query=None,
            body=None,
        )
    assert caught.value.workflow_id == "order-1"
    assert len(rec.requests) == 1
    await t.aclose()


async def test_non_json_error_body_is_kept_as_text() -> None:
    rec = Recorder(httpx.Response(418, text="teapot"))
    t = transport(rec)
    with pytest.raises(errors.ServerError) as caught:
        await t.request("GET", "/api/x", plane="control")
    assert (caught.value.status, caught.value.body) == (418, "teapot")
    await t.aclose()


async def test_idempotent_get_is_retried_on_500() -> None:
    rec = Recorder(httpx.Response(500), httpx.Response(502), httpx.Response(200, json={"ok": 1}))
    t = transport(rec)
    assert await t.request("GET", "/api/x", plane="control") == {"ok": 1}
    assert len(rec.requests) == 3
    await t.aclose()


async def test_non_idempotent_post_is_not_resent_after_a_500() -> None:
    rec = Recorder(httpx.Response(500, json={"message": "boom"}), httpx.Response(201, json={}))
    t = transport(rec)
    with pytest.raises(errors.ServerError) as caught:
        await t.call(
            OPERATIONS["workflow.start"], path_params={}, query=None, body={"workflow_type": "t"}
        )
    assert caught.value.status == 500
    assert len(rec.requests) == 1
    await t.aclose()


@pytest.mark.parametrize(
    "first",
    [
        httpx.Response(503, json={"reason": "unavailable"}),
        httpx.Response(429, json={"reason": "rate_limited"}),
        httpx.ConnectError("connection refused"),
    ],
)
async def test_non_idempotent_post_is_resent_when_provably_unprocessed(
    first: httpx.Response | Exception,
) -> None:
    rec = Recorder(first, httpx.Response(201, json={"workflow_id": "w"}))
    t = transport(rec)
    result = await t.call(OPERATIONS["workflow.start"], path_params={}, query=None, body={})
    assert result == {"workflow_id": "w"}
    assert len(rec.requests) == 2
    await t.aclose()


async def test_non_idempotent_post_is_not_resent_after_a_read_timeout() -> None:
    rec = Recorder(httpx.ReadTimeout("slow"), httpx.Response(201, json={}))
    t = transport(rec)
    with pytest.raises(
        errors.TransportTimeout, match=re.escape("http://server.test/api/workflows")
    ):
        await t.call(OPERATIONS["workflow.start"], path_params={}, query=None, body={})
    assert len(rec.requests) == 1
    await t.aclose()


@pytest.mark.parametrize(
    ("operation", "path_params", "body"),
    [
        (
            "workflow-task.complete",
            {"taskId": "t1"},
            {"lease_owner": "w", "workflow_task_attempt": 1, "commands": []},
        ),
        ("activity.complete", {"taskId": "t1"}, {"activity_attempt_id": "a", "lease_owner": "w"}),
        ("workflow-task.poll", {}, {"worker_id": "w", "task_queue": "q", "poll_request_id": "p1"}),
    ],
)
async def test_fenced_worker_calls_are_retried_on_5xx_and_timeouts(
    operation: str, path_params: dict[str, str], body: dict[str, object]
) -> None:
    rec = Recorder(
        httpx.ReadTimeout("slow"), httpx.Response(500), httpx.Response(200, json={"ok": True})
    )
    t = transport(rec)
    assert await t.call(OPERATIONS[operation], path_params=path_params, query=None, body=body) == {
        "ok": True
    }
    assert len(rec.requests) == 3
    await t.aclose()


async def test_activity_poll_is_not_idempotent() -> None:
    rec = Recorder(httpx.Response(500), httpx.Response(200, json={"task": None}))
    t = transport(rec)
    with pytest.raises(errors.ServerError):
        await t.call(
            OPERATIONS["activity.poll"],
            path_params={},
            query=None,
            body={"worker_id": "w", "task_queue": "q"},
        )
    assert len(rec.requests) == 1
    await t.aclose()


async def test_connection_failure_after_retries_is_a_typed_transport_error() -> None:
    rec = Recorder(httpx.ConnectError("connection refused"))
    t = transport(rec)
    with pytest.raises(errors.TransportError) as caught:
        await t.request("GET", "/api/health", plane="public")
    assert not isinstance(caught.value, errors.TransportTimeout)
    assert "http://server.test/api/health" in str(caught.value)
    assert isinstance(caught.value.cause, httpx.ConnectError)
    assert len(rec.requests) == 3
    await t.aclose()


async def test_a_real_refused_connection_raises_transport_error() -> None:
    client = Client("http://127.0.0.1:9", retry_policy=TransportRetryPolicy(max_attempts=1))
    async with client:
        with pytest.raises(errors.TransportError, match=re.escape("127.0.0.1:9")):
            await client.health()


async def test_query_parameters_drop_none() -> None:
    rec = Recorder()
    t = transport(rec)
    await t.request(
        "GET", "/api/workflows", plane="control", params={"page_size": 5, "status": None}
    )
    assert dict(rec.requests[0].url.params) == {"page_size": "5"}
    await t.aclose()


@pytest.mark.parametrize(
    ("operation", "path_params", "body"),
    [
        ("workflow.start", {}, {"workflow_id": "w", "duplicate_policy": "use-existing"}),
        ("task_queue.build_id.drain", {"taskQueue": "q"}, {"build_id": "b1"}),
        ("namespace.update", {"namespace": "n"}, {"retention_days": 3}),
        ("bridge.webhook", {"adapter": "a"}, {"action": "x", "idempotency_key": "k"}),
    ],
)
async def test_control_calls_the_protocol_makes_safe_are_retried_on_5xx(
    operation: str, path_params: dict[str, str], body: dict[str, object]
) -> None:
    rec = Recorder(httpx.Response(500), httpx.Response(200, json={"ok": True}))
    t = transport(rec)
    result = await t.call(OPERATIONS[operation], path_params=path_params, query=None, body=body)
    assert result == {"ok": True}
    assert len(rec.requests) == 2
    await t.aclose()


@pytest.mark.parametrize(
    "body",
    [
        {"workflow_id": "w", "duplicate_policy": "fail"},
        {"duplicate_policy": "use-existing"},  # no id: a resend could start a second run
    ],
)
async def test_start_without_a_safe_duplicate_policy_is_not_resent(body: dict[str, str]) -> None:
    rec = Recorder(httpx.Response(500), httpx.Response(201, json={}))
    t = transport(rec)
    with pytest.raises(errors.ServerError):
        await t.call(OPERATIONS["workflow.start"], path_params={}, query=None, body=body)
    assert len(rec.requests) == 1
    await t.aclose()


async def test_retries_back_off_between_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    monkeypatch.setattr("durable_workflow.retry_policy.asyncio.sleep", fake_sleep)
    rec = Recorder(httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(200, json={}))
    policy = TransportRetryPolicy(initial_backoff_seconds=0.1, jitter=False)
    t = transport(rec, retry_policy=policy)
    assert await t.request("GET", "/api/x", plane="control") == {}
    assert slept == [pytest.approx(0.2), pytest.approx(0.4)]
    await t.aclose()


async def test_requests_past_the_connection_limit_wait_their_turn_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At most MAX_CONNECTIONS requests reach httpx at once; the others wait first come,
    first served (not in httpcore's pool queue) and all are answered."""
    import asyncio

    from durable_workflow._transport import _http

    monkeypatch.setattr(_http, "MAX_CONNECTIONS", 2)
    inside = 0
    most = 0
    order: list[str] = []
    release = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        order.append(request.url.path)
        await release.wait()
        inside -= 1
        return httpx.Response(200, json={"path": request.url.path})

    t = HttpTransport("http://server.test/", http_transport=httpx.MockTransport(answer))
    calls = [
        asyncio.ensure_future(t.request("GET", f"/api/r{i}", plane="public")) for i in range(5)
    ]
    for _ in range(20):
        await asyncio.sleep(0)
    assert most == 2 and order == ["/api/r0", "/api/r1"]
    release.set()
    answers = await asyncio.gather(*calls)
    assert [a["path"] for a in answers] == [f"/api/r{i}" for i in range(5)]
    assert most == 2 and order == [f"/api/r{i}" for i in range(5)]


async def test_no_connection_free_within_the_timeout_is_a_typed_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from durable_workflow._transport import _http

    monkeypatch.setattr(_http, "MAX_CONNECTIONS", 1)
    release = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(200, json={})

    t = HttpTransport(
        "http://server.test/",
        http_transport=httpx.MockTransport(answer),
        retry_policy=TransportRetryPolicy(max_attempts=1),
    )
    held = asyncio.ensure_future(t.request("GET", "/api/held", plane="public"))
    await asyncio.sleep(0)
    with pytest.raises(errors.TransportTimeout, match=r"timed out after 0\.05s"):
        await t.request("GET", "/api/late", plane="public", timeout=0.05)
    release.set()
    assert await held == {}


@pytest.mark.parametrize(
    ("base_url", "accept_encoding"),
    [
        ("http://127.0.0.1:8080", "identity"),
        ("http://localhost:8080", "identity"),
        ("http://[::1]:8080", "identity"),
        ("https://workflows.example.com", "gzip"),
    ],
)
async def test_a_server_on_this_machine_is_not_asked_to_compress(
    base_url: str, accept_encoding: str
) -> None:
    rec = Recorder()
    t = HttpTransport(base_url, http_transport=httpx.MockTransport(rec), retry_policy=FAST)
    await t.request("GET", "/api/health", plane="public")
    assert accept_encoding in rec.requests[0].headers["Accept-Encoding"]


def test_a_server_on_this_machine_keeps_few_idle_connections() -> None:
    """Few idle connections on loopback (httpcore checks each one per request); httpx's
    default for a remote server, where a new TLS connection costs more."""
    from durable_workflow._transport._http import MAX_CONNECTIONS, pool_limits

    local = pool_limits("http://127.0.0.1:8080")
    remote = pool_limits("https://workflows.example.com")
    assert local.max_connections == remote.max_connections == MAX_CONNECTIONS
    assert local.max_keepalive_connections == 4
    assert remote.max_keepalive_connections == 20  # httpx.AsyncClient()'s default
