"""Worker interceptors: wrap workflow tasks, activity calls and query tasks.

An interceptor sees each unit of work with a small frozen context and a
``next`` callable that runs the rest of the chain. ``Worker(interceptors=[a,
b])`` calls ``a`` first, ``a``'s ``next`` calls ``b``, and ``b``'s ``next``
runs the worker's own handling: the first interceptor is the outermost.
Subclass :class:`PassthroughWorkerInterceptor` and override the hooks you need.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = [
    "ActivityHandler",
    "ActivityInterceptorContext",
    "PassthroughWorkerInterceptor",
    "QueryTaskHandler",
    "QueryTaskInterceptorContext",
    "WorkerInterceptor",
    "WorkflowTaskHandler",
    "WorkflowTaskInterceptorContext",
    "chain_activity",
    "chain_query_task",
    "chain_workflow_task",
]


@dataclass(frozen=True)
class WorkflowTaskInterceptorContext:
    """One leased workflow task about to be handled."""

    worker_id: str
    task_queue: str
    task: dict[str, Any]


@dataclass(frozen=True)
class ActivityInterceptorContext:
    """One activity attempt about to call the user function with ``args``."""

    worker_id: str
    task_queue: str
    task: dict[str, Any]
    activity_type: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class QueryTaskInterceptorContext:
    """One leased query task about to be answered."""

    worker_id: str
    task_queue: str
    task: dict[str, Any]


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
