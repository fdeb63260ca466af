"""The UI's actions, each one a call of the HTTP API's own operation, made in-process.

An action is sent to the dev server's ASGI app exactly as a client would send
it (bearer token, version header, namespace, JSON body), so it passes the same
authentication, role check, validation and engine code as any API call, and
answers with the same error contract. Arguments are encoded with the package's
:class:`~durable_workflow.converter.DataConverter`, as the SDK encodes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from durable_workflow._generated import manifest
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow.converter import DataConverter

_CONVERTER = DataConverter()

# UI action -> (operation, whether it changes or ends the run).
WORKFLOW_ACTIONS = {
    "signal": "workflow.signal_run",
    "update": "workflow.update_run",
    "query": "workflow.query_run",
    "cancel": "workflow.cancel_run",
    "terminate": "workflow.terminate_run",
}
SCHEDULE_ACTIONS = {
    "pause": "schedule.pause",
    "resume": "schedule.resume",
    "trigger": "schedule.trigger",
}
NAME_PARAMS = {"signal": "signalName", "update": "updateName", "query": "queryName"}


class BadArguments(ValueError):
    """The arguments field is not a JSON array (or a single JSON value)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status < 300

    @property
    def message(self) -> str:
        text = self.body.get("message") or self.body.get("error") or ""
        reason = self.body.get("reason")
        return f"{text} ({reason})" if reason else str(text)


def parse_arguments(raw: str) -> list[Any]:
    """The argument list of a form field: a JSON array, one JSON value, or nothing."""
    text = raw.strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise BadArguments(f"Arguments are not valid JSON: {exc}") from None
    return value if isinstance(value, list) else [value]


def input_body(args: list[Any]) -> dict[str, Any]:
    """``{}`` or ``{"input": envelope}``, the body the SDK sends for signal/query/update."""
    return {"input": _CONVERTER.encode(args)} if args else {}


async def call_api(
    app: Any,
    operation: str,
    path_params: dict[str, str],
    body: dict[str, Any],
    *,
    namespace: str,
    token: str | None,
) -> Answer:
    """Send one API operation to ``app`` (the dev server's ASGI app) and read its answer."""
    op = OPERATIONS[operation]
    path = op.path
    for name, value in path_params.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    headers = {
        manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION,
        "X-Namespace": namespace,
        "Accept-Encoding": "identity",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dev-server") as client:
        response = await client.request(op.method, path, json=body, headers=headers, timeout=None)
    try:
        data = response.json()
    except ValueError:
        data = {"message": response.text[:500]}
    return Answer(response.status_code, data if isinstance(data, dict) else {"value": data})
