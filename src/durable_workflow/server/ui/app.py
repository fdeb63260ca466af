"""The web UI's ASGI app, mounted by the dev server under ``/ui`` on its own port.

Every request passes one gate (:meth:`WebUI.endpoint`): the session from its
cookie (a new anonymous one otherwise), sign-in when the server has tokens, the
CSRF token on every POST, and the namespace. Handlers receive a :class:`Ctx`
and return a response; pages render templates, forms act through the API.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from durable_workflow.server.engine import namespaces
from durable_workflow.server.ui import render
from durable_workflow.server.ui.session import COOKIE, Session, Sessions

if TYPE_CHECKING:
    from durable_workflow.server.http.app import DevServer

Handler = Callable[["Ctx"], Awaitable[Response]]
log = logging.getLogger(__name__)


@dataclass
class Ctx:
    """One UI request: the UI, the request, its session and namespace, the form if posted."""

    ui: WebUI
    request: Request
    session: Session
    namespace: str
    form: dict[str, str] = field(default_factory=dict)

    @property
    def server(self) -> DevServer:
        return self.ui.server

    def param(self, name: str) -> str:
        return (self.form.get(name) or self.request.query_params.get(name) or "").strip()

    def can(self, operation: str) -> bool:
        return self.ui.sessions.may_call(self.session, operation)

    def flash(self, kind: str, text: str, detail: str = "") -> None:
        self.session.flash.append({"kind": kind, "text": text, "detail": detail})

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        names = self.ui.namespace_names() if self.ui.sessions.may_read(self.session) else []
        messages, self.session.flash = self.session.flash, []
        return render.page(
            template,
            status,
            ctx=self,
            ns=self.namespace,
            namespaces=names,
            csrf=self.session.csrf,
            auth_enabled=self.ui.sessions.auth_enabled,
            signed_in=self.session.signed_in,
            role=self.ui.sessions.role_label(self.session),
            messages=messages,
            **context,
        )

    def redirect(self, target: str) -> Response:
        return RedirectResponse(target, status_code=303, headers=render.SECURITY_HEADERS)

    def error(self, status: int, title: str, text: str) -> Response:
        return self.render("error.html", status, title=title, text=text)


class WebUI:
    """The UI of one dev server: its sessions and routes (:attr:`app`)."""

    def __init__(self, server: DevServer) -> None:
        from durable_workflow.server.ui import forms, pages

        self.server = server
        self.sessions = Sessions(server.config)
        get = {
            "/": pages.home,
            "/login": pages.login,
            "/workflows": pages.workflows,
            "/workflow": pages.workflow,
            "/schedules": pages.schedules_page,
            "/schedule": pages.schedule,
            "/task-queues": pages.task_queues_page,
            "/task-queue": pages.task_queue,
            "/workers": pages.workers,
            "/namespaces": pages.namespace_list,
        }
        post = {
            "/login": forms.login,
            "/logout": forms.logout,
            "/workflow/{action}": forms.workflow_action,
            "/schedule/{action}": forms.schedule_action,
        }
        public = {pages.login, forms.login, forms.logout}
        routes: list[BaseRoute] = [
            Mount("/static", app=StaticFiles(directory=str(files(__package__) / "static"))),
        ]
        for path, handler in get.items():
            routes.append(Route(path, self.endpoint(handler, handler in public), methods=["GET"]))
        for path, handler in post.items():
            routes.append(Route(path, self.endpoint(handler, handler in public), methods=["POST"]))
        self.app = Starlette(routes=routes)

    def namespace_names(self) -> list[str]:
        listed = self.server.engine.read(namespaces.list_namespaces)["namespaces"]
        return [str(item["name"]) for item in listed]

    def _session(self, request: Request) -> tuple[Session, bool]:
        found = self.sessions.get(request.cookies.get(COOKIE))
        if found is not None:
            return found, False
        return self.sessions.new(), True

    async def _form(self, request: Request) -> dict[str, str] | None:
        raw = await request.body()
        if len(raw) > self.server.config.max_payload_bytes:
            return None
        parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}

    def endpoint(self, handler: Handler, public: bool) -> Callable[[Request], Awaitable[Response]]:
        async def gate(request: Request) -> Response:
            session, fresh = self._session(request)
            namespace = (
                request.query_params.get("ns") or self.server.config.default_namespace
            ).strip()
            ctx = Ctx(self, request, session, namespace)
            try:
                response = await self._checked(ctx, handler, public)
            except Exception as exc:  # as the API: never a bare 500 or a traceback
                log.exception("web UI error on %s %s", request.method, request.url.path)
                text = f"The page failed: {type(exc).__name__}. The server log has the details."
                response = ctx.error(500, "Server error", text)
            if fresh or request.cookies.get(COOKIE) != ctx.session.sid:
                response.set_cookie(
                    COOKIE,
                    ctx.session.sid,
                    httponly=True,
                    samesite="strict",
                    secure=request.url.scheme == "https",
                    path=render.PREFIX,
                )
            return response

        return gate

    async def _checked(self, ctx: Ctx, handler: Handler, public: bool) -> Response:
        request = ctx.request
        if request.method == "POST":
            form = await self._form(request)
            if form is None:
                return ctx.error(413, "Too large", "The form is larger than the server accepts.")
            ctx.form = form
            if not self.sessions.csrf_ok(ctx.session, form.get("csrf")):
                return ctx.error(
                    403, "Refused", "The form's CSRF token is missing or stale; reload the page."
                )
            ctx.namespace = (form.get("ns") or ctx.namespace).strip()
        if not public and not self.sessions.may_read(ctx.session):
            if request.method == "POST":
                return ctx.error(401, "Sign in", "Sign in with a token first.")
            return ctx.redirect(render.url("/login", next=str(request.url.path)))
        if not public and not self.server.engine.namespace_exists(ctx.namespace):
            return ctx.error(
                404, "No such namespace", f"Namespace [{ctx.namespace}] does not exist."
            )
        return await handler(ctx)


def ui_routes(server: DevServer) -> list[BaseRoute]:
    """The routes the dev server adds: ``/ui/...``, and ``/`` and ``/ui`` redirecting there."""

    async def to_ui(_request: Request) -> Response:
        return RedirectResponse(render.PREFIX + "/", status_code=307)

    return [
        Route("/", to_ui, methods=["GET", "HEAD"]),
        Route(render.PREFIX, to_ui, methods=["GET", "HEAD"]),
        Mount(render.PREFIX, app=WebUI(server).app),
    ]
