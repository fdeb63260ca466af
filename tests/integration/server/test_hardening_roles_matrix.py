"""Every operation x every principal x namespaces, expected status from the contract.

Principals (control-plane.md §1.4): no token, a wrong token, each role token
(worker: the worker plane; operator, admin: the control plane) and the legacy token,
on a server with role tokens (legacy = admin, no worker plane) and on one with only
the legacy token (full access), plus a server without auth. Namespaces: two that
exist and one that does not (auth and role run before the namespace check, so a
refused caller cannot probe which namespaces exist).

Expected, from ``contracts/operations.json`` (the generated ``OPERATIONS``):
public operations answer without a token; otherwise no/wrong token is 401
``unauthorized``; a role the operation does not list is 403 ``forbidden`` naming the
role and the allowed roles; an allowed caller is never 401/403 and gets a success
status or a reason the contract declares for the operation or its plane (404
``namespace_not_found`` for a namespaced operation in the missing namespace).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from server_http_helpers import CONTROL, WORKER

from durable_workflow._generated.operations import OPERATIONS, OperationSpec
from durable_workflow.testing import dev_server

ROLE_TOKENS = {"worker": "tok-worker", "operator": "tok-operator", "admin": "tok-admin"}
LEGACY = "tok-legacy"
NAMESPACES = ("default", "team-b", "ghost")  # ghost does not exist
# Reasons any operation may answer besides its own (the contract's common reasons).
GENERIC = {"validation_failed", "not_implemented", "not_found", "malformed_json"}
COMMON = {
    "control": {
        "malformed_json", "unsupported_media_type", "payload_too_large", "unauthorized",
        "forbidden", "missing_control_plane_version", "unsupported_control_plane_version",
        "namespace_not_found", "not_found", "method_not_allowed",
    },
}  # fmt: skip
COMMON["worker"] = (COMMON["control"] - {"missing_control_plane_version"}) | {
    "missing_protocol_version",
    "unsupported_protocol_version",
}
COMMON["public"] = set()


@dataclass(frozen=True)
class Principal:
    name: str
    token: str | None
    role: str | None  # None: not authenticated
    full_access: bool = False


ROLE_SERVER = [
    Principal("none", None, None),
    Principal("wrong", "not-a-token", None),
    *(Principal(role, token, role) for role, token in ROLE_TOKENS.items()),
    Principal("legacy-as-admin", LEGACY, "admin"),
]
LEGACY_SERVER = [
    Principal("none", None, None),
    Principal("wrong", "not-a-token", None),
    Principal("legacy-full", LEGACY, "admin", full_access=True),
]
NO_AUTH_SERVER = [Principal("anonymous", None, "admin", full_access=True)]


def _with_team_b(url: str, token: str | None) -> None:
    headers = {**CONTROL, **({"Authorization": f"Bearer {token}"} if token else {})}
    created = httpx.post(url + "/api/namespaces", json={"name": "team-b"}, headers=headers)
    assert created.status_code == 201, created.text


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, tuple[httpx.Client, list[Principal]]]]:
    with (
        dev_server(poll_timeout=0.05, token=LEGACY, **{f"{r}_token": t for r, t in
                   ROLE_TOKENS.items()}) as roles,
        dev_server(poll_timeout=0.05, token=LEGACY) as legacy,
        dev_server(poll_timeout=0.05) as open_server,
        httpx.Client(base_url=roles.url, timeout=10) as roles_http,
        httpx.Client(base_url=legacy.url, timeout=10) as legacy_http,
        httpx.Client(base_url=open_server.url, timeout=10) as open_http,
    ):  # fmt: skip
        _with_team_b(roles.url, ROLE_TOKENS["admin"])
        _with_team_b(legacy.url, LEGACY)
        _with_team_b(open_server.url, None)
        yield {
            "roles": (roles_http, ROLE_SERVER),
            "legacy": (legacy_http, LEGACY_SERVER),
            "open": (open_http, NO_AUTH_SERVER),
        }


def _expected_problem(
    op: OperationSpec, who: Principal, namespace: str, response: httpx.Response
) -> str | None:
    status, body = response.status_code, response.json()
    reason = body.get("reason") if isinstance(body, dict) else None
    if op.roles and who.role is None:
        ok = status == 401 and reason == "unauthorized"
        return None if ok else f"expected 401 unauthorized, got {status} {reason}"
    allowed = not op.roles or who.full_access or who.role in op.roles
    if not allowed:
        ok = (
            status == 403
            and reason == "forbidden"
            and body.get("role") == who.role
            and body.get("allowed_roles") == list(op.roles)
        )
        return None if ok else f"expected 403 forbidden, got {status} {body}"
    if status in (401, 403) or (status >= 500 and reason != "not_implemented"):
        return f"allowed caller refused or failed: {status} {body}"
    if op.namespaced and namespace == "ghost":
        ok = status == 404 and reason == "namespace_not_found"
        return None if ok else f"expected 404 namespace_not_found, got {status} {reason}"
    if status in op.success_statuses and status < 400:
        return None
    declared = set(op.error_reasons) | COMMON[op.plane] | GENERIC
    if reason not in declared:
        return f"{status} reason {reason!r} is not declared for the operation"
    return None


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_operation_roles_and_namespaces_match_the_contract(
    servers: dict[str, tuple[httpx.Client, list[Principal]]], name: str
) -> None:
    op = OPERATIONS[name]
    path = re.sub(r"\{\w+\}", "matrix-x", op.path)
    problems = []
    for server_name, (http, principals) in servers.items():
        for who in principals:
            for namespace in NAMESPACES:
                headers = {**CONTROL, **WORKER, "X-Namespace": namespace}
                if who.token is not None:
                    headers["Authorization"] = f"Bearer {who.token}"
                body = None if op.method in ("GET", "DELETE") else {}
                response = http.request(op.method, path, headers=headers, json=body)
                problem = _expected_problem(op, who, namespace, response)
                if problem is not None:
                    problems.append(f"{server_name}/{who.name}/{namespace}: {problem}")
    assert problems == []
