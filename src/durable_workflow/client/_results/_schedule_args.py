"""Schedule specs and actions as callers pass them: the dataclass or a plain mapping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from durable_workflow.client._results._generated import ScheduleAction, ScheduleSpec
from durable_workflow.client._results._mixins import InputEncoder, avro_envelope

__all__ = ["ActionArg", "SpecArg", "action_to_wire", "spec_to_wire"]

SpecArg = ScheduleSpec | Mapping[str, Any]
ActionArg = ScheduleAction | Mapping[str, Any]


def spec_to_wire(spec: SpecArg) -> dict[str, Any]:
    """A spec given as the dataclass or as a plain mapping (upstream accepts both)."""
    return spec.to_dict() if isinstance(spec, ScheduleSpec) else dict(spec)


def action_to_wire(
    action: ActionArg, *, input_encoder: InputEncoder | None = None
) -> dict[str, Any]:
    """An action as its wire object; a plain list ``input`` is wrapped in an Avro envelope."""
    if isinstance(action, ScheduleAction):
        return action.to_dict(input_encoder=input_encoder)
    data = dict(action)
    value = data.get("input")
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, Mapping)):
        data["input"] = (input_encoder or avro_envelope)(list(value))
    return data
