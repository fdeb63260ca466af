"""Workflow authoring decorators: ``@workflow.defn`` and the message-handler marks.

``defn`` registers a class in the process-global registry and indexes its
``@signal``/``@query``/``@update``/validator methods by name on the class.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast, overload

__all__ = [
    "UpdateMethod",
    "defn",
    "query",
    "registry",
    "signal",
    "update",
    "update_validator",
]

C = TypeVar("C", bound=type)
F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
P = ParamSpec("P")


class UpdateMethod(Protocol[S, P, R_co]):
    """What ``@workflow.update`` makes of a method, for the type checker.

    At run time it is the method itself, marked; the checker sees it as
    callable with the method's parameters and result (bound on an instance),
    with a ``validator`` decorator, so no ``# type: ignore`` is needed.
    """

    __update_name__: str

    def __call__(self, instance: S, /, *args: P.args, **kwargs: P.kwargs) -> R_co: ...

    def validator(self, fn: F) -> F:
        """Mark ``fn`` as this update's validator (raise to reject)."""
        ...

    @overload
    def __get__(self, obj: None, owner: Any) -> UpdateMethod[S, P, R_co]: ...

    @overload
    def __get__(self, obj: S, owner: Any) -> Callable[P, R_co]: ...


_REGISTRY: dict[str, type] = {}
# The attribute each message decorator sets on its method, holding the message name
# (upstream's attribute names: upstream-style code reads them).
MESSAGE_MARKS = {
    "signal": "__signal_name__",
    "query": "__query_name__",
    "update": "__update_name__",
}
_HANDLER_MARKS = (
    (MESSAGE_MARKS["signal"], "__workflow_signals__"),
    (MESSAGE_MARKS["query"], "__workflow_queries__"),
    (MESSAGE_MARKS["update"], "__workflow_updates__"),
    ("__update_validator_name__", "__workflow_update_validators__"),
)


def _require_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{what} needs a non-empty name")
    return name


def defn(*, name: str) -> Callable[[C], C]:
    """Register a workflow class under ``name`` and index its message handlers."""
    _require_name(name, "workflow.defn(name=...)")

    def decorate(cls: C) -> C:
        run = getattr(cls, "run", None)
        if not callable(run):
            raise TypeError(f"workflow class {cls.__qualname__} has no run(self, ctx, ...) method")
        _require_sync_run(cls, run)
        tables: dict[str, dict[str, str]] = {table: {} for _, table in _HANDLER_MARKS}
        for klass in reversed(cls.__mro__):
            for attribute, member in vars(klass).items():
                if attribute.startswith("_"):
                    continue
                for mark, table in _HANDLER_MARKS:
                    handler_name = getattr(member, mark, None)
                    if isinstance(handler_name, str):
                        tables[table][handler_name] = attribute
        for table, entries in tables.items():
            setattr(cls, table, entries)
        cls.__workflow_name__ = name  # type: ignore[attr-defined]
        _REGISTRY[name] = cls
        return cls

    return decorate


def _require_sync_run(cls: type, run: Callable[..., Any]) -> None:
    """Refuse ``async def run`` now: it would only fail once a workflow task runs it."""
    target = inspect.unwrap(run)
    if inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
        raise TypeError(
            f"workflow class {cls.__qualname__}: run() is declared `async def`, but workflow "
            "code is a generator that yields commands. Write it as `def run(self, ctx, ...):` "
            "with `result = yield ctx.schedule_activity(...)` for each step, and move "
            "async code into an activity."
        )


def registry() -> dict[str, type]:
    """A copy of the registered workflow classes by name."""
    return dict(_REGISTRY)


def _mark(attribute: str, name: str, what: str) -> Callable[[F], F]:
    _require_name(name, what)

    def decorate(fn: F) -> F:
        setattr(fn, attribute, name)
        return fn

    return decorate


def signal(name: str) -> Callable[[F], F]:
    """Mark a method as the handler of signal ``name`` (called with its arguments)."""
    return _mark(MESSAGE_MARKS["signal"], name, "workflow.signal")


def query(name: str) -> Callable[[F], F]:
    """Mark a read-only method as the handler of query ``name``."""
    return _mark(MESSAGE_MARKS["query"], name, "workflow.query")


def update_validator(name: str) -> Callable[[F], F]:
    """Mark a method as the validator of update ``name`` (raise to reject)."""
    return _mark("__update_validator_name__", name, "workflow.update_validator")


def update(
    name: str,
) -> Callable[[Callable[Concatenate[S, P], R]], UpdateMethod[S, P, R]]:
    """Mark a method as the handler of update ``name``; its return value is the result.

    The decorated function gains ``.validator``, a decorator for its validator.
    """
    mark = _mark(MESSAGE_MARKS["update"], name, "workflow.update")

    def decorate(fn: Callable[Concatenate[S, P], R]) -> UpdateMethod[S, P, R]:
        marked = mark(fn)
        marked.validator = update_validator(name)  # type: ignore[attr-defined]
        return cast("UpdateMethod[S, P, R]", marked)

    return decorate
