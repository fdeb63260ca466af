"""Role tokens: every operation of the catalog enforces its roles (control-plane.md §1.4)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from server_http_helpers import CONTROL, WORKER

from durable_workflow._generated.operations import OPERATIONS
from durable_workflow.testing import dev_server

TOKENS = {"worker": "tok-worker", "operator": "tok-operator", "admin": "tok-admin"}


@pytest.fixture(scope="module")
def role_server() -> Iterator[httpx.Client]:
    with (
        dev_server(
            poll_timeout=0.2,
            token="tok-legacy",
            worker_token=TOKENS["worker"],
            operator_token=TOKENS["operator"],
            admin_token=TOKENS["admin"],
        ) as handle,
        httpx.Client(base_url=handle.url, timeout=10) as http,
    ):
        yield http


def _call(http: httpx.Client, name: str, token: str | None) -> httpx.Response:
    op = OPERATIONS[name]
    path = re.sub(r"\{\w+\}", "x", op.path)
    headers = {**CONTROL, **WORKER}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return http.request(op.method, path, headers=headers, json={})


@pytest.mark.parametrize("name", sorted(n for n, op in OPERATIONS.items() if op.roles))
def test_every_operation_refuses_the_roles_it_does_not_list(
    role_server: httpx.Client, name: str
) -> None:
    op = OPERATIONS[name]
    for role, token in TOKENS.items():
        response = _call(role_server, name, token)
        if role in op.roles:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            body = response.json()
            assert body["reason"] == "forbidden" and body["role"] == role
            assert body["allowed_roles"] == list(op.roles)


@pytest.mark.parametrize(
    "name", ["workflow.list", "worker.register", "system.metrics", "bridge.webhook"]
)
def test_missing_or_wrong_token_is_401(role_server: httpx.Client, name: str) -> None:
    assert _call(role_server, name, None).status_code == 401
    assert _call(role_server, name, "wrong").json()["reason"] == "unauthorized"


def test_legacy_token_is_admin_only_once_role_tokens_exist(role_server: httpx.Client) -> None:
    assert _call(role_server, "namespace.list", "tok-legacy").status_code == 200
    refused = _call(role_server, "worker.register", "tok-legacy")
    assert refused.status_code == 403 and refused.json()["role"] == "admin"


def test_health_needs_no_token(role_server: httpx.Client) -> None:
    assert role_server.get("/api/health").status_code == 200
