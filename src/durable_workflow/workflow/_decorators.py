"""Workflow authoring decorators: ``@workflow.defn`` and the message-handler marks.

``defn`` registers a class in the process-global registry and indexes its
``@signal``/``@query``/``@update``/validator methods by name on the class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["defn", "query", "registry", "signal", "update", "update_validator"]

C = TypeVar("C", bound=type)
F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, type] = {}
_HANDLER_MARKS = (
    ("__signal_name__", "__workflow_signals__"),
    ("__query_name__", "__workflow_queries__"),
    ("__update_name__", "__workflow_updates__"),
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
        if not callable(getattr(cls, "run", None)):
            raise TypeError(f"workflow class {cls.__qualname__} has no run(self, ctx, ...) method")
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
    return _mark("__signal_name__", name, "workflow.signal")


def query(name: str) -> Callable[[F], F]:
    """Mark a read-only method as the handler of query ``name``."""
    return _mark("__query_name__", name, "workflow.query")


def update_validator(name: str) -> Callable[[F], F]:
    """Mark a method as the validator of update ``name`` (raise to reject)."""
    return _mark("__update_validator_name__", name, "workflow.update_validator")


def update(name: str) -> Callable[[F], F]:
    """Mark a method as the handler of update ``name``; its return value is the result.

    The decorated function gains ``.validator``, a decorator for its validator.
    """
    mark = _mark("__update_name__", name, "workflow.update")

    def decorate(fn: F) -> F:
        marked = mark(fn)
        marked.validator = update_validator(name)  # type: ignore[attr-defined]
        return marked

    return decorate
