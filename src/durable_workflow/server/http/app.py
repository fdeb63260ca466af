"""The dev server's ASGI app: routes every operation of ``OPERATIONS``.

Each request goes through the protocol's check order (worker-protocol.md §5,
control-plane.md §1.5): body checks (413/415/400), authentication (401),
role (403), version header (400), namespace (404), request-model validation
(422), then the engine. Operations without a handler answer 501
``not_implemented`` and are not advertised. No request ends in a bare 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive as ASGIReceive
from starlette.types import Scope, Send

from durable_workflow._generated import manifest
from durable_workflow._generated.operations import OPERATIONS, OperationSpec
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.engine.errors import EngineError, Outcome, ValidationFailed
from durable_workflow.server.http import control_plane_block
from durable_workflow.server.http.auth import authorize
from durable_workflow.server.http.body_limits import read_json_body
from durable_workflow.server.http.compression import (
    RESPONSE_THRESHOLD_BYTES,
    choose_response_encoding,
    compress,
)
from durable_workflow.server.http.control_routes import CONTROL_HANDLERS
from durable_workflow.server.http.field_errors import field_errors
from durable_workflow.server.http.management_routes import MANAGEMENT_HANDLERS
from durable_workflow.server.http.openapi_doc import PATH as OPENAPI_PATH
from durable_workflow.server.http.openapi_doc import openapi_route
from durable_workflow.server.http.poll_admission import admit_polls
from durable_workflow.server.http.profile import profile_for
from durable_workflow.server.http.query_routes import QUERY_HANDLERS
from durable_workflow.server.http.schedule_routes import SCHEDULE_HANDLERS
from durable_workflow.server.http.storage_faults import storage_refusal
from durable_workflow.server.http.system_routes import SYSTEM_HANDLERS
from durable_workflow.server.http.update_routes import UPDATE_HANDLERS
from durable_workflow.server.http.worker_routes import WORKER_HANDLERS
from durable_workflow.server.matching.capacity import PollCapacity
from durable_workflow.server.matching.long_poll import Receive
from durable_workflow.server.matching.poll_cache import PollCache
from durable_workflow.server.matching.queries import QueryBroker
from durable_workflow.server.matching.scheduler import Scheduler
from durable_workflow.server.matching.update_validations import ValidationBroker
from durable_workflow.server.matching.wakeups import Notifier
from durable_workflow.server.store.database import Store
from durable_workflow.server.ui.app import ui_routes

log = logging.getLogger(__name__)

_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]


@dataclass
class Call:
    """Everything a handler needs about one validated request."""

    op: OperationSpec
    path_params: dict[str, str]
    query: dict[str, str]
    body: Any
    namespace: str
    server: DevServer
    # The request's ASGI receive channel (body already read): task polls watch it for
    # the client disconnecting.
    receive: Receive | None = None
    # The worker protocol version the request sent (worker plane only).
    protocol_version: str | None = None


Handler = Callable[[Call], Awaitable[Outcome]]


def _compile(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(f"^{pattern}$")


class DevServer:
    """Holds the store, engine, matching and routes; :attr:`app` is the ASGI app."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store = Store(config.db_path, durability=config.durability)
        self.engine = Engine(self.store, config)
        self.notifier = Notifier()
        self.engine.add_listener(self.notifier.notify)
        self.scheduler = Scheduler(self.engine, self.notifier)
        self.poll_cache = PollCache()
        self.query_broker = QueryBroker(config.query_lease_seconds)
        # 2.x pre-accept update validation (used by the generation-2 profile only).
        self.validations = ValidationBroker(config.query_lease_seconds)
        # Long polls held per wait pool (generation 2's long_poll_capacity).
        self.held_polls: dict[str, int] = {}
        # Workers seen polling, by (namespace, worker_id): liveness for query routing.
        self.recent_pollers: dict[tuple[str, str], float] = {}
        self.worker_stale_seconds = config.worker_stale_seconds
        self.profile = profile_for(config)
        self.capabilities = self.profile.capabilities
        self._capabilities_cache: dict[bool, bytes] = {}
        self.poll_capacity = PollCapacity(config.max_long_polls)
        self.handlers: dict[str, Handler] = admit_polls(
            {
                **CONTROL_HANDLERS,
                **WORKER_HANDLERS,
                **QUERY_HANDLERS,
                **UPDATE_HANDLERS,
                **MANAGEMENT_HANDLERS,
                **SYSTEM_HANDLERS,
                **SCHEDULE_HANDLERS,
                **self.profile.handlers,
            },
            self.poll_capacity,
        )
        # Routes by the number of "/" in their path: a parameter never spans a "/", so only
        # routes of a request path's depth can match it.
        self._routes: dict[int, list[tuple[OperationSpec, re.Pattern[str]]]] = {}
        for op in (*OPERATIONS.values(), *self.profile.extra_operations):
            self._routes.setdefault(op.path.count("/"), []).append((op, _compile(op.path)))
        self.starlette = Starlette(
            routes=[
                openapi_route(),
                *ui_routes(self),
                Route("/{path:path}", self._endpoint, methods=_METHODS),
            ],
            lifespan=self._lifespan,
            # Paths the catch-all route cannot match (e.g. an encoded newline) still get
            # the protocol's JSON 404 body, not Starlette's plain-text one.
            exception_handlers={404: self._unrouted},
        )
        self.app: Callable[[Scope, ASGIReceive, Send], Awaitable[None]] = self._asgi

    async def _asgi(self, scope: Scope, receive: ASGIReceive, send: Send) -> None:
        """API requests go straight to the pipeline, which routes, checks and answers every
        one itself (errors included); Starlette's router and middleware stack add nothing
        there but CPU. The document, the UI and the lifespan go through Starlette."""
        if scope["type"] == "http":
            path = scope["path"]
            # A newline is a path the catch-all route cannot match: Starlette answers it.
            if path.startswith("/api/") and path != OPENAPI_PATH and "\n" not in path:
                response = await self._endpoint(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.starlette(scope, receive, send)

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        self.notifier.bind(asyncio.get_running_loop())
        self.scheduler.start()
        try:
            yield
        finally:
            await self.scheduler.stop()
            self.store.close()

    async def _unrouted(self, request: Request, _exc: Exception) -> Response:
        body = {"message": "Not found.", "reason": "not_found"}
        return self._respond(404, body, plane=self._plane_of(request.scope["path"]))

    def implemented(self, name: str) -> bool:
        return name in self.handlers

    # -- response shaping ---------------------------------------------------------------------

    def _respond(
        self,
        status: int,
        body: dict[str, Any],
        *,
        plane: str,
        op: OperationSpec | None = None,
        path_params: dict[str, str] | None = None,
        accept_encoding: str | None = None,
    ) -> Response:
        headers: dict[str, str] = {}
        if status == 204:  # 2.x deletions: no content
            if plane == "control":
                headers[manifest.CONTROL_PLANE_HEADER] = manifest.CONTROL_PLANE_VERSION
            return Response(b"", status_code=204, headers=headers)
        payload = dict(body)
        retry_after = payload.get("retry_after_seconds")
        if self.profile.generation == 2 and status in (429, 503) and isinstance(retry_after, int):
            headers["Retry-After"] = str(retry_after)
        ascii_only = op is not None and op.ascii_only
        capabilities = b""
        if plane == "worker":
            version = self.profile.worker_protocol_version
            payload.setdefault("protocol_version", version)
            if "server_capabilities" not in payload:
                capabilities = self._capabilities_json(ascii_only)
            headers[manifest.WORKER_PROTOCOL_HEADER] = version
        elif plane == "control":
            unversioned_success = op is not None and not op.versioned and status < 400
            if not unversioned_success:
                headers[manifest.CONTROL_PLANE_HEADER] = manifest.CONTROL_PLANE_VERSION
            operation = None if op is None else control_plane_block.OPERATION_FOR.get(op.name)
            if operation is not None:
                payload = control_plane_block.attach(payload, operation, path_params or {})
        content = json.dumps(payload, separators=(",", ":"), ensure_ascii=ascii_only).encode()
        if capabilities:
            # The same block ends every worker response: serialized once, spliced in.
            joint = b'"server_capabilities":' if content == b"{}" else b',"server_capabilities":'
            content = content[:-1] + joint + capabilities + b"}"
        encoding = choose_response_encoding(accept_encoding) if self.config.compression else None
        if encoding is not None and len(content) >= RESPONSE_THRESHOLD_BYTES:
            content = compress(content, encoding)
            headers["Content-Encoding"] = encoding
            headers["Vary"] = "Accept-Encoding"
        if status in (429, 503) and isinstance(payload.get("retry_after_seconds"), int):
            headers["Retry-After"] = str(payload["retry_after_seconds"])
        return Response(content, status_code=status, headers=headers, media_type="application/json")

    def _capabilities_json(self, ascii_only: bool) -> bytes:
        """``server_capabilities`` as JSON, built once per server (it never changes)."""
        cached = self._capabilities_cache.get(ascii_only)
        if cached is None:
            text = json.dumps(self.capabilities, separators=(",", ":"), ensure_ascii=ascii_only)
            cached = self._capabilities_cache[ascii_only] = text.encode()
        return cached

    @staticmethod
    def _plane_of(path: str) -> str:
        if path.startswith("/api/worker/") or path == "/api/worker":
            return "worker"
        if path in ("/api/health", "/api/ready"):
            return "public"
        return "control"

    # -- pipeline -------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        plane = self._plane_of(request.scope["path"])
        try:
            return await self._pipeline(request, plane)
        except Exception as exc:  # the contract: never a bare 500 or traceback
            refusal = storage_refusal(exc)
            if refusal is not None:
                log.warning("storage refused %s %s: %s", request.method, request.scope["path"], exc)
                accept = request.headers.get("accept-encoding")
                return self._respond(503, refusal, plane=plane, accept_encoding=accept)
            log.exception("unhandled error on %s %s", request.method, request.scope["path"])
            body = {
                "reason": "server_error",
                "message": f"Internal server error: {type(exc).__name__}",
            }
            return self._respond(
                500, body, plane=plane, accept_encoding=request.headers.get("accept-encoding")
            )

    def _match(self, method: str, path: str) -> tuple[OperationSpec, dict[str, str]] | int:
        path_hits = []
        for op, pattern in self._routes.get(path.count("/"), ()):
            found = pattern.match(path)
            if found is None:
                continue
            if op.method == method:
                return op, found.groupdict()
            path_hits.append(op)
        return 405 if path_hits else 404

    def _authenticate(self, request: Request, op: OperationSpec) -> Outcome | None:
        return authorize(self.config, request.headers.get("authorization", ""), op.roles)

    def _version_error(self, op: OperationSpec, request: Request) -> Outcome | None:
        if op.plane == "worker":
            sent = (request.headers.get(manifest.WORKER_PROTOCOL_HEADER) or "").strip()
            accepted = self.profile.accepted_worker_versions
            if sent in accepted:
                return None
            reason = "unsupported_protocol_version" if sent else "missing_protocol_version"
            problem = f"[{sent}] is not supported" if sent else "header is missing"
            version = self.profile.worker_protocol_version
            return 400, {
                "error": f"Worker protocol version {problem}.",
                "reason": reason,
                "supported_version": version,
                "accepted_versions": list(accepted),
                "requested_version": sent or None,
                "remediation": f"Send {manifest.WORKER_PROTOCOL_HEADER}: {version}.",
            }
        if not op.versioned:
            return None
        sent = (request.headers.get(manifest.CONTROL_PLANE_HEADER) or "").strip()
        if sent == manifest.CONTROL_PLANE_VERSION:
            return None
        reason = "unsupported_control_plane_version" if sent else "missing_control_plane_version"
        problem = f"[{sent}] is not supported" if sent else "header is missing"
        return 400, {
            "message": f"Control plane version {problem}.",
            "reason": reason,
            "supported_version": manifest.CONTROL_PLANE_VERSION,
            "requested_version": sent or None,
            "remediation": f"Send {manifest.CONTROL_PLANE_HEADER}: "
            f"{manifest.CONTROL_PLANE_VERSION}.",
        }

    def _namespace(self, request: Request) -> str:
        raw = request.headers.get("x-namespace")
        if not raw and request.scope["query_string"]:
            raw = request.query_params.get("namespace")
        return (raw or self.config.default_namespace).strip().lower()

    async def _pipeline(self, request: Request, plane: str) -> Response:
        method, path = request.method.upper(), request.scope["path"]
        accept = request.headers.get("accept-encoding")
        parsed = await read_json_body(request, self.config.max_payload_bytes)
        if isinstance(parsed, tuple):
            return self._respond(parsed[0], parsed[1], plane=plane, accept_encoding=accept)
        body = parsed.value
        matched = self._match("GET" if method == "HEAD" else method, path)
        if isinstance(matched, int):
            reason = "not_found" if matched == 404 else "method_not_allowed"
            message = "Not found." if matched == 404 else f"Method {method} is not allowed here."
            return self._respond(
                matched, {"message": message, "reason": reason}, plane=plane, accept_encoding=accept
            )
        op, params = matched

        def reply(outcome: Outcome) -> Response:
            return self._respond(
                outcome[0],
                outcome[1],
                plane=op.plane,
                op=op,
                path_params=params,
                accept_encoding=accept,
            )

        if op.roles:
            for check in (self._authenticate(request, op), self._version_error(op, request)):
                if check is not None:
                    return reply(check)
        namespace = self._namespace(request)
        if op.namespaced and not self.engine.namespace_exists(namespace):
            return reply(
                (
                    404,
                    {
                        "message": f"Namespace [{namespace}] does not exist.",
                        "reason": "namespace_not_found",
                        "namespace": namespace,
                        "remediation": "Create the namespace or send an existing one"
                        " in X-Namespace.",
                    },
                )
            )
        handler = self.handlers.get(op.name)
        if handler is None:
            return reply(
                (
                    501,
                    {
                        "reason": "not_implemented",
                        "message": f"Operation {op.name} is not implemented by the dev server.",
                    },
                )
            )
        if parsed.invalid_text:
            return reply((422, ValidationFailed(parsed.invalid_text).body))
        problem = self.profile.request_error(method, path, body)
        if problem is not None:
            return reply(problem)
        if op.request_model is not None and not op.self_validating:
            try:
                op.request_model.model_validate(body if body is not None else {})
            except ValidationError as exc:
                errors = field_errors(exc, body)
                if errors:
                    return reply((422, ValidationFailed(errors).body))
        sent_version = request.headers.get(manifest.WORKER_PROTOCOL_HEADER)
        call = Call(
            op,
            params,
            dict(request.query_params) if request.scope["query_string"] else {},
            body,
            namespace,
            self,
            request.receive,
            sent_version.strip() if op.plane == "worker" and sent_version else None,
        )
        try:
            outcome = await handler(call)
        except EngineError as exc:
            outcome = (exc.status, exc.body)
        return reply(outcome)
