"""Bearer-token authentication and per-operation roles (control-plane.md §1.4).

Role tokens map to one role each; the legacy token is ``admin`` and has full
access (the worker plane included) only while no role token is configured.
With no token at all the server runs the ``none`` driver: full access.
"""

from __future__ import annotations

import hashlib
import hmac

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.errors import Outcome


def _same(presented: str, token: str) -> bool:
    """Constant time, length included: equal-size digests are compared, never the raw strings."""
    digest = hashlib.sha256
    return hmac.compare_digest(digest(presented.encode()).digest(), digest(token.encode()).digest())


def _principal(config: ServerConfig, presented: str) -> tuple[str, bool] | None:
    """(role, full access) of a presented token, or None when it matches nothing."""
    role_tokens = (
        ("worker", config.worker_token),
        ("operator", config.operator_token),
        ("admin", config.admin_token),
    )
    found: tuple[str, bool] | None = None
    for role, token in role_tokens:  # compare all: timing does not reveal which matched
        if token and _same(presented, token) and found is None:
            found = (role, False)
    legacy = config.token
    if legacy and _same(presented, legacy) and found is None:
        found = ("admin", not any(t for _, t in role_tokens))
    return found


def authorize(config: ServerConfig, header: str, roles: tuple[str, ...]) -> Outcome | None:
    """None when the request may proceed; otherwise the 401/403 outcome."""
    if not config.auth_enabled:
        return None
    scheme, _, presented = header.partition(" ")
    principal = _principal(config, presented.strip()) if scheme.lower() == "bearer" else None
    if principal is None:
        return 401, {"reason": "unauthorized", "message": "Unauthenticated."}
    role, full_access = principal
    if full_access or role in roles:
        return None
    return 403, {
        "reason": "forbidden",
        "message": f"The {role} role may not call this endpoint.",
        "role": role,
        "allowed_roles": list(roles),
    }
