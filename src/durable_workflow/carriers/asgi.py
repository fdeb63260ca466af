"""A ready ASGI app for an invocable activity endpoint (beyond upstream).

``uvicorn mymodule:app`` with ``app = asgi_app({"charge": charge})`` is the
whole endpoint: POST an input envelope, get a result envelope back. Written
against the bare ASGI interface so it runs under any ASGI server without a
web framework dependency.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from durable_workflow.invocable import (
    InvocableActivityCallable,
    InvocableActivityHandler,
    InvocableHttpResponse,
    handle_invocable_http_request,
)

__all__ = ["ASGIApp", "asgi_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Refuse bodies beyond this before parsing; the server's own payload limit is 2 MiB.
MAX_BODY_BYTES = 8 * 1024 * 1024


def asgi_app(
    handlers: Mapping[str, InvocableActivityCallable] | InvocableActivityHandler,
    *,
    path: str | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    **options: Any,
) -> ASGIApp:
    """Build the ASGI callable serving ``handlers`` (``options`` as for the handler class).

    ``path`` restricts the endpoint to one request path (any path when None).
    """
    runner = (
        handlers
        if isinstance(handlers, InvocableActivityHandler)
        else InvocableActivityHandler(handlers, **options)
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if path is not None and scope.get("path") != path:
            await _send(
                send, _error(404, "not_found", f"no invocable endpoint at {scope.get('path')}")
            )
            return
        if scope.get("method") != "POST":
            response = _error(405, "method_not_allowed", "invocable endpoints accept POST only")
            response.headers["Allow"] = "POST"
            await _send(send, response)
            return
        body = await _read_body(receive, max_body_bytes)
        if body is None:
            await _send(send, _error(413, "payload_too_large", "request body is too large"))
            return
        await _send(send, await handle_invocable_http_request(body, runner))

    return app


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _error(status: int, error: str, message: str) -> InvocableHttpResponse:
    body = json.dumps({"error": error, "message": message}, separators=(",", ":"))
    return InvocableHttpResponse(status, {"Content-Type": "application/json"}, body)


async def _send(send: Send, response: InvocableHttpResponse) -> None:
    payload = response.body.encode("utf-8")
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
    ]
    headers.append((b"content-length", str(len(payload)).encode("ascii")))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
