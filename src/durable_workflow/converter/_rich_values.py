"""Rich Python values <-> the plain JSON values payloads carry, guided by type hints.

Outgoing, :func:`to_plain` turns dataclasses, pydantic models, datetimes,
UUIDs, Decimals, Enums, bytes, tuples and sets into JSON-native values; it is
only reached after the plain encoder refused a value, so a value that encoded
before keeps its exact bytes. Incoming, :func:`from_plain` validates a decoded
value into an annotated type with pydantic (v2, lax mode); a hint that needs no
rich type (``int``, ``list[str]``, none at all) leaves the value as decoded.

Bytes travel natively where the frame has a bytes kind (the 2.x Avro ``Value``
frame) and as standard base64 text otherwise; a ``bytes`` hint reads both.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import enum
import functools
import inspect
import types
import typing
import uuid
from collections.abc import Callable, Generator, Iterator
from decimal import Decimal
from typing import Any

import pydantic
from pydantic_core import PydanticSerializationError, to_jsonable_python

from durable_workflow.errors import DurableWorkflowError

__all__ = [
    "PayloadConversionError",
    "call_arguments",
    "encode_rich",
    "from_plain",
    "needs_conversion",
    "return_type",
    "run_result_type",
    "to_plain",
]

_NATIVE = (str, int, float, bool, type(None))
_RICH_CLASSES: tuple[type, ...] = (
    _dt.datetime,
    _dt.date,
    _dt.time,
    _dt.timedelta,
    uuid.UUID,
    Decimal,
    enum.Enum,
    bytes,
    bytearray,
    pydantic.BaseModel,
)
_RICH_ORIGINS = (tuple, set, frozenset)
# Pydantic's lax mode reads base64 text into ``bytes`` with this (and keeps real bytes).
_CONFIG = pydantic.ConfigDict(val_json_bytes="base64", ser_json_bytes="base64")


class PayloadConversionError(DurableWorkflowError, TypeError):
    """A payload value could not become the annotated type; ``field`` names where it goes.

    Retrying would meet the same payload, so activities fail without retries.
    """

    non_retryable = True

    def __init__(self, field: str, annotation: Any, detail: str) -> None:
        self.field = field
        self.annotation = annotation
        self.detail = detail
        super().__init__(f"{field}: cannot convert payload value to {_name(annotation)}: {detail}")


def _name(annotation: Any) -> str:
    return getattr(annotation, "__qualname__", None) or repr(annotation)


# -- outgoing -----------------------------------------------------------------
def to_plain(value: Any, *, bytes_native: bool = False) -> Any:
    """``value`` with every rich part replaced by its JSON form (the same object if none).

    Dataclasses become objects of their fields, pydantic models their
    ``model_dump(mode="json", by_alias=True)``, datetimes/dates/times ISO 8601
    text, UUIDs and Decimals text, Enums their value, tuples lists, sets sorted
    lists (insertion order when unsortable), bytes base64 text unless
    ``bytes_native``. A value nothing here knows is returned as is, so the
    encoder reports it with its usual typed error.
    """
    return _plain(value, bytes_native)


def _plain(value: Any, native: bool) -> Any:
    if isinstance(value, _NATIVE) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, list):
        items = [_plain(item, native) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        pairs = [(_key(key), _plain(item, native)) for key, item in value.items()]
        same = all(
            k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items(), strict=True)
        )
        return value if same else dict(pairs)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return raw if native else base64.b64encode(raw).decode("ascii")
    if isinstance(value, enum.Enum):
        return _plain(value.value, native)
    if isinstance(value, tuple):
        return [_plain(item, native) for item in value]
    if isinstance(value, (set, frozenset)):
        items = [_plain(item, native) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, pydantic.BaseModel):
        return _plain(value.model_dump(mode="json", by_alias=True), native)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: _plain(getattr(value, field.name), native)
            for field in dataclasses.fields(value)
        }
    try:
        return to_jsonable_python(value, bytes_mode="base64")
    except PydanticSerializationError:
        return value


def _key(key: Any) -> Any:
    """A mapping key as text when it is a rich scalar; other keys are the encoder's to judge."""
    if isinstance(key, enum.Enum):
        return key.value
    if isinstance(key, (uuid.UUID, Decimal)):
        return str(key)
    if isinstance(key, (_dt.datetime, _dt.date, _dt.time)):
        return key.isoformat()
    return key


# -- incoming -----------------------------------------------------------------
def needs_conversion(annotation: Any) -> bool:
    """Whether ``annotation`` names a rich type anywhere (plain hints decode as before)."""
    try:
        return _needs_conversion(annotation)
    except TypeError:  # an unhashable hint (Annotated metadata): not cached
        return _needs_conversion.__wrapped__(annotation)


@functools.lru_cache(maxsize=1024)
def _needs_conversion(annotation: Any) -> bool:
    if annotation in (None, Any, inspect.Parameter.empty):
        return False
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return needs_conversion(typing.get_args(annotation)[0])
    if origin in _RICH_ORIGINS:
        return True
    if origin is not None:
        return any(needs_conversion(arg) for arg in typing.get_args(annotation) if arg is not ...)
    if isinstance(annotation, type):
        return issubclass(annotation, _RICH_CLASSES) or dataclasses.is_dataclass(annotation)
    return False


@functools.lru_cache(maxsize=1024)
def _adapter(annotation: Any) -> pydantic.TypeAdapter[list[Any]]:
    # Wrapped in a list so the adapter may carry the bytes config even for a
    # dataclass or model at the top (those refuse a config of their own).
    return pydantic.TypeAdapter(list[annotation], config=_CONFIG)


def from_plain(value: Any, annotation: Any, field: str = "value") -> Any:
    """``value`` validated into ``annotation``; unchanged when the hint needs no rich type."""
    if value is None or not needs_conversion(annotation):
        return value
    try:
        return _adapter(annotation).validate_python([value])[0]
    except pydantic.ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'][1:]) or '$'}: {error['msg']}"
            for error in exc.errors()
        )
        raise PayloadConversionError(field, annotation, details) from None


# -- type hints of workflow code ----------------------------------------------
@functools.lru_cache(maxsize=1024)
def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:  # an unresolvable forward reference: no hints, as before
        return {}


def _function(fn: Any) -> Any:
    return fn.__func__ if isinstance(fn, types.MethodType) else fn


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
# Per parameter: (name, annotation) of a payload argument that needs converting, else None.
_Plan = tuple[tuple[tuple[str, Any] | None, ...], tuple[str, Any] | None]


@functools.lru_cache(maxsize=1024)
def _plan(function: Callable[..., Any], offset: int) -> _Plan | None:
    """How to convert the arguments of ``function`` after ``offset`` parameters; ``None``: as is."""
    hints = _hints(function)
    if not hints:
        return None
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None

    def step(parameter: inspect.Parameter) -> tuple[str, Any] | None:
        annotation = hints.get(parameter.name)
        return (parameter.name, annotation) if needs_conversion(annotation) else None

    positional = tuple(step(p) for p in parameters[offset:] if p.kind in _POSITIONAL)
    rest = next((step(p) for p in parameters if p.kind is inspect.Parameter.VAR_POSITIONAL), None)
    if rest is None and not any(positional):
        return None
    return positional, rest


def call_arguments(fn: Any, args: list[Any] | tuple[Any, ...], *, skip: int = 0) -> list[Any]:
    """``args`` for calling ``fn`` (a function or bound method), each into its parameter's hint.

    ``skip`` leading parameters are not payload arguments (``ctx`` of ``run``).
    Only hints naming a rich type convert; extra arguments pass through. What
    to convert is worked out once per function.
    """
    target = _function(fn)
    offset = skip + (1 if isinstance(fn, types.MethodType) else 0)
    try:
        plan = _plan(target, offset)
    except TypeError:  # not hashable, or not a function at all
        return list(args)
    if plan is None:
        return list(args)
    positional, rest = plan
    converted: list[Any] = []
    for index, value in enumerate(args):
        step = positional[index] if index < len(positional) else rest
        converted.append(value if step is None else from_plain(value, step[1], step[0]))
    return converted


def return_type(fn: Any) -> Any:
    """The return hint of ``fn`` (``None`` without one)."""
    target = _function(fn)
    return _hints(target).get("return") if callable(target) else None


def run_result_type(workflow: Any) -> Any:
    """What a workflow class's ``run`` returns: ``T`` of ``Generator[Any, Any, T]`` or the hint."""
    run = getattr(workflow, "run", None)
    annotation = return_type(run) if run is not None else None
    origin = typing.get_origin(annotation)
    if origin in (Generator, typing.Generator):
        args = typing.get_args(annotation)
        return args[2] if len(args) == 3 else None
    if origin in (Iterator, typing.Iterator):
        return None
    return annotation


R = typing.TypeVar("R")


def encode_rich(encode: Callable[[Any], R], value: Any, *, bytes_native: bool) -> R:
    """``encode(value)``; when the plain encoder refuses it, ``encode`` of its plain form.

    Trying the plain encoder first keeps every value it accepted byte for byte
    as before (and costs nothing on that path); the plain form is only built
    for a value holding rich parts, and the encoder's own error stands when
    there is nothing to convert.
    """
    try:
        return encode(value)
    except (TypeError, ValueError):
        plain = _plain(value, bytes_native)
        if plain is value:
            raise
    return encode(plain)
