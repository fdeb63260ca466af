"""The one HTTP path between the SDK and a server: headers, auth, retries, errors.

Every request of a ``Client`` (hand-written methods and the generated
``Operations`` stubs alike) goes through :class:`HttpTransport`, so headers,
token choice, retry rules and the status -> exception mapping exist once.
Callers never see a raw ``httpx`` exception: network failures become
``TransportError`` / ``TransportTimeout`` naming the URL. A body over the
server's size limit is refused here, before any I/O, with
``PayloadTooLargeError`` naming the payload at fault (``_payload_limits``).

The transport also owns the client's view of its server (``_negotiation``): before
the first operation it reads ``/api/cluster/info`` once, and from then on sends the
negotiated worker protocol version and refuses, before sending, an operation the
server's generation does not publish (``UnsupportedServerCapability``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel

from durable_workflow import errors
from durable_workflow._generated import manifest as _manifest
from durable_workflow._loopback import is_loopback_url
from durable_workflow._payload_limits import check_request_body, encode_body
from durable_workflow._transport._errors import error_for_status
from durable_workflow._transport._external_payloads import (
    PayloadExchange,
    RuntimePayloadTransport,
    contains_reference,
    externalize,
    resolve,
)
from durable_workflow._transport._negotiation import (
    ServerProfile,
    assumed_profile,
    feature_for_route,
    forced_generation,
    profile_from_cluster_info,
    v2_operation_for,
)
from durable_workflow._transport._slots import Slots
from durable_workflow._version import SDK_VERSION
from durable_workflow.metrics import record_request
from durable_workflow.retry_policy import TransportRetryPolicy

if TYPE_CHECKING:
    from durable_workflow._generated.operations import OperationSpec

__all__ = [
    "CONTROL_PLANE_VERSION_HEADER",
    "WORKER_PROTOCOL_VERSION_HEADER",
    "HttpTransport",
    "Plane",
]

Plane = Literal["control", "worker", "public"]

logger = logging.getLogger("durable_workflow.transport")

_CLUSTER_INFO_PATH = "/api/cluster/info"

# Requests one client has in flight at once (httpx's default pool size). More requests
# wait in ``Slots`` (O(1) each) rather than in httpcore's pool queue, which rescans every
# queued request against every connection whenever one finishes: with 200 results
# awaited at once that scan was 64% of the client's CPU.
MAX_CONNECTIONS = 100
# Idle connections kept open: httpx's 20 for a remote server (a new TLS connection costs
# more than keeping one), a few for one on this machine. httpcore checks every idle
# connection for a server-side close (a system call each) whenever it places a request;
# with 20 kept, that check was a quarter of a busy worker's CPU, while opening a
# loopback connection costs about one request. Measured (benchmarks/bench_end_to_end.py,
# 200 at once, one worker): 20 kept 15.3 ms CPU per workflow in all, 4 kept 11.6.
REMOTE_KEEPALIVE = 20
LOOPBACK_KEEPALIVE = 4


def pool_limits(base_url: str) -> httpx.Limits:
    """The connection pool's limits for a server at ``base_url``."""
    keep = LOOPBACK_KEEPALIVE if is_loopback_url(base_url) else REMOTE_KEEPALIVE
    return httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=keep)


# limits.max_payload_bytes of the server (worker-protocol.md §1, control-plane.md §1).
DEFAULT_REQUEST_LIMIT_BYTES = _manifest.MAX_PAYLOAD_BYTES

CONTROL_PLANE_VERSION_HEADER: str = _manifest.CONTROL_PLANE_HEADER
WORKER_PROTOCOL_VERSION_HEADER: str = _manifest.WORKER_PROTOCOL_HEADER


def _safe_to_resend(op_name: str, payload: Any) -> bool:
    """Request-dependent idempotency: a start that names its id with ``use-existing``.

    The server answers a repeated ``use-existing`` start of an active run with that
    run (control-plane.md §7.2), so resending it cannot start a second execution.
    """
    if op_name == "workflow.start" and isinstance(payload, dict):
        return payload.get("duplicate_policy") == "use-existing" and bool(
            payload.get("workflow_id")
        )
    return False


def _json_ready(body: Any) -> Any:
    """Pydantic models become plain JSON data (fields never set are dropped); the rest as is."""
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return body


class _WaitAsked(Exception):
    """A 429 whose body says how long to wait: the poller honours it, the retry policy not."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code}")
        self.response = response


async def _asks_to_wait(response: httpx.Response) -> bool:
    """A 2.x long-poll capacity refusal (``long_poll_capacity_exhausted``, 429)."""
    await response.aread()
    body = _parse_body(response)
    return isinstance(body, dict) and body.get("reason") == "long_poll_capacity_exhausted"


async def _no_fetch(reference: Mapping[str, Any]) -> str:
    raise AssertionError("resolve() refuses references before fetching without a transport")


def _query_text(value: Any) -> str:
    """A query value as httpx's ``params=`` writes it (booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def with_query(path: str, query: Mapping[str, Any]) -> str:
    """``path`` with ``query`` appended (sequences repeat the key), as upstream sends it."""
    pairs = [
        (key, _query_text(item))
        for key, value in query.items()
        for item in (value if isinstance(value, (list, tuple)) else [value])
    ]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def replaced_request(http: httpx.AsyncClient) -> bool:
    """Whether ``http.request`` was replaced on the instance (``patch.object(client._http, ...)``).

    Then the caller's double answers every request, as in upstream 0.4.53's own test
    style; it is not a server to discover, so discovery sends nothing.
    """
    return "request" in vars(http)


def _parse_body(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


class HttpTransport:
    """An ``httpx.AsyncClient`` plus the protocol's request rules, one per ``Client``.

    ``http_transport`` replaces the network layer (``httpx.MockTransport`` in
    unit tests); everything above it (headers, retries, error mapping) runs as
    in production.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        control_token: str | None = None,
        worker_token: str | None = None,
        namespace: str = "default",
        timeout: float = 60.0,
        retry_policy: TransportRetryPolicy | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
        metrics: Any = None,
        payload_size_limit_bytes: int | None = DEFAULT_REQUEST_LIMIT_BYTES,
        server_generation: int | str | None = None,
        on_profile: Callable[[ServerProfile], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # ``None``: read the generation from the server; 1 or 2: the caller's choice.
        self.forced_generation = forced_generation(server_generation)
        self.on_profile = on_profile
        self._profile: ServerProfile | None = None
        self._runtime_payloads: tuple[ServerProfile, RuntimePayloadTransport | None] | None = None
        self._profile_lock: asyncio.Lock | None = None
        # The server's request body limit (``None``: no pre-flight check).
        self.payload_size_limit_bytes = payload_size_limit_bytes
        # A MetricsRecorder (durable_workflow.metrics); None records nothing.
        self.metrics = metrics
        self.token = token
        self.control_token = control_token
        self.worker_token = worker_token
        self.namespace = namespace
        self.timeout = timeout
        self.retry_policy = retry_policy if retry_policy is not None else TransportRetryPolicy()
        self._in_flight = Slots(MAX_CONNECTIONS)
        defaults = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": SDK_VERSION,
        }
        if is_loopback_url(self.base_url):
            # Compressing for a server on this machine only costs CPU on both ends (every
            # worker-plane answer is over the server's 1 KiB threshold).
            defaults["Accept-Encoding"] = "identity"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=http_transport,
            headers=defaults,
            limits=pool_limits(self.base_url),
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` every request goes through (``Client._http``)."""
        return self._http

    @http.setter
    def http(self, client: httpx.AsyncClient) -> None:
        self._http = client

    # -- headers -------------------------------------------------------------

    def bearer_token(self, plane: Plane) -> str | None:
        """The token a plane uses: its own first, then the shared one, then the other plane's."""
        if plane == "worker":
            return self.worker_token or self.token or self.control_token
        return self.control_token or self.token or self.worker_token

    def headers_for(self, plane: Plane) -> dict[str, str]:
        """Per-request headers: auth, namespace and exactly one version header per plane."""
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Namespace": self.namespace,
        }
        token = self.bearer_token(plane)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if plane == "control":
            headers[CONTROL_PLANE_VERSION_HEADER] = str(_manifest.CONTROL_PLANE_VERSION)
        elif plane == "worker":
            headers[WORKER_PROTOCOL_VERSION_HEADER] = self.worker_protocol_version
        return headers

    # -- negotiation ---------------------------------------------------------

    @property
    def profile(self) -> ServerProfile | None:
        """The negotiated server profile, once :meth:`server_profile` has run."""
        return self._profile

    @property
    def worker_protocol_version(self) -> str:
        """The worker protocol version sent: negotiated, else the 0.x line's."""
        if self._profile is not None:
            return self._profile.worker_protocol_version
        return str(_manifest.WORKER_PROTOCOL_VERSION)

    async def server_profile(self) -> ServerProfile:
        """Read ``/api/cluster/info`` once and keep what it says (concurrent callers wait).

        A forced generation (``server_generation=`` or the environment) skips the
        request; the worker still reads the document at start-up and adopts what
        it says under that generation. A server that cannot be reached raises
        (nothing is cached, the next call tries again). A server that answers
        discovery with an error status is taken to be of the 0.x line, as
        upstream 0.4.53 assumed; that answer is cached.
        """
        if self._profile is not None:
            return self._profile
        if self._profile_lock is None:
            self._profile_lock = asyncio.Lock()
        async with self._profile_lock:
            if self._profile is None:
                self.adopt_profile(await self._discover())
        assert self._profile is not None
        return self._profile

    def adopt_profile(self, profile: ServerProfile) -> None:
        """Use ``profile`` from now on (and tell the owner, who adjusts its payload framing)."""
        self._profile = profile
        if self.on_profile is not None:
            self.on_profile(profile)

    def adopt_cluster_info(self, info: Mapping[str, Any]) -> ServerProfile:
        """Negotiate from a discovery document read elsewhere (the worker's start-up check).

        A forced generation still wins; the capabilities come from ``info``.
        """
        profile = profile_from_cluster_info(info, self.forced_generation)
        if profile.source == "forced":
            logger.warning("server generation: %s", profile.evidence)
        self.adopt_profile(profile)
        return profile

    async def _discover(self) -> ServerProfile:
        if self.forced_generation is not None:
            return assumed_profile(self.forced_generation, "forced by the caller")
        if replaced_request(self._http):
            return assumed_profile(None, "the HTTP client's request() is replaced by the caller")
        try:
            info = await self.request("GET", _CLUSTER_INFO_PATH, plane="public")
        except errors.TransportError:
            raise
        except errors.DurableWorkflowError as exc:
            # A 401 is reported by the call itself; saying it twice only confuses.
            quiet = getattr(exc, "status", None) == 404 or isinstance(exc, errors.Unauthorized)
            log = logger.debug if quiet else logger.warning
            log("server discovery failed (%s); assuming generation 1", exc)
            return assumed_profile(None, f"discovery failed: {exc}")
        if not isinstance(info, dict):
            return assumed_profile(None, "discovery answered no JSON object")
        return profile_from_cluster_info(info)

    async def gate(self, method: str, path: str, operation: str) -> None:
        """Negotiate, then refuse an operation the server does not offer, before sending it.

        Refused: an operation whose feature the server does not advertise
        (``feature_for_route``: signals, queries, updates, schedules, history
        export) and, on a 2.x server, a route its catalogue does not publish
        (``_generated/v2/operations.py``, matched by method and route).
        ``operation`` names it in the error.
        """
        profile = await self.server_profile()
        feature = feature_for_route(path)
        if feature is not None:
            profile.require(feature)
        if profile.generation == 2 and v2_operation_for(method, path) is None:
            raise errors.UnsupportedServerCapability(
                f"operation:{operation}",
                generation=2,
                advertised_version=profile.advertised_worker_protocol,
                detail=f"{method} {path} is not in the 2.x contracts (contracts/server-2.x)",
            )

    # -- requests ------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        plane: Plane,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        idempotent: bool | None = None,
        context: str = "",
        operation: str | None = None,
        path_params: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request (with retries) and return the parsed body, or raise a typed error.

        ``path`` is relative to the base URL and includes the ``/api`` prefix.
        ``idempotent`` defaults to "GET only"; ``context`` is the id or name the
        error mapping names in its exceptions. A body over the size limit raises
        ``PayloadTooLargeError`` (naming ``operation`` and the ids in the body and
        ``path_params``) without sending anything.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method == "GET"
        headers = self.headers_for(plane)
        query = {k: v for k, v in (params or {}).items() if v is not None}
        payload = _json_ready(json)
        runtime = self.runtime_payloads() if payload is not None else None
        if runtime is not None:
            payload = await externalize(payload, runtime, self._exchange(plane, runtime).upload)
        content = None if payload is None else encode_body(payload)
        if content is not None:
            check_request_body(
                content,
                payload,
                limit_bytes=self.payload_size_limit_bytes,
                operation=operation or f"{method} {path}",
                path_params=path_params,
            )
        request_timeout = self.timeout if timeout is None else timeout
        target = with_query(path, query)
        url = f"{self.base_url}{target}"

        async def send() -> httpx.Response:
            started = time.perf_counter()
            if not await self._in_flight.take(request_timeout):
                # httpx's own words for the same wait (its pool timeout).
                raise httpx.PoolTimeout(f"no connection came free within {request_timeout:g}s")
            try:
                # Upstream 0.4.53's call shape (method, path with its query, json=, headers=,
                # timeout=), so a double placed on ``_http.request`` sees what upstream's saw.
                # httpx writes ``json=`` as exactly the bytes checked above (encode_body).
                response = await self._http.request(
                    method,
                    target,
                    headers=headers,
                    json=payload,
                    timeout=request_timeout,
                )
            except Exception as exc:
                self._record(method, path, plane, None, type(exc).__name__, started)
                raise
            finally:
                self._in_flight.give()
            outcome = "ok" if response.status_code < 400 else "http_error"
            if operation == "bridge.webhook" and response.status_code == 422:
                outcome = "bridge_rejected"  # the client returns it as an outcome, not an error
            self._record(method, path, plane, response.status_code, outcome, started)
            if response.status_code == 429 and await _asks_to_wait(response):
                raise _WaitAsked(response)
            if response.status_code >= 400:
                raise httpx.HTTPStatusError(
                    f"{method} {url} returned {response.status_code}",
                    request=response.request,
                    response=response,
                )
            return response

        try:
            response = await self.retry_policy.execute(send, idempotent=idempotent)
        except _WaitAsked as asked:
            raise error_for_status(
                asked.response.status_code, _parse_body(asked.response), context
            ) from None
        except httpx.HTTPStatusError as exc:
            await exc.response.aread()
            raise error_for_status(
                exc.response.status_code, _parse_body(exc.response), context
            ) from None
        except httpx.TimeoutException as exc:
            raise errors.TransportTimeout(
                f"{method} {url} timed out after {request_timeout:g}s", cause=exc
            ) from exc
        except httpx.HTTPError as exc:
            raise errors.TransportError(
                f"{method} {url} failed: {type(exc).__name__}: {exc}", cause=exc
            ) from exc
        answer = _parse_body(response)
        if self.runtime_payloads_possible() and contains_reference(answer):
            runtime = self.runtime_payloads()
            fetch = self._exchange(plane, runtime).fetch if runtime is not None else _no_fetch
            answer = await resolve(answer, runtime, fetch)
        return answer

    # -- the 2.x runtime payload transport (_external_payloads) -------------

    def runtime_payloads_possible(self) -> bool:
        """Only a 2.x server has the runtime payload transport."""
        return self._profile is not None and self._profile.generation == 2

    def _exchange(self, plane: Plane, runtime: RuntimePayloadTransport) -> PayloadExchange:
        return PayloadExchange(
            self._http, self.retry_policy, self.headers_for(plane), runtime.request_timeout_seconds
        )

    def runtime_payloads(self) -> RuntimePayloadTransport | None:
        """The namespace's server-mediated payload transport, if a 2.x server advertises one."""
        profile = self._profile
        if profile is None or profile.generation != 2:
            return None
        if self._runtime_payloads is None or self._runtime_payloads[0] is not profile:
            self._runtime_payloads = (
                profile,
                RuntimePayloadTransport.from_cluster_info(profile.info),
            )
        return self._runtime_payloads[1]

    def _record(
        self, method: str, path: str, plane: Plane, status: int | None, outcome: str, started: float
    ) -> None:
        """One client-request metric per HTTP call (each retry attempt counts)."""
        if self.metrics is not None:
            record_request(
                self.metrics,
                method=method,
                path=path,
                # upstream's two labels: unversioned routes belong to the control plane
                plane="worker" if plane == "worker" else "control",
                status_code=status,
                outcome=outcome,
                duration=time.perf_counter() - started,
            )

    async def call(
        self,
        op: OperationSpec,
        *,
        path_params: Mapping[str, str],
        query: Mapping[str, Any] | None,
        body: Any,
        timeout: float | None = None,
        context: str | None = None,
    ) -> Any:
        """``OperationTransport`` for the generated stubs: route by the operation's spec.

        ``context`` overrides the id the error mapping names (default: the first
        path parameter on control-plane routes, nothing on worker routes).
        """
        path = op.render_path(path_params)
        if op.versioned:  # unversioned: discovery and health, alike on both generations
            await self.gate(op.method, op.path, op.name)
        payload = _json_ready(body)
        idempotent = op.idempotent or _safe_to_resend(op.name, payload)
        if op.name == "workflow-task.poll" and isinstance(payload, dict):
            # Polls carrying an idempotency key are replayed by the server, not re-run.
            idempotent = bool(payload.get("poll_request_id"))
        plane: Plane = "public"
        if op.plane == "worker":
            plane = "worker"
        elif op.plane == "control" and op.versioned:
            plane = "control"
        # Worker-plane errors are keyed on reason codes only; a control-plane error
        # names the id it was about (and upstream's "workflow" 404 quirk needs it).
        if context is None:
            first = next((str(path_params[n]) for n in op.path_params), "")
            context = "" if plane == "worker" else first
        return await self.request(
            op.method,
            path,
            plane=plane,
            json=payload,
            params=query,
            timeout=timeout,
            idempotent=idempotent,
            context=context,
            operation=op.name,
            path_params=path_params,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
