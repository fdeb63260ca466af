"""Activity authoring: the ``@activity.defn`` registry and the per-attempt context.

The worker binds one :class:`ActivityContext` per attempt through a
contextvar (:func:`_activity_scope`), so async activities on the event loop
and sync activities run in a thread pool (via ``contextvars.copy_context().run``)
each see their own attempt's context through :func:`context`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from durable_workflow.errors import ActivityCancelled

if TYPE_CHECKING:
    from durable_workflow.client import Client

__all__ = [
    "ActivityContext",
    "ActivityInfo",
    "HeartbeatFunction",
    "context",
    "defn",
    "registry",
]

F = TypeVar("F", bound=Callable[..., Any])

#: What the worker injects to send a heartbeat: takes ``details`` (or None) and
#: returns the server's response body (a mapping with ``cancel_requested``).
HeartbeatFunction = Callable[[dict[str, Any] | None], Awaitable[Mapping[str, Any] | None]]

_REGISTRY: dict[str, Callable[..., Any]] = {}
_CURRENT: contextvars.ContextVar[ActivityContext | None] = contextvars.ContextVar(
    "durable_workflow_activity_context"
)


def defn(*, name: str) -> Callable[[F], F]:
    """Register a sync or async callable as the activity type ``name``.

    The registry is process-global; registering another callable under an
    existing name replaces it (re-imports in tests and notebooks stay usable).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError("activity.defn(name=...) needs a non-empty name")

    def decorate(fn: F) -> F:
        if not callable(fn):
            raise TypeError("activity.defn decorates a callable")
        fn.__activity_name__ = name  # type: ignore[attr-defined]
        _REGISTRY[name] = fn
        return fn

    return decorate


def registry() -> dict[str, Callable[..., Any]]:
    """A copy of the registered activities by name."""
    return dict(_REGISTRY)


@dataclass(frozen=True)
class ActivityInfo:
    """Identity of the attempt being executed (from the activity task)."""

    task_id: str
    activity_type: str
    activity_attempt_id: str
    attempt_number: int
    task_queue: str
    worker_id: str
    # Beyond upstream: the run the activity belongs to and its execution id
    # (stable across retries; the attempt id changes per attempt).
    workflow_id: str | None = None
    run_id: str | None = None
    activity_id: str | None = None


class ActivityContext:
    """The running attempt: its identity, heartbeats and cancellation state.

    Args:
        info: the attempt's identity.
        heartbeat: coroutine function sending one heartbeat (injected by the worker).
        loop: the worker's event loop; needed only by :meth:`heartbeat_sync`.
        client: upstream's way to give the heartbeat channel: without ``heartbeat``,
            heartbeats go through ``client.heartbeat_activity_task`` as ``info.worker_id``.
    """

    def __init__(
        self,
        info: ActivityInfo,
        *,
        heartbeat: HeartbeatFunction | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        client: Client | None = None,
    ) -> None:
        if heartbeat is None and client is not None:
            heartbeat = _client_heartbeat(client, info)
        self._info = info
        self._heartbeat = heartbeat
        self._loop = loop
        self._cancelled = False

    @property
    def info(self) -> ActivityInfo:
        return self._info

    @property
    def is_cancelled(self) -> bool:
        """True once a heartbeat response reported that cancellation was requested."""
        return self._cancelled

    async def heartbeat(self, details: dict[str, Any] | None = None) -> None:
        """Report progress; raises ``ActivityCancelled`` when the server asks to stop."""
        if self._heartbeat is None:
            raise RuntimeError("this activity context has no heartbeat channel")
        response = await self._heartbeat(details)
        if response and response.get("cancel_requested"):
            self._cancelled = True
            raise ActivityCancelled(f"activity {self._info.activity_type} was cancelled")

    def heartbeat_sync(self, details: dict[str, Any] | None = None, timeout: float = 30.0) -> None:
        """Heartbeat from a sync activity running in the worker's thread pool.

        Schedules :meth:`heartbeat` on the worker's event loop and waits for it
        (at most ``timeout`` seconds). Never call it from the loop's own thread:
        that would deadlock, so it raises ``RuntimeError`` instead.
        """
        loop = self._loop
        if loop is None:
            raise RuntimeError("heartbeat_sync needs the worker's event loop; none was injected")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("heartbeat_sync called on the event loop; use 'await heartbeat()'")
        future = asyncio.run_coroutine_threadsafe(self.heartbeat(details), loop)
        future.result(timeout)


def _client_heartbeat(client: Client, info: ActivityInfo) -> HeartbeatFunction:
    async def heartbeat(details: dict[str, Any] | None) -> Mapping[str, Any] | None:
        return await client.heartbeat_activity_task(
            task_id=info.task_id,
            activity_attempt_id=info.activity_attempt_id,
            lease_owner=info.worker_id,
            details=details,
        )

    return heartbeat


def context() -> ActivityContext:
    """The context of the activity attempt running in this task or thread."""
    ctx = _CURRENT.get(None)
    if ctx is None:
        raise RuntimeError("activity.context() called outside of an activity")
    return ctx


def _set_context(ctx: ActivityContext | None) -> contextvars.Token[ActivityContext | None]:
    """Bind ``ctx`` (``None``: unbind) in the current context; upstream 0.4.53's private hook.

    Returns the token for ``_CURRENT.reset``; the worker uses ``_activity_scope``.
    """
    return _CURRENT.set(ctx)


@contextlib.contextmanager
def _activity_scope(ctx: ActivityContext) -> Iterator[ActivityContext]:
    """Bind ``ctx`` for the duration of one attempt (worker-internal).

    For a sync activity enter the scope inside the function given to
    ``contextvars.copy_context().run`` in the worker thread; for an async one,
    around the ``await`` on the loop.
    """
    token = _CURRENT.set(ctx)
    try:
        yield ctx
    finally:
        _CURRENT.reset(token)
