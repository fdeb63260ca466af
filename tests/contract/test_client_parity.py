"""Parity: every upstream control-plane fixture, sent by ``Client`` and by the CLI.

Each fixture in ``../shared/upstream/control-plane/*.json`` (read in place; a
new file is picked up without code changes) is replayed against a recording
HTTP server on 127.0.0.1: the ``Client`` method named by ``sdk_python`` (or the
operation's ``sdk_method`` in the catalogue) must send exactly the fixture's
method, path, query and JSON body, and parse ``response_body`` into the
method's annotated return type; ``cli.argv`` must send ``cli.expected_body``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import json
import threading
import types
import typing
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from durable_workflow import serializer
from durable_workflow._generated import manifest
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow.cli._control import run_control
from durable_workflow.cli._control_specs import command_words
from durable_workflow.client import Client
from durable_workflow.retry_policy import TransportRetryPolicy

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "upstream" / "control-plane"
FILES = sorted(FIXTURES.glob("*.json")) if FIXTURES.is_dir() else []

# Keys a method generates per call (an idempotency key); fixtures cannot pin them.
VOLATILE_BODY_KEYS = frozenset({"poll_request_id"})


@dataclasses.dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


class Recorder:
    """A loopback HTTP server that records each request and answers one canned body."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.response: Any = None
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                recorder.requests.append(
                    Recorded(
                        method=self.command,
                        path=parts.path,
                        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=json.loads(raw) if raw else None,
                    )
                )
                if recorder.response is None:
                    self.send_response(204)
                    self.end_headers()
                    return
                payload = json.dumps(recorder.response).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def only_request(self, *, after_start: bool = False) -> Recorded:
        """The one request sent; after a start, the client's read of the queue's workers
        (it warns when none registered the type) is not the operation's request."""
        requests = self.requests
        if after_start:
            requests = [r for r in requests if (r.method, r.path) != ("GET", "/api/workers")]
        assert len(requests) == 1, [r.path for r in self.requests]
        return requests[0]


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    rec.thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def _fixture(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _sdk_method(fixture: dict[str, Any]) -> str:
    sdk = fixture.get("sdk_python") or {}
    name = sdk.get("method") or OPERATIONS[fixture["operation"]].sdk_method
    assert name, f"no SDK method for {fixture['operation']}"
    return str(name)


def _pop_path(body: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    *parents, leaf = dotted.split(".")
    node: Any = body
    for part in parents:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    if not isinstance(node, dict) or leaf not in node:
        return False, None
    return True, node.pop(leaf)


def _query_matches(actual: dict[str, str], expected: dict[str, Any]) -> bool:
    def text(value: Any) -> set[str]:
        if isinstance(value, bool):
            return {"1", "true"} if value else {"0", "false"}
        return {str(value)}

    if actual.keys() != expected.keys():
        return False
    return all(actual[k] in text(v) for k, v in expected.items())


def _conforms(value: Any, annotation: Any) -> bool:
    if annotation is type(None) or annotation is None:
        return value is None
    if annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in typing.get_args(annotation))
    if origin is not None:
        return isinstance(value, origin)
    return isinstance(value, annotation)


def _check_scalars(result: Any, response: Any) -> None:
    """Every top-level scalar of the response that names a result field arrived unchanged.

    Methods that return the server's object (upstream's ``dict`` results) return it
    whole; polls return the ``task`` inside it.
    """
    if isinstance(result, dict) and isinstance(response, dict):
        assert result in (response, response.get("task")), result
        return
    if not dataclasses.is_dataclass(result) or not isinstance(response, dict):
        return
    for item in dataclasses.fields(result):
        value = response.get(item.name)
        if isinstance(value, (str, int, bool)):
            assert getattr(result, item.name) == value, item.name


def _check_headers(request: Recorded, plane: str) -> None:
    assert request.headers["x-namespace"] == "orders-prod"
    assert request.headers["authorization"] == "Bearer parity-token"
    assert request.headers["user-agent"].startswith("durable-workflow-python/")
    control = request.headers.get(manifest.CONTROL_PLANE_HEADER.lower())
    worker = request.headers.get(manifest.WORKER_PROTOCOL_HEADER.lower())
    if plane == "worker":
        assert worker == manifest.WORKER_PROTOCOL_VERSION and control is None
    else:
        assert control == manifest.CONTROL_PLANE_VERSION and worker is None


def _argv_list(argv: dict[str, Any]) -> list[str]:
    """The fixture's argv object as a command line.

    Keys without ``--`` are positionals (in order), ``true`` is a bare flag and a
    list repeats its flag once per item.
    """
    words: list[str] = []
    for key, value in argv.items():
        if not key.startswith("-"):
            words.append(str(value))
        elif value is True:
            words.append(key)
        elif isinstance(value, list):
            for item in value:
                words += [key, str(item)]
        else:
            words += [key, str(value)]
    return words


def _expected_body(section: dict[str, Any], fixture: dict[str, Any]) -> Any:
    if "expected_body" in section:
        return section["expected_body"]
    return fixture["request"].get("body")


@pytest.mark.skipif(not FILES, reason=f"upstream parity fixtures not available at {FIXTURES}")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_client_sends_the_fixture_request_and_parses_its_response(
    path: Path, recorder: Recorder
) -> None:
    fixture = _fixture(path)
    sdk = fixture["sdk_python"]
    method = _sdk_method(fixture)
    kwargs = sdk.get("kwargs") or sdk.get("args") or {}
    recorder.requests.clear()
    recorder.response = fixture.get("response_body")

    async def call() -> Any:
        async with Client(
            recorder.url,
            token="parity-token",
            namespace="orders-prod",
            retry_policy=TransportRetryPolicy(max_attempts=1),
        ) as client:
            return await getattr(client, method)(**kwargs)

    result = asyncio.run(call())
    request = recorder.only_request(after_start=fixture["operation"] == "workflow.start")
    spec = OPERATIONS[fixture["operation"]]
    assert request.method == fixture["request"]["method"]
    assert request.path == "/api" + fixture["request"]["path"]
    _check_headers(request, spec.plane)

    expected_query = sdk.get("expected_query", fixture["request"].get("query"))
    if expected_query is not None:
        assert _query_matches(request.query, expected_query), request.query
    else:
        # The fixture pins no SDK query: whatever is sent must agree with the CLI's.
        cli_query = fixture.get("cli", {}).get("expected_query", {})
        assert _query_matches(
            request.query, {k: v for k, v in cli_query.items() if k in request.query}
        ), request.query

    body = request.body if request.body is not None else {}
    expected = _expected_body(sdk, fixture)
    expected = json.loads(json.dumps(expected)) if expected is not None else {}
    envelope = sdk.get("payload_envelope")
    if envelope:
        found, sent = _pop_path(body, envelope["field"])
        assert found, f"{envelope['field']} missing from {body}"
        assert isinstance(sent, dict) and sent["codec"] == envelope["codec"], sent
        assert serializer.decode_envelope(sent) == envelope["decoded"]
        had, value = _pop_path(expected, envelope["field"])
        assert not had or value == envelope["decoded"]
    for key in VOLATILE_BODY_KEYS - set(expected):
        body.pop(key, None)
    assert body == expected

    annotation = typing.get_type_hints(getattr(Client, method))["return"]
    assert _conforms(result, annotation), (method, annotation, result)
    _check_scalars(result, fixture.get("response_body"))


@pytest.mark.skipif(not FILES, reason=f"upstream parity fixtures not available at {FIXTURES}")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_cli_argv_sends_the_fixture_body(path: Path, recorder: Recorder) -> None:
    fixture = _fixture(path)
    cli = fixture["cli"]
    recorder.requests.clear()
    recorder.response = fixture.get("response_body")
    argv = [
        *command_words(fixture["operation"]),
        *_argv_list(cli["argv"]),
        "--server",
        recorder.url,
        "--token",
        "parity-token",
        "--namespace",
        "orders-prod",
    ]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_control(argv)
    assert code == 0, out.getvalue()
    request = recorder.only_request(after_start=fixture["operation"] == "workflow.start")
    spec = OPERATIONS[fixture["operation"]]
    assert request.method == fixture["request"]["method"]
    assert request.path == "/api" + fixture["request"]["path"]
    _check_headers(request, spec.plane)
    expected_query = cli.get("expected_query", fixture["request"].get("query") or {})
    assert _query_matches(request.query, expected_query), request.query
    expected = _expected_body(cli, fixture)
    body = request.body
    if isinstance(body, dict):
        for key in VOLATILE_BODY_KEYS - set(expected or {}):
            body.pop(key, None)
    if expected is None:
        assert body in (None, {}), body
    else:
        assert body == expected
    if cli["argv"].get("--json") is True and fixture.get("response_body") is not None:
        assert json.loads(out.getvalue()) == fixture["response_body"]
