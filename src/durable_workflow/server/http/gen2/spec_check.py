"""Optional response checking (``start-dev --generation 2 --check-responses``).

An ASGI middleware that validates every JSON response the server sends against
the vendored documents (:mod:`durable_workflow._spec_validation`) and logs each
mismatch as a ``SPEC MISMATCH`` warning: the interop harness runs upstream's
SDK 2.12.0 against a checked server and fails on any such line. The documented
deviations (``gen2.deviations``) are not mismatches.
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any

from durable_workflow._spec_validation import find_operation, validate_response
from durable_workflow.server.http.gen2.deviations import TOLERATED_RESPONSE_FIELDS

log = logging.getLogger("durable_workflow.server.spec_check")
MISMATCH = "SPEC MISMATCH"


def _decoded(content: bytes, encoding: str) -> Any:
    if encoding == "gzip":
        content = zlib.decompress(content, 16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        content = zlib.decompress(content)
    return json.loads(content) if content else None


def mismatches(
    method: str, path: str, status: int, headers: dict[str, str], content: bytes
) -> list[str]:
    """The spec mismatches of one response (empty for paths no document declares)."""
    operation = find_operation(method, path)
    if operation is None:
        return [f"{method} {path}: no operation in the documents"] if status != 404 else []
    try:
        body = _decoded(content, headers.get("content-encoding", ""))
    except (ValueError, zlib.error) as exc:
        return [f"{method} {path}: the body is not JSON ({exc})"]
    return [
        f"{status} {method} {path} ({operation.operation_id}): {error}"
        for error in validate_response(operation, status, body, headers)
        if (operation.operation_id, error.field) not in TOLERATED_RESPONSE_FIELDS
    ]


class SpecCheck:
    """Wraps the dev server's ASGI app; never changes a response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                               for k, v in start.get("headers", [])}  # fmt: skip
                    for line in mismatches(scope["method"], scope["path"], start["status"],
                                           headers, b"".join(chunks)):  # fmt: skip
                        log.warning("%s %s", MISMATCH, line)
            await send(message)

        await self.app(scope, receive, capture)
