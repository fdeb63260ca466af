"""Runs a public client method through the client's interceptors (``interceptors.ClientCall``).

The hook sits at the method level, above the payload and HTTP layers, so an
interceptor sees what the caller asked for (and may add to it, e.g. a memo
entry) and is independent of how the request is then encoded and sent.
A client built with interceptors gets instance-level wrappers of the methods in
:data:`INTERCEPTED` (the class and its typed signatures stay as they are); a
client without any runs the methods directly.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import types
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from durable_workflow.interceptors import ClientCall, chain_client_call
from durable_workflow.workflow._replay.names import workflow_type_name

if TYPE_CHECKING:
    from durable_workflow.client._client import Client

__all__ = ["INTERCEPTED", "install_interceptors", "intercepted"]

P = ParamSpec("P")
R = TypeVar("R")

# Which argument names the call by operation: workflow type or message name.
_NAME_ARGUMENT = {
    "start_workflow": "workflow_type",
    "signal_workflow": "signal_name",
    "query_workflow": "query_name",
    "update_workflow": "update_name",
}


#: Client method -> the ``ClientCall.operation`` it reports.
INTERCEPTED = {
    "start_workflow": "start_workflow",
    "signal_workflow": "signal_workflow",
    "query_workflow": "query_workflow",
    "update_workflow": "update_workflow",
    "cancel_workflow": "cancel_workflow",
    "terminate_workflow": "terminate_workflow",
    "signal_workflow_run": "signal_workflow",
    "query_workflow_run": "query_workflow",
    "update_workflow_run": "update_workflow",
    "cancel_workflow_run": "cancel_workflow",
    "terminate_workflow_run": "terminate_workflow",
}


def install_interceptors(client: Client) -> None:
    """Route ``client``'s intercepted methods through ``client.interceptors``.

    Other methods that call these (``execute_workflow``, handles) go through
    the instance attribute, so they are intercepted too.
    """
    for name, operation in INTERCEPTED.items():
        method = getattr(type(client), name)
        setattr(client, name, types.MethodType(intercepted(operation, method), client))


def intercepted(
    operation: str, method: Callable[Concatenate[Client, P], Coroutine[Any, Any, R]]
) -> Callable[Concatenate[Client, P], Coroutine[Any, Any, R]]:
    """``method`` (a client method function) sending each call through ``self.interceptors``."""
    signature = inspect.signature(method)
    name_argument = _NAME_ARGUMENT.get(operation)

    @functools.wraps(method)
    async def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> R:
        interceptors = getattr(self, "interceptors", ())
        if not interceptors:
            return await method(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs)
        arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
        name = arguments.get(name_argument) if name_argument else None
        if isinstance(name, type):  # a start given the workflow class itself
            with contextlib.suppress(TypeError):  # not a workflow: the method says so
                name = workflow_type_name(name)
        run_id = arguments.get("run_id")

        async def innermost(context: ClientCall) -> Any:
            return await method(self, **context.arguments)  # type: ignore[call-arg]

        result = await chain_client_call(interceptors, innermost)(
            ClientCall(
                operation=operation,
                workflow_id=str(arguments.get("workflow_id") or ""),
                arguments=arguments,
                name=name if isinstance(name, str) else None,
                run_id=run_id if isinstance(run_id, str) else None,
                client=self,
            )
        )
        return result  # type: ignore[no-any-return]

    return call
