"""A proxy in front of a dev server that records the exchanges eager dispatch is about.

The tests of the ``eager_*`` extensions look at the wire: what a completion asked
for and what its answer carried, and what the polls delivered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx


class Exchanges:
    """What went over the wire through the proxy."""

    def __init__(self) -> None:
        # Workflow-task completions: (request body, answer).
        self.completions: list[tuple[dict[str, Any], dict[str, Any]]] = []
        # Activity completions and failures: (request body, answer).
        self.activity_outcomes: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.activity_polls: list[dict[str, Any]] = []
        self.workflow_polls: list[dict[str, Any]] = []


def proxy_transport(
    upstream: httpx.AsyncClient,
    seen: Exchanges,
    edit_info: Callable[[dict[str, Any]], None] | None = None,
) -> httpx.MockTransport:
    async def proxy(request: httpx.Request) -> httpx.Response:
        answer = await upstream.request(
            request.method,
            request.url.path,
            params=request.url.params,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            content=request.content,
        )
        path = request.url.path
        decoded = ("content-encoding", "content-length")
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in decoded}
        if path.startswith("/api/worker/workflow-tasks/") and path.endswith("/complete"):
            seen.completions.append((json.loads(request.content), answer.json()))
        elif path.startswith("/api/worker/activity-tasks/") and path.endswith(
            ("/complete", "/fail")
        ):
            seen.activity_outcomes.append((json.loads(request.content), answer.json()))
        elif path == "/api/worker/activity-tasks/poll":
            seen.activity_polls.append(answer.json())
        elif path == "/api/worker/workflow-tasks/poll":
            seen.workflow_polls.append(answer.json())
        elif path == "/api/cluster/info" and edit_info is not None:
            info = answer.json()
            edit_info(info)
            return httpx.Response(answer.status_code, json=info)
        return httpx.Response(answer.status_code, content=answer.content, headers=headers)

    return httpx.MockTransport(proxy)
