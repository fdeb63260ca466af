"""Parity with every upstream control-plane fixture (../shared/upstream/control-plane).

Each fixture's request runs in a namespace of its own, seeded by
``parity_setups`` with what the request needs (a leased task, a closed run…);
the ids the fixture invented are replaced by the ones the server chose (the
workflow id by one per namespace: workflow ids are unique across namespaces)
and everything else is sent as written. A fixture request without a body sends the body its own
``cli.expected_body`` documents. The response must be a success and (where the
fixture has a ``response_body``; start, signal, query, cancel and terminate have
none) have the shape of the fixture's ``response_body``:

- every key is present, with the same JSON type where both values are non-null;
- one level down: a nested object is compared the same way (its own nested values
  by type only); a list of objects is compared through the keys every fixture
  element shares, on every element of ours (elements are variants: ``enforced``
  vs ``skipped`` pass results carry different keys);
- documented name->value maps (``MAPS``) are compared by type only: their keys are
  data, not shape.

Every fixture is compared. ``KEY_EXCLUSIONS`` lists the single keys the dev
server deliberately does not answer (the fixture contradicts the documented
protocol), with the reason; an exclusion whose key matches now, or whose
fixture is gone, fails the test, so the list cannot go stale.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import httpx
import pytest
from parity_setups import (
    FIXTURES,
    SETUPS,
    WAIT_SECONDS,
    WORKFLOW_ID,
    Seeder,
    fixture,
    setup_for,
)
from server_http_helpers import CONTROL
from storage_emulators import Backend

from durable_workflow.testing import dev_server

KEY_EXCLUSIONS = {
    "workflow-history-export": {
        "events": "the bundle's history is `history_events` with `type` (control-plane §8.2); "
        "the fixture's `events`/`metadata` are the invented shape §8.2 flags [F], and a "
        "second copy of the history would double every bundle",
        "metadata": "the bundle carries `exported_at` and `schema_version` at the top level "
        "(control-plane §8.2)",
    },
    "query-task-poll": {
        "task.input": "the query input is `query_arguments` (worker-protocol §10.1)",
    },
}
MAPS = {"memo", "search_attributes", "system_attributes", "custom_attributes"}


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _shape(expected: dict[str, Any], mine: Any, path: str, depth: int) -> list[str]:
    """Differences between the fixture's object and ours, as readable paths."""
    if not isinstance(mine, dict):
        return [f"{path or '.'}: {_type(mine)} where the fixture has an object"]
    problems = []
    for key, value in expected.items():
        where = f"{path}.{key}" if path else key
        if key not in mine:
            problems.append(f"{where}: missing")
        elif value is not None and mine[key] is not None:
            if _type(value) != _type(mine[key]):
                problems.append(f"{where}: {_type(mine[key])}, fixture {_type(value)}")
            elif depth < 1 and key not in MAPS:
                problems.extend(_nested(value, mine[key], where, depth + 1))
    return problems


def _nested(expected: Any, mine: Any, path: str, depth: int) -> list[str]:
    if isinstance(expected, dict):
        return _shape(expected, mine, path, depth)
    if isinstance(expected, list) and expected and all(isinstance(e, dict) for e in expected):
        shared = {k: v for k, v in expected[0].items() if all(k in e for e in expected)}
        return [
            p for i, item in enumerate(mine) for p in _shape(shared, item, f"{path}[{i}]", depth)
        ]
    return []


def _substitute(value: Any, replace: dict[str, str]) -> Any:
    if isinstance(value, str):
        return replace.get(value, value)
    if isinstance(value, dict):
        return {k: _substitute(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, replace) for v in value]
    return value


def _path(path: str, replace: dict[str, str]) -> str:
    return "/".join(replace.get(segment, segment) for segment in path.split("/"))


def _fixtures() -> list[str]:
    if not FIXTURES.is_dir():
        pytest.skip(f"upstream parity fixtures not available at {FIXTURES}")
    names = sorted(p.name.removesuffix("-parity.json") for p in FIXTURES.glob("*-parity.json"))
    # namespace-create makes `billing`; the other namespace fixtures only ensure it exists
    return sorted(names, key=lambda n: n != "namespace-create")


def _send(seeder: Seeder, name: str) -> httpx.Response:
    """The fixture's request, adapted by its setup, sent into the seeded namespace."""
    data = fixture(name)
    request = data["request"]
    prepared = setup_for(name)(seeder)
    prepared.replace.setdefault(WORKFLOW_ID, seeder.workflow_id)
    body = request.get("body", data.get("cli", {}).get("expected_body"))
    if prepared.refused_as_written is not None:
        status, field = prepared.refused_as_written
        refused = seeder.request(request["method"], request["path"], json=body)
        assert refused.status_code == status, (name, refused.text)
        assert field in refused.json()["errors"], (name, refused.text)
    if isinstance(body, dict):
        body = {**_substitute(body, prepared.replace), **prepared.fields}
    path = _path(request["path"], prepared.replace)
    send = partial(seeder.request, request["method"], path, json=body, params=request.get("query"))
    response = seeder.answered(send) if prepared.answer_queries else send()
    if path.endswith("/poll") and (data.get("response_body") or {}).get("task"):
        # a query task reaches the broker after its caller's request is parsed
        deadline = time.monotonic() + WAIT_SECONDS
        while response.json().get("task") is None and time.monotonic() < deadline:
            response = send()
        # a null task would pass the comparison (null matches any type): demand one
        assert response.json().get("task") is not None, (name, response.text)
    return response


def _check(http: httpx.Client, pool: ThreadPoolExecutor, name: str) -> list[str]:
    """Seed the fixture's namespace, send its request, compare the response."""
    namespace = f"parity-{name}"
    created = http.post("/api/namespaces", headers=CONTROL, json={"name": namespace})
    assert created.status_code == 201, created.text
    seeder = Seeder(http, namespace, pool)
    leased = None
    try:
        response = _send(seeder, name)
        leased = response.json().get("task")
    finally:
        seeder.finish(leased if isinstance(leased, dict) else None)
    if response.status_code >= 400:
        return [f"HTTP {response.status_code}: {response.text[:300]}"]
    if not fixture(name).get("response_body"):
        return []
    excluded = KEY_EXCLUSIONS.get(name, {})
    found = _shape(fixture(name)["response_body"], response.json(), "", 0)
    stale = [k for k in excluded if all(not p.startswith(f"{k}:") for p in found)]
    return [p for p in found if p.split(":")[0] not in excluded] + [
        f"{k}: excluded but matches now" for k in stale
    ]


def test_every_fixture_response_shape_matches(s3_env: Backend) -> None:
    """``s3_env``: storage-test probes the s3 driver, which reaches moto."""
    problems: dict[str, list[str]] = {}
    names = _fixtures()
    with (
        dev_server(poll_timeout=0.2) as handle,
        httpx.Client(base_url=handle.url, timeout=30) as http,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        for name in names:
            found = _check(http, pool, name)
            if found:
                problems[name] = found
    assert not problems, json.dumps(problems, indent=1)
    # every exception and setup names a fixture that still exists
    assert set(KEY_EXCLUSIONS) | set(SETUPS) <= set(names)
