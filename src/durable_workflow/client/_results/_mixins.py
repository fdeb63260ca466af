"""Hand-written behaviour the generated result classes inherit (``bases`` in results.json).

The fields and parsers are data (``codegen/results.json``); what a class does
beyond holding and parsing them lives here, written once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from durable_workflow import serializer

__all__ = [
    "TERMINAL_STATUSES",
    "ActionWire",
    "InputEncoder",
    "SpecWire",
    "TerminalStatus",
    "avro_envelope",
]

TERMINAL_STATUSES = frozenset({"completed", "failed", "terminated", "canceled", "cancelled"})

InputEncoder = Callable[[list[Any]], Any]


class TerminalStatus:
    """``is_terminal`` for a run or workflow that carries a ``status``."""

    status: str | None

    @property
    def is_terminal(self) -> bool:
        """Whether the run has closed (any terminal status)."""
        return (self.status or "").lower() in TERMINAL_STATUSES


def _set_fields(instance: Any) -> dict[str, Any]:
    """A dataclass's fields in order, without the ones left unset (``None``)."""
    values = ((f.name, getattr(instance, f.name)) for f in dataclasses.fields(instance))
    return {name: value for name, value in values if value is not None}


def avro_envelope(values: list[Any]) -> Any:
    return serializer.envelope(values, codec="avro")


class _WireMapping:
    """Read access and equality as the plain dict upstream 0.4.53 returned here.

    ``desc.spec["cron_expressions"]``, ``desc.spec.get("timezone")`` and
    ``desc.spec == {"cron_expressions": [...], "timezone": "UTC"}`` keep working;
    the keys are the fields that are set.
    """

    def _wire(self) -> dict[str, Any]:
        return _set_fields(self)

    def __getitem__(self, key: str) -> Any:
        return self._wire()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._wire().get(key, default)

    def keys(self) -> Any:
        return self._wire().keys()

    def items(self) -> Any:
        return self._wire().items()

    def __contains__(self, key: object) -> bool:
        return key in self._wire()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._wire() == dict(other)
        if type(other) is type(self):
            mine: tuple[Any, ...] = dataclasses.astuple(self)  # type: ignore[call-overload]
            theirs: tuple[Any, ...] = dataclasses.astuple(other)  # type: ignore[call-overload]
            return mine == theirs
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class SpecWire(_WireMapping):
    """A schedule spec's wire form (requests send it as well as answers carry it)."""

    def to_dict(self) -> dict[str, Any]:
        """The wire object, without the fields left unset."""
        return _set_fields(self)


class ActionWire(_WireMapping):
    """A schedule action's wire form; its ``input`` travels as a payload envelope."""

    def to_dict(self, *, input_encoder: InputEncoder | None = None) -> dict[str, Any]:
        """The wire object; ``input`` becomes an Avro envelope unless an encoder is given."""
        data = _set_fields(self)
        if "input" in data:
            encoded = (input_encoder or avro_envelope)(list(data["input"]))
            if encoded is None:
                del data["input"]
            else:
                data["input"] = encoded
        return data
