"""Delivery of signals and applied updates to their handlers during replay.

Each message is delivered just before the workflow resumes at the step it
was pinned to (see ``steps``), so handler side effects on workflow state
happen at the same point of the code on every replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from durable_workflow.converter._rich_values import call_arguments
from durable_workflow.errors import NonDeterministicReplayError
from durable_workflow.workflow._replay.history import DecodeScope, Event, as_argument_list
from durable_workflow.workflow._replay.steps import StepIndex

__all__ = ["ReceiverDispatcher", "WorkflowCodeError", "handler_map"]

_SIGNAL_ARGUMENT_KEYS = ("value", "input", "arguments")


class WorkflowCodeError(Exception):
    """Workflow code (run, a handler, a predicate, a side effect) raised: the run fails."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def handler_map(workflow_cls: type, attribute: str) -> Mapping[str, str]:
    """A ``@workflow.defn`` handler table (message name -> method name), or empty."""
    value = getattr(workflow_cls, attribute, None)
    return value if isinstance(value, Mapping) else {}


class ReceiverDispatcher:
    """Delivers the index's receivers, in history order, up to a step position."""

    def __init__(
        self, workflow_cls: type, instance: Any, index: StepIndex, scope: DecodeScope
    ) -> None:
        self._workflow_cls = workflow_cls
        self._instance = instance
        self._receivers = index.receivers
        self._scope = scope
        self._next = 0

    def message_arguments(self, receiver_kind: str, name: str, event: Event) -> list[Any]:
        """Arguments of a signal/update event (payload keys, else the command snapshot)."""
        keys = _SIGNAL_ARGUMENT_KEYS if receiver_kind == "signal" else ("arguments",)
        for key in keys:
            if event.payload.get(key) is not None:
                value = self._scope.value(
                    event, (key,), receiver_kind=receiver_kind, receiver_name=name
                )
                return as_argument_list(value)
        command = event.payload.get("command")
        # The snapshot server records signal arguments only in the command snapshot.
        if isinstance(command, Mapping) and command.get("payload") is not None:
            decoded = self._scope.decode(
                command["payload"],
                command.get("payload_codec"),
                event=event,
                receiver_kind=receiver_kind,
                receiver_name=name,
            )
            if isinstance(decoded, Mapping):
                return as_argument_list(decoded.get("arguments"))
        return []

    def next_pending_position(self) -> int | None:
        """The step position of the first undelivered message, if any."""
        if self._next < len(self._receivers):
            return self._receivers[self._next].step_position
        return None

    def deliver_up_to(self, position: int) -> None:
        """Run the handlers of every undelivered message pinned at or before ``position``."""
        receivers = self._receivers
        while self._next < len(receivers) and receivers[self._next].step_position <= position:
            receiver = receivers[self._next]
            self._next += 1
            attribute = (
                "__workflow_signals__" if receiver.kind == "signal" else "__workflow_updates__"
            )
            method_name = handler_map(self._workflow_cls, attribute).get(receiver.name)
            if method_name is None:
                if receiver.kind == "signal":
                    continue  # unknown signals are ignored, as upstream does
                raise NonDeterministicReplayError(
                    position + 1,
                    f"update handler {receiver.name!r}",
                    [receiver.event.event_type],
                    detail=f"history applied update {receiver.name!r} but the workflow has no "
                    "@workflow.update handler with that name",
                )
            args = self.message_arguments(receiver.kind, receiver.name, receiver.event)
            try:
                handler = getattr(self._instance, method_name)
                handler(*call_arguments(handler, args))
            except Exception as exc:
                raise WorkflowCodeError(exc) from exc
