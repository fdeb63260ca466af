"""Client input never makes the dev server fail (issue: deep JSON, lone surrogates, size).

Each case of the issue over real HTTP: a few thousand nesting levels on every
operation (GETs carrying a body included) answer 400 ``malformed_json``; a lone
UTF-16 surrogate answers 422 naming the field on start, query, signal, the webhook
bridge and the worker plane; bodies over the limit answer 413 whether their size
is declared or streamed; the server stays healthy throughout.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import httpx
import pytest
from server_http_helpers import CONTROL, WORKER, Api

from durable_workflow._generated.operations import OPERATIONS
from durable_workflow.server.http.body_limits import MAX_JSON_DEPTH

JSON = {"Content-Type": "application/json"}
BOTH = {**CONTROL, **WORKER, **JSON}
DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 3000 + b"1" + b"}" * 3000


def _path(name: str) -> str:
    return re.sub(r"\{\w+\}", "x", OPERATIONS[name].path)


def test_deep_nesting_is_400_on_every_operation(api: Api) -> None:
    for name, op in sorted(OPERATIONS.items()):
        for body in (DEEP, DEEP_OBJECT):
            response = api.http.request(op.method, _path(name), content=body, headers=BOTH)
            assert response.status_code == 400, (name, response.status_code, response.text[:200])
            payload = response.json()
            assert payload["reason"] == "malformed_json", name
            assert payload["max_depth"] == MAX_JSON_DEPTH
    assert api.http.get("/api/health").status_code == 200


def test_nesting_at_the_limit_is_accepted_and_read_back(api: Api) -> None:
    nested: object = "leaf"
    for _ in range(MAX_JSON_DEPTH - 3):  # the body object and the input list add levels
        nested = [nested]
    started = api.start("deep-ok", input=[nested], memo={"m": nested})
    assert started.status_code == 201, started.text[:300]
    described = api.control("GET", "/workflows/deep-ok")
    assert described.status_code == 200
    history = api.control("GET", f"/workflows/deep-ok/runs/{started.json()['run_id']}/history")
    assert history.status_code == 200


def test_get_with_a_body_is_handled(api: Api) -> None:
    api.start()
    listed = api.http.request("GET", "/api/workflows", content=b'{"x": 1}', headers=BOTH)
    assert listed.status_code == 200
    described = api.http.request("GET", "/api/workflows/wf-1", content=b"{nope", headers=BOTH)
    assert described.status_code == 400 and described.json()["reason"] == "malformed_json"
    surrogate = api.http.request("GET", "/api/workflows", content=b'{"q": "\\ud800"}', headers=BOTH)
    assert surrogate.status_code == 422 and "q" in surrogate.json()["errors"]


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text[:300]
    payload = response.json()
    assert payload["reason"] == "validation_failed"
    assert field in payload["errors"], payload["errors"]
    assert "surrogate" in payload["message"]


@pytest.fixture
def started(api: Api) -> Iterator[Api]:
    api.register()
    assert api.start().status_code == 201
    yield api


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/workflows",
         b'{"workflow_type": "t", "task_queue": "q", "input": ["\\ud800"]}', "input.0"),
        ("/api/workflows",
         b'{"workflow_type": "t\\udfff", "task_queue": "q"}', "workflow_type"),
        ("/api/workflows", b'{"workflow_type": "t", "memo": {"\\ud800": 1}}', "memo.\\ud800"),
        ("/api/workflows/wf-1/query/status", b'{"input": ["\\ud800"]}', "input.0"),
        ("/api/workflows/wf-1/signal/go", b'{"input": {"a": "\\udc00"}}', "input.a"),
        ("/api/workflows/wf-1/update/u", b'{"input": ["\\ud800"]}', "input.0"),
        ("/api/workflows/wf-1/cancel", b'{"reason": "\\ud800"}', "reason"),
        ("/api/bridge-adapters/webhook/stripe",
         b'{"action": "start_workflow", "idempotency_key": "\\udc00",'
         b' "target": {"workflow_type": "t", "task_queue": "q"}}', "idempotency_key"),
        ("/api/schedules",
         b'{"schedule_id": "s\\ud800", "spec": {"cron_expressions": ["* * * * *"]},'
         b' "action": {"workflow_type": "t"}}', "schedule_id"),
        ("/api/search-attributes", b'{"name": "A\\ud800", "type": "keyword"}', "name"),
        ("/api/worker/register",
         b'{"worker_id": "w\\ud800", "task_queue": "q", "runtime": "python"}', "worker_id"),
        ("/api/worker/workflow-tasks/poll", b'{"worker_id": "w1", "task_queue": "\\ud800"}',
         "task_queue"),
        # raw UTF-8 bytes of a surrogate (not valid UTF-8, decoded leniently by json)
        ("/api/workflows", b'{"workflow_type": "\xed\xa0\x80"}', "workflow_type"),
    ],
)  # fmt: skip
def test_lone_surrogates_are_422_naming_the_field(
    started: Api, path: str, body: bytes, field: str
) -> None:
    _refused(started.http.post(path, content=body, headers=BOTH), field)
    assert started.http.get("/api/health").status_code == 200


def test_surrogate_pairs_are_ordinary_text(api: Api) -> None:
    body = b'{"workflow_id": "pair", "workflow_type": "t", "input": ["\\ud83d\\ude80"]}'
    response = api.http.post("/api/workflows", content=body, headers=BOTH)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("size", [2_097_153, 20_000_000])
def test_oversized_bodies_are_413_declared_or_streamed(api: Api, size: int) -> None:
    declared = api.http.post("/api/workflows", content=b" " * size, headers=BOTH)
    assert declared.status_code == 413
    assert declared.json() == {
        "message": "The request body is larger than 2097152 bytes.",
        "reason": "payload_too_large",
        "limit": 2_097_152,
    }

    def chunks() -> Iterator[bytes]:
        sent = 0
        while sent < size:
            part = min(65_536, size - sent)
            sent += part
            yield b" " * part

    streamed = api.http.post("/api/worker/register", content=chunks(), headers=BOTH)
    assert streamed.request.headers.get("transfer-encoding") == "chunked"
    assert streamed.status_code == 413 and streamed.json()["limit"] == 2_097_152
    assert api.http.get("/api/health").status_code == 200


def test_out_of_range_numbers_are_client_errors(api: Api) -> None:
    huge = b'{"workflow_type": "t", "execution_timeout_seconds": 1000000000000000000000000000000}'
    refused = api.http.post("/api/workflows", content=huge, headers=BOTH)
    assert refused.status_code == 422 and "execution_timeout_seconds" in refused.json()["errors"]
    infinite = b'{"workflow_type": "t", "run_timeout_seconds": 1e400}'
    malformed = api.http.post("/api/workflows", content=infinite, headers=BOTH)
    assert malformed.status_code == 400 and malformed.json()["reason"] == "malformed_json"
    # Within 64 bits but past the calendar: a deadline that never comes, not an overflow.
    far = {"workflow_id": "far", "workflow_type": "t", "execution_timeout_seconds": 10**15}
    assert api.control("POST", "/workflows", json=far).status_code == 201
    assert api.control("GET", "/workflows/far").status_code == 200


def test_query_strings_with_odd_numbers_are_client_errors(api: Api) -> None:
    """Found by the mutation fuzz: a 40-digit ``after_sequence`` overflowed a SQLite bind,
    and ``"²".isdigit()`` is true but ``int("²")`` fails."""
    schedule = {"schedule_id": "s1", "spec": {"cron_expressions": ["0 0 1 1 *"]},
                "action": {"workflow_type": "t", "task_queue": "q"}}  # fmt: skip
    assert api.control("POST", "/schedules", json=schedule).status_code == 201
    for params in ({"after_sequence": "1" * 40}, {"after_sequence": "²"}, {"limit": "²"},
                   {"limit": "1" * 40}):  # fmt: skip
        response = api.control("GET", "/schedules/s1/history", params=params)
        assert response.status_code in (200, 422), (params, response.text)
    for size in ("²", "1" * 40):
        listed = api.control("GET", "/workflows", params={"page_size": size})
        assert listed.status_code == 422, listed.text
    started = api.start("tok").json()
    token = base64.b64encode(b"9" * 40).decode()
    history = api.control(
        "GET", f"/workflows/tok/runs/{started['run_id']}/history",
        params={"next_page_token": token, "page_size": "²"},
    )  # fmt: skip
    assert history.status_code == 422, history.text
