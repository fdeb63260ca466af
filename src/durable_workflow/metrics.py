"""Metric recorders and the metric names the SDK emits (sdk-surface.md §10).

The client records one counter + one duration per HTTP call; the worker
records polls and tasks. Everything goes through a :class:`MetricsRecorder`
(two methods), so users can plug any backend. ``NoopMetrics`` is the default;
``InMemoryMetrics`` is for tests; ``PrometheusMetrics`` needs the
``prometheus`` extra and serves its registry with one call (``serve()`` on a
port, ``asgi_app()`` to mount in a web app). docs/metrics.md lists every name.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, runtime_checkable

__all__ = [
    "CLIENT_REQUESTS",
    "CLIENT_REQUEST_DURATION_SECONDS",
    "NOOP_METRICS",
    "PAYLOAD_SIZE_BYTES",
    "WORKER_POLLS",
    "WORKER_POLL_DURATION_SECONDS",
    "WORKER_STICKY_CACHE_EVICTIONS",
    "WORKER_STICKY_CACHE_HITS",
    "WORKER_STICKY_CACHE_MISSES",
    "WORKER_TASKS",
    "WORKER_TASK_DURATION_SECONDS",
    "WORKER_TASK_FAILURES",
    "WORKER_TASK_SCHEDULE_TO_START_SECONDS",
    "InMemoryMetrics",
    "MetricKey",
    "MetricTags",
    "MetricsRecorder",
    "NoopMetrics",
    "PrometheusMetrics",
    "PrometheusServer",
    "record_payload_size",
    "record_request",
    "request_route",
]

CLIENT_REQUESTS = "durable_workflow_client_requests"
CLIENT_REQUEST_DURATION_SECONDS = "durable_workflow_client_request_duration_seconds"
WORKER_POLLS = "durable_workflow_worker_polls"
WORKER_POLL_DURATION_SECONDS = "durable_workflow_worker_poll_duration_seconds"
WORKER_TASKS = "durable_workflow_worker_tasks"
WORKER_TASK_DURATION_SECONDS = "durable_workflow_worker_task_duration_seconds"
# Beyond upstream's six (docs/metrics.md).
WORKER_TASK_SCHEDULE_TO_START_SECONDS = "durable_workflow_worker_task_schedule_to_start_seconds"
WORKER_TASK_FAILURES = "durable_workflow_worker_task_failures"
WORKER_STICKY_CACHE_HITS = "durable_workflow_worker_sticky_cache_hits"
WORKER_STICKY_CACHE_MISSES = "durable_workflow_worker_sticky_cache_misses"
WORKER_STICKY_CACHE_EVICTIONS = "durable_workflow_worker_sticky_cache_evictions"
PAYLOAD_SIZE_BYTES = "durable_workflow_payload_size_bytes"

# Histogram buckets of byte-sized metrics (names ending ``_bytes``): 256 B to 16 MiB.
BYTE_BUCKETS = tuple(float(256 * 4**i) for i in range(9))

Tags = Mapping[str, str]
TagKey = tuple[tuple[str, str], ...]
# Upstream's names for the tag mapping and for a recorded series' key.
MetricTags: TypeAlias = Tags
MetricKey: TypeAlias = tuple[str, TagKey]


@runtime_checkable
class MetricsRecorder(Protocol):
    """What the SDK needs from a metrics backend: counters and observations."""

    def increment(self, name: str, value: float = 1.0, tags: Tags | None = None) -> None: ...

    def record(self, name: str, value: float, tags: Tags | None = None) -> None: ...


class NoopMetrics:
    """Discards everything: the default, so instrumented code never checks for None."""

    def increment(self, name: str, value: float = 1.0, tags: Tags | None = None) -> None:
        return None

    def record(self, name: str, value: float, tags: Tags | None = None) -> None:
        return None


NOOP_METRICS = NoopMetrics()


def _key(tags: Tags | None) -> TagKey:
    return tuple(sorted((str(k), str(v)) for k, v in (tags or {}).items()))


@dataclass
class InMemoryMetrics:
    """Keeps every counter and observation in dicts; meant for tests and debugging.

    Keys are ``(name, sorted tag tuples)``; tests read ``counters`` and
    ``histograms`` directly or seed them through the constructor. Thread-safe,
    because sync activities and the query poller may record from other threads.
    """

    counters: dict[MetricKey, float] = field(default_factory=dict)
    histograms: dict[MetricKey, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def increment(self, name: str, value: float = 1.0, tags: Tags | None = None) -> None:
        key = (name, _key(tags))
        with self._lock:
            self.counters[key] = self.counters.get(key, 0.0) + value

    def record(self, name: str, value: float, tags: Tags | None = None) -> None:
        key = (name, _key(tags))
        with self._lock:
            self.histograms.setdefault(key, []).append(value)

    def counter_value(self, name: str, tags: Tags | None = None) -> float:
        """Sum of ``name`` over every series whose tags include ``tags``."""
        wanted = set(_key(tags))
        with self._lock:
            return sum(
                value
                for (n, key), value in self.counters.items()
                if n == name and wanted <= set(key)
            )

    def observations(self, name: str, tags: Tags | None = None) -> list[float]:
        """Every observation of ``name`` in series whose tags include ``tags``."""
        wanted = set(_key(tags))
        with self._lock:
            return [
                value
                for (n, key), values in self.histograms.items()
                if n == name and wanted <= set(key)
                for value in values
            ]


class PrometheusMetrics:
    """Exports through ``prometheus_client``; metrics are created on first use.

    A name keeps the label names it was first used with; using it again with
    other labels raises ``ValueError`` (Prometheus cannot change a series' labels).
    """

    def __init__(self, *, registry: Any = None) -> None:
        try:
            import prometheus_client
        except ImportError as exc:
            raise RuntimeError(
                "PrometheusMetrics needs prometheus-client: "
                "pip install 'durable-workflow[prometheus]'"
            ) from exc
        self._prometheus = prometheus_client
        self.registry = registry if registry is not None else prometheus_client.REGISTRY
        self._metrics: dict[str, tuple[str, tuple[str, ...], Any]] = {}
        self._lock = threading.Lock()

    def _metric(self, kind: str, name: str, labels: tuple[str, ...]) -> Any:
        with self._lock:
            known = self._metrics.get(name)
            if known is not None:
                known_kind, known_labels, metric = known
                if known_kind != kind or known_labels != labels:
                    raise ValueError(
                        f"metric {name!r} was created as a {known_kind} with labels "
                        f"{list(known_labels)}; cannot use it as a {kind} with {list(labels)}"
                    )
                return metric
            documentation = name.replace("_", " ")
            if kind == "counter":
                metric = self._prometheus.Counter(
                    name, documentation, labels, registry=self.registry
                )
            else:
                buckets = (
                    BYTE_BUCKETS
                    if name.endswith("_bytes")
                    else self._prometheus.Histogram.DEFAULT_BUCKETS
                )
                metric = self._prometheus.Histogram(
                    name, documentation, labels, registry=self.registry, buckets=buckets
                )
            self._metrics[name] = (kind, labels, metric)
            return metric

    def increment(self, name: str, value: float = 1.0, tags: Tags | None = None) -> None:
        key = _key(tags)
        metric = self._metric("counter", name, tuple(k for k, _ in key))
        (metric.labels(**dict(key)) if key else metric).inc(value)

    def record(self, name: str, value: float, tags: Tags | None = None) -> None:
        key = _key(tags)
        metric = self._metric("histogram", name, tuple(k for k, _ in key))
        (metric.labels(**dict(key)) if key else metric).observe(value)

    def serve(self, port: int = 9464, *, addr: str = "127.0.0.1") -> PrometheusServer:
        """Serve the registry at ``http://addr:port/metrics`` from a background thread.

        ``port=0`` picks a free port (read it from the returned server's ``port``);
        ``close()`` stops it. ``addr="0.0.0.0"`` exposes it beyond this host.
        """
        server, thread = self._prometheus.start_http_server(port, addr=addr, registry=self.registry)
        return PrometheusServer(server, thread)

    def asgi_app(self) -> Any:
        """An ASGI app answering with the registry in the text format (mount it at /metrics)."""
        return self._prometheus.make_asgi_app(registry=self.registry)


class PrometheusServer:
    """What :meth:`PrometheusMetrics.serve` started: its ``port``, ``url`` and ``close()``."""

    def __init__(self, server: Any, thread: Any) -> None:
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.port: int = int(port)
        self.url = f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> PrometheusServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


# Concrete path segments -> the templates of sdk-surface.md §10, so a route tag
# has a bounded number of values (one series per endpoint, not per workflow).
_ROUTE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^/workflows/[^/]+/runs/[^/]+(/.*)?$"),
        "/workflows/{workflow_id}/runs/{run_id}",
    ),
    (re.compile(r"^/workflows/[^/]+/signal/[^/]+$"), "/workflows/{workflow_id}/signal/{name}"),
    (re.compile(r"^/workflows/[^/]+/update/[^/]+$"), "/workflows/{workflow_id}/update/{name}"),
    (re.compile(r"^/workflows/[^/]+/query/[^/]+$"), "/workflows/{workflow_id}/query/{name}"),
    (re.compile(r"^/workflows/[^/]+(/[^/]+)?$"), "/workflows/{workflow_id}"),
    (re.compile(r"^/schedules/[^/]+(/[^/]+)?$"), "/schedules/{schedule_id}"),
    (re.compile(r"^/namespaces/[^/]+(/.*)?$"), "/namespaces/{name}"),
    (re.compile(r"^/search-attributes/[^/]+$"), "/search-attributes/{name}"),
    (re.compile(r"^/workers/[^/]+$"), "/workers/{worker_id}"),
    (re.compile(r"^/bridge-adapters/webhook/[^/]+$"), "/bridge-adapters/webhook/{adapter}"),
    (
        re.compile(r"^/worker/(workflow|activity|query)-tasks/(?!poll$)[^/]+(/[^/]+)?$"),
        "/worker/{kind}-tasks/{task_id}",
    ),
)


def request_route(path: str) -> str:
    """The templated route of a concrete request path (``/api`` prefix and query dropped)."""
    route = path.split("?", 1)[0]
    if route.startswith("/api/"):
        route = route[4:]
    for pattern, template in _ROUTE_PATTERNS:
        match = pattern.match(route)
        if match is None:
            continue
        suffix = match.group(match.lastindex) if match.lastindex else None
        if template.startswith("/worker/"):
            kind = match.group(1)
            tail = match.group(2) or ""
            return f"/worker/{kind}-tasks/{{task_id}}{tail}"
        if template.endswith("{run_id}") or template in {
            "/workflows/{workflow_id}",
            "/schedules/{schedule_id}",
            "/namespaces/{name}",
        }:
            return template + (suffix or "")
        return template
    return route


def record_request(
    recorder: MetricsRecorder | None,
    *,
    method: str,
    path: str,
    plane: str,
    status_code: int | None,
    outcome: str,
    duration: float,
) -> None:
    """Record one HTTP call of the client (``CLIENT_REQUESTS`` + its duration)."""
    if recorder is None:
        return
    tags = {
        "method": method.upper(),
        "route": request_route(path),
        "plane": plane,
        "status_code": "none" if status_code is None else str(status_code),
        "outcome": outcome,
    }
    recorder.increment(CLIENT_REQUESTS, 1.0, tags)
    recorder.record(CLIENT_REQUEST_DURATION_SECONDS, duration, tags)


def record_payload_size(
    recorder: MetricsRecorder | None, payload: Any, *, direction: str, kind: str
) -> None:
    """Record the encoded size of one payload envelope (or bare blob) as sent or received.

    The size is the inline blob's length (an offloaded payload counts its small
    reference). Best effort: a recorder that raises never breaks the call.
    """
    if recorder is None:
        return
    blob = payload.get("blob") if isinstance(payload, Mapping) else payload
    if not isinstance(blob, (str, bytes)):
        return
    try:
        recorder.record(
            PAYLOAD_SIZE_BYTES, float(len(blob)), {"direction": direction, "kind": kind}
        )
    except Exception:
        return
