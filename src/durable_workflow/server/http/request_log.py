"""A request id on every response and in every log line about that request.

:class:`RequestContext` wraps the dev server's ASGI app: it takes the caller's
``X-Request-Id`` when it is a short safe token, otherwise makes one, returns it in
the response's ``X-Request-Id`` header, keeps it in a context variable for the
request's duration (so :class:`RequestIdFilter` can stamp any log record made while
handling it) and writes one JSON access line per request to the
``durable_workflow.http`` logger: at INFO, or WARNING for a 5xx. Nothing from the
request's headers but the namespace goes into the line, so tokens are never logged.
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

HEADER = "x-request-id"
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "durable_workflow_request_id", default="-"
)
access_log = logging.getLogger("durable_workflow.http")
# Ids this server makes: a random per-process prefix and a counter (32 hex digits, as a
# uuid4's), unique without asking the OS for randomness on every request.
_ID_PREFIX = secrets.token_hex(8)
_id_counter = itertools.count(1)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) for ``%(request_id)s``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = bytes(value).decode("latin-1")
            if _SAFE.match(text):
                return text
    return f"{_ID_PREFIX}{next(_id_counter):016x}"


class RequestContext:
    """ASGI middleware: request id header, context variable and the access log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            level = logging.WARNING if status >= 500 or status == 0 else logging.INFO
            if access_log.isEnabledFor(level):
                namespace = next(
                    (
                        v.decode("latin-1")
                        for k, v in scope.get("headers", ())
                        if k == b"x-namespace"
                    ),
                    "default",
                )
                access_log.log(
                    level,
                    json.dumps(
                        {
                            "request_id": request_id,
                            "method": scope.get("method"),
                            "path": scope.get("path"),
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                            "namespace": namespace,
                        }
                    ),
                )
            current_request_id.reset(token)
