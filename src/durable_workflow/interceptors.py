"""Interceptors: wrap worker tasks (workflow, activity, query) and client calls.

An interceptor sees each unit of work with a small frozen context and a
``next`` callable that runs the rest of the chain. ``Worker(interceptors=[a,
b])`` calls ``a`` first, ``a``'s ``next`` calls ``b``, and ``b``'s ``next``
runs the worker's own handling: the first interceptor is the outermost.
Subclass :class:`PassthroughWorkerInterceptor` and override the hooks you need.

``Client(interceptors=[...])`` takes :class:`ClientInterceptor` objects: one
hook, ``execute_client_call``, sees each workflow start, signal, query,
update, cancel and terminate as a :class:`ClientCall` (the public method's
keyword arguments), in the same outermost-first order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = [
    "CLIENT_OPERATIONS",
    "ActivityHandler",
    "ActivityInterceptorContext",
    "ClientCall",
    "ClientCallHandler",
    "ClientInterceptor",
    "PassthroughWorkerInterceptor",
    "QueryTaskHandler",
    "QueryTaskInterceptorContext",
    "WorkerInterceptor",
    "WorkflowTaskHandler",
    "WorkflowTaskInterceptorContext",
    "chain_activity",
    "chain_client_call",
    "chain_query_task",
    "chain_workflow_task",
]


@dataclass(frozen=True)
class WorkflowTaskInterceptorContext:
    """One leased workflow task about to be handled."""

    worker_id: str
    task_queue: str
    task: dict[str, Any]
    #: The worker's ``Client`` (beyond upstream), for interceptors that read the server.
    client: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ActivityInterceptorContext:
    """One activity attempt about to call the user function with ``args``."""

    worker_id: str
    task_queue: str
    task: dict[str, Any]
    activity_type: str
    args: tuple[Any, ...]
    client: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class QueryTaskInterceptorContext:
    """One leased query task about to be answered."""

    worker_id: str
    task_queue: str
    task: dict[str, Any]
    client: Any = field(default=None, compare=False, repr=False)


# ``next`` of each hook: the server commands sent (None when the task was failed),
# the activity's return value, and the query task outcome.
WorkflowTaskHandler = Callable[
    [WorkflowTaskInterceptorContext], Awaitable["list[dict[str, Any]] | None"]
]
ActivityHandler = Callable[[ActivityInterceptorContext], Awaitable[Any]]
QueryTaskHandler = Callable[[QueryTaskInterceptorContext], Awaitable[str]]


@runtime_checkable
class WorkerInterceptor(Protocol):
    """The three hooks a worker interceptor provides."""

    async def execute_workflow_task(
        self, context: WorkflowTaskInterceptorContext, next: WorkflowTaskHandler
    ) -> list[dict[str, Any]] | None: ...

    async def execute_activity(
        self, context: ActivityInterceptorContext, next: ActivityHandler
    ) -> Any: ...

    async def execute_query_task(
        self, context: QueryTaskInterceptorContext, next: QueryTaskHandler
    ) -> str: ...


class PassthroughWorkerInterceptor:
    """Calls ``next`` unchanged in every hook; override only what you need."""

    async def execute_workflow_task(
        self, context: WorkflowTaskInterceptorContext, next: WorkflowTaskHandler
    ) -> list[dict[str, Any]] | None:
        return await next(context)

    async def execute_activity(
        self, context: ActivityInterceptorContext, next: ActivityHandler
    ) -> Any:
        return await next(context)

    async def execute_query_task(
        self, context: QueryTaskInterceptorContext, next: QueryTaskHandler
    ) -> str:
        return await next(context)


#: The client methods a :class:`ClientInterceptor` sees (``*_run`` forms report the
#: same operation with ``run_id`` set).
CLIENT_OPERATIONS = (
    "start_workflow",
    "signal_workflow",
    "query_workflow",
    "update_workflow",
    "cancel_workflow",
    "terminate_workflow",
)


@dataclass(frozen=True)
class ClientCall:
    """One public client call about to be sent.

    ``arguments`` are the method's arguments by name (``workflow_id``,
    ``signal_name``, ``args``, ``memo``, ...) exactly as the caller passed them;
    an interceptor changes the call by passing ``dataclasses.replace(call,
    arguments={...})`` to ``next``. ``name`` is the workflow type of a start
    and the signal, query or update name of those calls, else ``None``.
    """

    operation: str
    workflow_id: str
    arguments: dict[str, Any]
    name: str | None = None
    run_id: str | None = None
    client: Any = field(default=None, compare=False, repr=False)


ClientCallHandler = Callable[[ClientCall], Awaitable[Any]]


@runtime_checkable
class ClientInterceptor(Protocol):
    """Wraps client calls; return what ``next`` returns (or a value of the same shape)."""

    async def execute_client_call(self, call: ClientCall, next: ClientCallHandler) -> Any: ...


C = TypeVar("C")
R = TypeVar("R")


def _chain(
    interceptors: Sequence[Any],
    hook: str,
    innermost: Callable[[C], Awaitable[R]],
) -> Callable[[C], Awaitable[R]]:
    handler = innermost
    for interceptor in reversed(interceptors):
        method = getattr(interceptor, hook, None)
        if method is None:
            continue  # an interceptor may implement only some hooks

        def bind(
            method: Callable[[C, Callable[[C], Awaitable[R]]], Awaitable[R]],
            inner: Callable[[C], Awaitable[R]],
        ) -> Callable[[C], Awaitable[R]]:
            async def call(context: C) -> R:
                return await method(context, inner)

            return call

        handler = bind(method, handler)
    return handler


def chain_workflow_task(
    interceptors: Sequence[Any], innermost: WorkflowTaskHandler
) -> WorkflowTaskHandler:
    """``innermost`` wrapped by every interceptor's ``execute_workflow_task``, first outermost."""
    return _chain(interceptors, "execute_workflow_task", innermost)


def chain_activity(interceptors: Sequence[Any], innermost: ActivityHandler) -> ActivityHandler:
    """``innermost`` wrapped by every interceptor's ``execute_activity``, first outermost."""
    return _chain(interceptors, "execute_activity", innermost)


def chain_query_task(interceptors: Sequence[Any], innermost: QueryTaskHandler) -> QueryTaskHandler:
    """``innermost`` wrapped by every interceptor's ``execute_query_task``, first outermost."""
    return _chain(interceptors, "execute_query_task", innermost)


def chain_client_call(
    interceptors: Sequence[Any], innermost: ClientCallHandler
) -> ClientCallHandler:
    """``innermost`` wrapped by every interceptor's ``execute_client_call``, first outermost."""
    return _chain(interceptors, "execute_client_call", innermost)
