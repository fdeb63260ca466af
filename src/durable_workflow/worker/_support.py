"""Small pieces the worker loops share: backoff, error classification, process facts.

Kept out of ``worker.py`` so the loop logic there reads as the protocol steps.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import os
import random
import socket
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

from durable_workflow import errors

__all__ = [
    "COMPLETION_RETRY_DELAYS",
    "OWNERSHIP_REASONS",
    "QUERY_OWNERSHIP_REASONS",
    "Backoff",
    "definition_fingerprint",
    "is_fatal",
    "is_transient",
    "log_outcome_error",
    "process_metrics",
    "reason_of",
    "retry_transient",
    "should_fail_after_completion_error",
    "trace_of",
    "unsupported_codec",
]

# Rejections meaning "this task is no longer yours": nothing to report back.
OWNERSHIP_REASONS = frozenset(
    {
        "lease_expired",
        "lease_owner_mismatch",
        "run_already_closed",
        "run_closed",
        "task_not_found",
        "task_not_leased",
        "workflow_task_attempt_mismatch",
        "stale_attempt",
        "attempt_not_found",
        "task_mismatch",
        "run_cancelled",
        "run_terminated",
    }
)

# Rejections of a query task outcome meaning the query is gone or no longer ours.
QUERY_OWNERSHIP_REASONS = frozenset(
    {
        "query_task_not_found",
        "query_task_not_leased",
        "query_task_attempt_mismatch",
        "query_task_timed_out",
    }
)

# Extra attempts for a task outcome that failed transiently (worker-protocol.md §13).
COMPLETION_RETRY_DELAYS = (0.05, 0.2)

_logger = logging.getLogger("durable_workflow.worker")
T = TypeVar("T")

_PROCESS_STARTED = time.time()
_PROCESS_STARTED_MONOTONIC = time.monotonic()


class Backoff:
    """Exponential backoff with full jitter for a loop that keeps failing.

    Each consecutive failure doubles the ceiling (up to ``maximum``); a success
    resets it. The delay is never zero, so a failing loop can never spin.
    """

    def __init__(self, initial: float = 0.1, maximum: float = 10.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * (2**self.failures))
        self.failures += 1
        return max(self.initial / 2, random.uniform(ceiling / 2, ceiling))

    def reset(self) -> None:
        self.failures = 0


def reason_of(exc: BaseException) -> str | None:
    """The server's ``reason`` code carried by an SDK error, if any."""
    if isinstance(exc, errors.ServerError):
        return exc.reason()
    reason = getattr(exc, "reason", None)
    return reason if isinstance(reason, str) else None


def is_transient(exc: BaseException) -> bool:
    """Failures worth retrying later: the network, overload, or a server-side error."""
    if isinstance(exc, (errors.TransportError, TimeoutError, ConnectionError)):
        return True
    if isinstance(exc, errors.ServerError):
        return exc.status >= 500 or exc.status == 429
    return False


def is_fatal(exc: BaseException) -> bool:
    """Failures no retry can fix: bad credentials or a role that may not poll."""
    if isinstance(exc, errors.Unauthorized):
        return True
    return isinstance(exc, errors.ServerError) and exc.status == 403


def should_fail_after_completion_error(exc: BaseException) -> bool:
    """Whether a refused workflow-task completion is worth a ``fail_workflow_task``.

    Yes when the server definitely did not take the commands (a validation error, a
    rejection naming why); no when the outcome is unknown (the network, overload, a
    5xx) or the task is no longer this worker's (``OWNERSHIP_REASONS``): failing it
    then could only be refused too.
    """
    if isinstance(exc, errors.InvalidArgument):
        return True
    if isinstance(exc, errors.TransportError) or is_transient(exc):
        return False
    if reason_of(exc) in OWNERSHIP_REASONS:
        return False
    return isinstance(exc, errors.DurableWorkflowError)


def unsupported_codec(codec: str) -> ValueError | None:
    """The error for a task whose ``payload_codec`` this worker cannot read, else None."""
    if codec in ("avro", "json"):
        return None
    return ValueError(
        f"Unsupported payload codec {codec!r}: payload codec {codec!r} is not supported "
        "(use avro or json)"
    )


def trace_of(exc: BaseException) -> str:
    """The formatted traceback of ``exc`` (sent as a failure's stack trace)."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


async def retry_transient(
    call: Callable[[], Awaitable[T]], delays: tuple[float, ...] = COMPLETION_RETRY_DELAYS
) -> T:
    """Run ``call``; on a transient failure wait and retry (once per delay), else raise.

    Outcomes are fenced by lease owner and attempt, so resending one the server
    already applied is rejected, never applied twice.
    """
    for delay in delays:
        try:
            return await call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            _logger.warning("task outcome not delivered (%s); retrying in %.2fs", exc, delay)
        await asyncio.sleep(delay)
    return await call()


def log_outcome_error(kind: str, task_id: str, exc: BaseException) -> None:
    """Log a rejected task outcome: quietly when the task simply is no longer ours."""
    reason = reason_of(exc)
    if reason in OWNERSHIP_REASONS or reason in QUERY_OWNERSHIP_REASONS:
        _logger.info("%s task %s outcome not applied: %s", kind, task_id, reason)
    else:
        _logger.error("could not report %s task %s outcome: %s", kind, task_id, exc)


def definition_fingerprint(cls: type, type_name: str) -> str:
    """``sha256:`` over what makes a workflow definition: identity, handlers, source.

    Registering a changed definition under a live worker id is refused by the
    server, so this must change whenever the workflow code changes.
    """
    digest = hashlib.sha256()
    digest.update(f"{cls.__module__}:{cls.__qualname__}\n{type_name}\n".encode())
    for attribute in sorted(vars(cls)):
        if attribute.startswith("__workflow_") and attribute.endswith("__"):
            digest.update(f"{attribute}={_stable_repr(vars(cls)[attribute])}\n".encode())
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        source = ""
    digest.update(source.encode())
    return f"sha256:{digest.hexdigest()}"


def _stable_repr(value: Any) -> str:
    if isinstance(value, Mapping):
        return (
            "{" + ",".join(f"{k!s}:{_stable_repr(value[k])}" for k in sorted(value, key=str)) + "}"
        )
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_stable_repr(v) for v in value]
        return "[" + ",".join(sorted(items) if isinstance(value, (set, frozenset)) else items) + "]"
    if callable(value):
        return str(getattr(value, "__qualname__", type(value).__name__))
    return (
        repr(value)
        if isinstance(value, (str, int, float, bool, type(None)))
        else type(value).__name__
    )


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class _CpuSampler:
    """CPU use of this process since the previous sample, in percent of one core."""

    def __init__(self) -> None:
        self._wall = time.monotonic()
        self._cpu = time.process_time()

    def sample(self) -> float:
        wall, cpu = time.monotonic(), time.process_time()
        elapsed = wall - self._wall
        used = cpu - self._cpu
        self._wall, self._cpu = wall, cpu
        return round(100.0 * used / elapsed, 2) if elapsed > 0 else 0.0


_CPU = _CpuSampler()


def process_metrics() -> dict[str, Any]:
    """The process facts sent on register and heartbeat."""
    metrics: dict[str, Any] = {
        "process_uptime_seconds": round(time.monotonic() - _PROCESS_STARTED_MONOTONIC, 3),
        "process_id": os.getpid(),
        "process_started_at": datetime.fromtimestamp(_PROCESS_STARTED, tz=timezone.utc).isoformat(),
        "cpu_percent": _CPU.sample(),
        "host": socket.gethostname(),
    }
    rss = _rss_bytes()
    if rss is not None:
        metrics["memory_bytes"] = rss
    return metrics
