"""How a workflow class is named: one rule for Worker, Replayer, WorkflowEnvironment, CLIs."""

from __future__ import annotations

from typing import Any

__all__ = ["workflow_type_name"]


def workflow_type_name(cls: Any) -> str:
    """The type name a workflow class runs under, the one rule for every entry point.

    Its ``@workflow.defn`` name, else (upstream's documented ``Worker`` rule)
    the class name. Anything that is not a class with a ``run`` method is a
    ``TypeError``, as ``@workflow.defn`` refuses it.
    """
    if not isinstance(cls, type) or not callable(getattr(cls, "run", None)):
        raise TypeError(f"{cls!r} is not a workflow class (a class with a run(self, ctx) method)")
    name = getattr(cls, "__workflow_name__", None)
    return name if isinstance(name, str) and name else cls.__name__
