"""What the dev server exposes beyond loopback: the bind warning and opt-in CORS.

The dev server binds 127.0.0.1 by default. Bound to any other address without a
token, anyone who can reach the port drives every workflow, so :func:`bind_warning`
says so. Browsers get no CORS headers unless origins are configured
(``ServerConfig.cors_origins``); then only those origins are allowed.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware

from durable_workflow._loopback import is_loopback_host
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.request_log import ASGIApp


def bind_warning(host: str, config: ServerConfig) -> str | None:
    """A warning when ``host`` is reachable from other machines and no token is set."""
    if is_loopback_host(host) or config.auth_enabled:
        return None
    return (
        f"the dev server is bound to {host} without a token: anyone who can reach this port "
        "can start, signal and terminate workflows; set --token (or role tokens) or bind "
        "127.0.0.1"
    )


def with_cors(app: ASGIApp, config: ServerConfig) -> ASGIApp:
    """``app`` with CORS for the configured origins only; unchanged when none are."""
    if not config.cors_origins:
        return app
    return CORSMiddleware(
        app,
        allow_origins=list(config.cors_origins),
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["x-request-id"],
    )
