"""How a workflow class is named: one rule for Worker, Replayer, WorkflowEnvironment, CLIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["activity_name", "workflow_name", "workflow_type_name"]


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


def workflow_name(workflow: str | type) -> str:
    """A workflow type given by name or by class (``start_child_workflow``, ``start_workflow``)."""
    return workflow if isinstance(workflow, str) else workflow_type_name(workflow)


def activity_name(activity: str | Callable[..., Any]) -> str:
    """An activity type given by name or by function: its ``@activity.defn`` name, else
    its ``__name__`` (the rule ``Worker`` registers plain functions under)."""
    if isinstance(activity, str):
        return activity
    if not callable(activity):
        raise TypeError(f"activity_type must be a name or an activity function, got {activity!r}")
    name = getattr(activity, "__activity_name__", None)
    return name if isinstance(name, str) and name else str(getattr(activity, "__name__", ""))
