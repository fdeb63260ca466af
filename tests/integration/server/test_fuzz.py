"""Property-based fuzz over every operation: malformed bodies, wrong types, huge and
unicode values, odd path parameters. No 5xx (except the documented schedule
``trigger_failed``), every error body follows the contract, and the database stays
consistent afterwards.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from durable_workflow._generated import manifest
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.runner import bind_socket, build_server

HEADERS = {
    manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION,
    manifest.WORKER_PROTOCOL_HEADER: manifest.WORKER_PROTOCOL_VERSION,
}
NAMES = sorted(OPERATIONS)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.text(alphabet="\u00e9\u4e2d\U0001f680\u0000\u202e", max_size=10),
    st.just("x" * 5000),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
segments = st.text(min_size=1, max_size=30).map(lambda s: quote(s, safe=""))


def _field_names(name: str) -> list[str]:
    model = OPERATIONS[name].request_model
    return sorted(model.model_fields) if model is not None else ["input", "name"]


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, str, Any]:
    name = draw(st.sampled_from(NAMES))
    op = OPERATIONS[name]
    path = re.sub(r"\{\w+\}", lambda _m: draw(segments), op.path)
    keys = _field_names(name)
    body = draw(
        st.one_of(
            st.dictionaries(st.sampled_from(keys), json_values, max_size=len(keys)),
            json_values,
        )
    )
    return name, op.method, path, body


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite"
    config = ServerConfig(
        db_path=db,
        poll_timeout=0.05,
        query_timeout=0.05,
        update_wait_seconds=0.05,
        update_wait_max_seconds=0.05,
    )
    sock = bind_socket("127.0.0.1", 0)
    server = build_server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                if client.get("/api/health").status_code == 200:
                    break
            time.sleep(0.05)
        seed = {"workflow_id": "seed", "workflow_type": "t", "task_queue": "q"}
        assert client.post("/api/workflows", headers=HEADERS, json=seed).status_code == 201
        yield client, db
    server.request_exit()
    thread.join(timeout=10)
    sock.close()


def _check_error_body(status: int, body: Any) -> None:
    assert isinstance(body, dict), body
    assert isinstance(body.get("reason"), str) and body["reason"], body
    assert isinstance(body.get("message") or body.get("error"), str), body
    if status == 422 and body["reason"] == "validation_failed":
        assert isinstance(body["errors"], dict) and body["errors"], body


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=requests())
def test_no_5xx_and_contract_shaped_errors(
    app: tuple[httpx.Client, Path], request: tuple[str, str, str, Any]
) -> None:
    client, _ = app
    name, method, path, body = request
    response = client.request(
        method, path, headers={**HEADERS, "Content-Type": "application/json"},
        content=json.dumps(body).encode(),
    )  # fmt: skip
    payload = response.json()
    if name == "schedule.trigger" and payload.get("outcome") == "trigger_failed":
        return  # documented 500 of a failed schedule start (control-plane §9.8)
    if response.status_code == 501:  # operations the dev server does not implement yet
        assert payload["reason"] == "not_implemented", payload
        return
    assert response.status_code < 500, (name, body, payload)
    if response.status_code >= 400 and not (
        name.startswith("query-task.") and "query_task_id" in payload
    ):
        _check_error_body(response.status_code, payload)


def test_database_is_consistent_after_fuzzing(app: tuple[httpx.Client, Path]) -> None:
    _, db = app
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        drift = conn.execute(
            "SELECT r.run_id FROM workflow_runs r LEFT JOIN history_events h"
            " ON h.run_id = r.run_id GROUP BY r.run_id"
            " HAVING r.last_history_sequence != COALESCE(MAX(h.sequence), 0)"
        ).fetchall()
        assert drift == []
        gaps = conn.execute(
            "SELECT run_id FROM history_events GROUP BY run_id HAVING COUNT(*) != MAX(sequence)"
        ).fetchall()
        assert gaps == []
