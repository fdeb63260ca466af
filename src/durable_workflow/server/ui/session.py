"""UI sessions: who is signed in, with which token, and the CSRF token of their forms.

Sessions live in the server's memory, keyed by a random id the browser holds
in an HttpOnly, SameSite=Strict cookie, so the bearer token never leaves the
server. Each session has its own CSRF token; every POST must echo it.

Permissions are the HTTP API's: an action is offered and accepted only when
:func:`durable_workflow.server.http.auth.authorize` lets the session's token
call the operation behind it. The one addition is the dev server's read-only
``viewer`` token, which may read every UI page and call nothing.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from durable_workflow._generated.operations import OPERATIONS
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.auth import authorize

COOKIE = "dw_ui_session"
IDLE_SECONDS = 12 * 3600
MAX_SESSIONS = 2000
# What a UI page reads; a token that may call this (or the viewer token) may look.
READ_OPERATION = "workflow.list"


@dataclass
class Session:
    sid: str
    csrf: str
    token: str | None = None
    signed_in: bool = False
    flash: list[dict[str, Any]] = field(default_factory=list)
    seen: float = field(default_factory=time.monotonic)


def _matches(presented: str, expected: str | None) -> bool:
    return bool(expected) and hmac.compare_digest(presented.encode(), str(expected).encode())


class Sessions:
    """The in-memory session table (oldest dropped past :data:`MAX_SESSIONS`)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._table: OrderedDict[str, Session] = OrderedDict()

    def get(self, sid: str | None) -> Session | None:
        found = self._table.get(sid or "")
        if found is None:
            return None
        now = time.monotonic()
        if now - found.seen > IDLE_SECONDS:
            del self._table[found.sid]
            return None
        found.seen = now
        self._table.move_to_end(found.sid)
        return found

    def new(self) -> Session:
        session = Session(sid=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32))
        self._table[session.sid] = session
        while len(self._table) > MAX_SESSIONS:
            self._table.popitem(last=False)
        return session

    def drop(self, session: Session) -> None:
        self._table.pop(session.sid, None)

    # -- who may do what ---------------------------------------------------------------------

    @property
    def auth_enabled(self) -> bool:
        return self.config.auth_enabled

    def is_viewer(self, session: Session) -> bool:
        return session.token is not None and _matches(session.token, self.config.viewer_token)

    def may_call(self, session: Session, operation: str) -> bool:
        """Whether the session's token passes the API's role check for ``operation``."""
        if not self.auth_enabled:
            return True
        if session.token is None or self.is_viewer(session):
            return False
        header = f"Bearer {session.token}"
        return authorize(self.config, header, OPERATIONS[operation].roles) is None

    def may_read(self, session: Session) -> bool:
        if not self.auth_enabled:
            return True
        return session.signed_in and (
            self.is_viewer(session) or self.may_call(session, READ_OPERATION)
        )

    def role_label(self, session: Session) -> str:
        """A short description of the signed-in principal, for the page header."""
        if not self.auth_enabled:
            return "no auth (full access)"
        if self.is_viewer(session):
            return "viewer (read-only)"
        for role in ("admin", "operator"):
            header = f"Bearer {session.token}"
            if authorize(self.config, header, (role,)) is None:
                return role
        return "signed in"

    def sign_in(self, session: Session, token: str) -> Session | None:
        """A fresh session for ``token`` (the old id is dropped), or None when it may not read."""
        probe = Session(sid="", csrf="", token=token, signed_in=True)
        if not self.may_read(probe):
            return None
        self.drop(session)
        fresh = self.new()
        fresh.token, fresh.signed_in = token, True
        return fresh

    @staticmethod
    def csrf_ok(session: Session, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(
            presented.encode(), session.csrf.encode()
        )
