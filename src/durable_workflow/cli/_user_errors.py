"""One line for a CLI user's mistake: which URL, what went wrong, what to do next.

A refused connection, a TLS handshake against a plain-HTTP server and a
missing or wrong token are the mistakes a newcomer makes first; each becomes
a single ``error:`` line naming the server URL, the cause and the next step,
never a traceback. Anything else keeps its own message.
"""

from __future__ import annotations

import ssl

import httpx

from durable_workflow import errors

__all__ = ["START_DEV_HINT", "TOKEN_HINT", "user_error_line"]

START_DEV_HINT = (
    "start a local server with `durable-workflow server start-dev`, or pass the right URL "
    "with --server / DURABLE_WORKFLOW_SERVER_URL"
)
TOKEN_HINT = "pass the server's token with --token or DURABLE_WORKFLOW_AUTH_TOKEN"


def _tls_failure(cause: BaseException | None) -> bool:
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLError) or "SSL" in str(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _transport_line(exc: errors.TransportError, url: str) -> str | None:
    cause = exc.cause
    if isinstance(exc, errors.TransportTimeout) or not isinstance(cause, httpx.ConnectError):
        return None
    if _tls_failure(cause):
        plain = "http://" + url.split("://", 1)[-1]
        return (
            f"cannot connect to {url}: the TLS handshake failed ({cause}); the server speaks "
            f"plain HTTP, so use {plain} (--server / DURABLE_WORKFLOW_SERVER_URL)"
        )
    reason = "connection refused" if "attempts failed" in str(cause) else str(cause)
    return f"cannot connect to {url}: {reason} (is the server running?); {START_DEV_HINT}"


def user_error_line(exc: BaseException, url: str | None) -> str:
    """The ``error: …`` line the CLI prints for ``exc`` raised talking to ``url``."""
    where = url or "the server"
    if isinstance(exc, errors.TransportError):
        line = _transport_line(exc, where)
        if line is not None:
            return f"error: {line}"
    if isinstance(exc, errors.Unauthorized):
        return (
            f"error: {exc} (HTTP 401 from {where}): the token is missing or wrong; {TOKEN_HINT} "
            "(a dev server started with --token T accepts exactly T)"
        )
    return f"error: {exc}"
