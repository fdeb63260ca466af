"""Types for typed calls: the enumerations as ``Literal``s, workflow classes as protocols.

The ``Literal`` aliases list exactly the strings the server accepts, so a typo
is a type error while every accepted string keeps working. The protocols let
``start_workflow(workflow_type=MyWorkflow, ...)`` read the result type off
``MyWorkflow.run``: ``T`` of ``Generator[Any, Any, T]`` for a generator
``run``, the return annotation for a plain one.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Literal, Protocol, TypeVar

__all__ = [
    "DuplicatePolicy",
    "GeneratorWorkflow",
    "PlainWorkflow",
    "UpdateWaitFor",
    "WorkflowStatus",
    "WorkflowStatusFilter",
]

R_co = TypeVar("R_co", covariant=True)

#: What ``start_workflow`` does when the id is taken: fail (the server default) or
#: return the running workflow.
DuplicatePolicy = Literal["fail", "use-existing"]
#: How long ``update_workflow`` waits: until the update is accepted (server default)
#: or completed.
UpdateWaitFor = Literal["accepted", "completed"]
#: A run's status as ``describe`` reports it.
WorkflowStatus = Literal[
    "pending", "running", "waiting", "completed", "failed", "cancelled", "terminated"
]
#: The status buckets ``list_workflows(status=...)`` filters on.
WorkflowStatusFilter = Literal["running", "completed", "failed"]


class GeneratorWorkflow(Protocol[R_co]):
    """A workflow class whose ``run`` is a generator returning ``R_co``."""

    @property
    def run(self) -> Callable[..., Generator[Any, Any, R_co]]: ...


class PlainWorkflow(Protocol[R_co]):
    """A workflow class whose ``run`` returns ``R_co`` without yielding."""

    @property
    def run(self) -> Callable[..., R_co]: ...
