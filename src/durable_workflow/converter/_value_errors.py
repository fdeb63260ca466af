"""Typed errors of the Value codec, and where an unencodable value goes wrong.

The encoder's hot path only notices *that* a value cannot be encoded; this
module walks the value again to say *why* and *where* (``$[0]["key"]``), with
upstream SDK 2.12.0's reason names where it has one.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from durable_workflow.errors import DurableWorkflowError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class PayloadFramingError(DurableWorkflowError, ValueError):
    """A payload is not a well-formed frame; ``reason`` is the server's reason name."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class ValueEncodeError(DurableWorkflowError, ValueError):
    """A value has no Value encoding; ``path`` (``$``, ``$[0]["key"]``) names the element."""

    def __init__(self, reason: str, path: str, detail: str) -> None:
        self.reason = reason
        self.path = path
        self.detail = detail
        super().__init__(f"{reason}: {detail} (at {path})")


class UnsupportedValueTypeError(ValueEncodeError, TypeError):
    """A value of a type the Value union has no branch for (a ``TypeError`` as upstream's)."""


def _reachable_depth() -> int:
    """How many levels the recursive encoder can descend from the current call stack."""
    frame, used = sys._getframe(), 0
    while frame is not None:
        frame, used = frame.f_back, used + 1  # type: ignore[assignment]
    return sys.getrecursionlimit() - used - 2


def diagnose(value: Any) -> ValueEncodeError:
    """The typed error for what the fast encoder refused, found by walking ``value`` again.

    Only runs after the fast encoder failed, so its cost does not matter. As
    upstream checks kinds, ranges and keys over the whole value before its
    library meets a string, an unencodable string is only reported when
    nothing else is wrong. Nothing found means the encoder ran out of stack
    before the estimated depth (subclassed containers cost it two frames a level).
    """
    max_depth = _reachable_depth()
    error = _walk(value, max_depth, texts=False) or _walk(value, max_depth, texts=True)
    if error is None:
        return ValueEncodeError("nesting_too_deep", "$", "value is nested too deeply to encode")
    return error


def _walk(value: Any, max_depth: int, *, texts: bool) -> ValueEncodeError | None:
    """The first problem in encoding order, strings included when ``texts``.

    Walks without recursion, depth first, keeping the ids of the containers
    above the current element to tell a cycle from depth.
    """
    ancestors: list[int] = []
    pending: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while pending:
        item, path, depth = pending.pop()
        del ancestors[depth:]
        problem = _scalar_problem(item, path, texts)
        if problem is not None:
            return problem
        if not isinstance(item, (list, dict)):
            continue
        if id(item) in ancestors:
            return ValueEncodeError(
                "nesting_too_deep", _short(path), "value contains itself (a reference cycle)"
            )
        if depth >= max_depth:
            return ValueEncodeError(
                "nesting_too_deep",
                _short(path),
                f"value is nested deeper than the {max_depth} levels the encoder can reach here",
            )
        ancestors.append(id(item))
        children: list[tuple[Any, str, int]] = []
        if isinstance(item, list):
            children = [(child, f"{path}[{index}]", depth + 1) for index, child in enumerate(item)]
        else:
            for key, child in item.items():
                if not isinstance(key, str):
                    return ValueEncodeError(
                        "invalid_map_key",
                        path,
                        f"Avro Value maps require string keys, got {type(key).__name__} "
                        f"{key!r}; keys are never stringified",
                    )
                key_path = f"{path}[{_quoted(key)}]"
                problem = _text_problem(key, key_path) if texts else None
                if problem is not None:
                    return problem
                children.append((child, key_path, depth + 1))
        pending.extend(reversed(children))
    return None


def _scalar_problem(value: Any, path: str, texts: bool) -> ValueEncodeError | None:
    if value is None or isinstance(value, (bool, bytes, list, dict)):
        return None
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return None
        return ValueEncodeError(
            "integer_overflow", path, "Avro Value long must be within signed 64-bit range"
        )
    if isinstance(value, float):
        if value - value == 0.0:
            return None
        return ValueEncodeError("non_finite_float", path, "Avro Value doubles must be finite")
    if isinstance(value, str):
        return _text_problem(value, path) if texts else None
    return UnsupportedValueTypeError(
        "unsupported_value_type",
        path,
        f"adapt {type(value).__name__} to a canonical Avro Value kind before encoding",
    )


def _text_problem(text: str, path: str) -> ValueEncodeError | None:
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        return ValueEncodeError(
            "invalid_string", path, f"string is not encodable as UTF-8 ({exc.reason})"
        )
    return None


def _quoted(key: str) -> str:
    """A map key as a path step: JSON-quoted, non-ASCII kept unless it is a lone surrogate."""
    step = json.dumps(key, ensure_ascii=False)
    return step if _text_problem(step, "") is None else json.dumps(key)


_STEPS_SHOWN = 8


def _short(path: str) -> str:
    """A deep path cut to its first few steps."""
    steps = path.split("[")
    if len(steps) <= _STEPS_SHOWN + 1:
        return path
    return "[".join(steps[: _STEPS_SHOWN + 1]) + f"…({len(steps) - 1} levels)"
