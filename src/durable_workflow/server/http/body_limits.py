"""Reading and parsing request bodies without letting client input crash the server.

Three guards run before anything recurses into a body or stores its text:

- size: the body is read chunk by chunk and refused with 413 ``payload_too_large``
  as soon as it passes the limit (a declared ``Content-Length`` is refused before
  reading at all), so a chunked upload is never buffered beyond the limit;
- depth: a non-recursive scan counts bracket nesting outside string literals before
  :func:`json.loads` runs (the stdlib parser recurses and raises ``RecursionError``
  on a few thousand levels); deeper than :data:`MAX_JSON_DEPTH` is a 400
  ``malformed_json``, as upstream's parser (PHP ``json_decode``, depth 512) reports;
- text: a lone UTF-16 surrogate (``"\\ud800"`` is valid JSON text but no Unicode
  string) cannot be encoded, stored or echoed; the fields holding one are named so
  the pipeline answers 422 ``validation_failed`` at its validation step.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from starlette.requests import ClientDisconnect, Request

from durable_workflow.server.engine.errors import Outcome

# PHP json_decode's default depth: what the real server's parser accepts.
MAX_JSON_DEPTH = 512
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ACCEPTED_TYPES = ["application/json", "application/*+json"]

# A JSON string literal (unrolled loop: no per-character alternation).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# A raw surrogate code point (bytes decoded with surrogatepass) or a \uD800-\uDFFF escape.
_SURROGATE_CHAR = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@dataclass(frozen=True)
class ParsedBody:
    """A parsed JSON body (``None`` when empty) and the fields that hold invalid text."""

    value: Any = None
    invalid_text: dict[str, list[str]] = field(default_factory=dict)


def too_large(limit: int) -> Outcome:
    return 413, {
        "message": f"The request body is larger than {limit} bytes.",
        "reason": "payload_too_large",
        "limit": limit,
    }


def malformed(detail: str, **extra: Any) -> Outcome:
    return 400, {
        "message": "The request body is not valid JSON.",
        "reason": "malformed_json",
        "json_error": detail,
        **extra,
    }


async def read_limited(request: Request, limit: int) -> bytes | Outcome:
    """The whole body, or 413 once it passes ``limit`` (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdecimal() and int(declared) > limit:
        return too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        return malformed("The client disconnected before the body was complete.")
    return b"".join(chunks)


def json_depth(text: str) -> int:
    """The deepest bracket nesting of JSON ``text``, found without recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(_STEP[ch] for ch in brackets), default=0)


def _printable(key: str) -> str:
    """A key as it can appear in a response (lone surrogates escaped)."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _is_invalid(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def invalid_text_fields(value: Any) -> list[str]:
    """Dot paths of every string (or key) that holds a lone surrogate; ``body`` for the root."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            if _is_invalid(node):
                found.append(path or "body")
        elif isinstance(node, dict):
            for key, item in node.items():
                child = f"{path}.{_printable(key)}" if path else _printable(key)
                if _is_invalid(key):
                    found.append(child)
                stack.append((child, item))
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(node))
    return sorted(set(found))


def _reject_constant(name: str) -> Any:
    """``NaN``/``Infinity`` are not JSON (upstream's parser refuses them too)."""
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    """``1e400`` would parse as infinity, which no JSON response can carry back."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _php_int(text: str) -> int | float:
    """Integers beyond 64 bits become floats, as upstream's parser (PHP) reads them, so an
    integer field answers 422 instead of overflowing a timestamp or a SQLite column."""
    value = int(text)
    return value if INT64_MIN <= value <= INT64_MAX else _finite_float(text)


def parse_json(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> ParsedBody | Outcome:
    """Parse a non-empty body: the value and its invalid-text fields, or 400."""
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except (UnicodeDecodeError, LookupError) as exc:
        return malformed(str(exc))
    # Fewer opening brackets than the limit (strings included) cannot nest deeper.
    depth = json_depth(text) if text.count("[") + text.count("{") > max_depth else 0
    if depth > max_depth:
        return malformed(
            f"Maximum nesting depth of {max_depth} exceeded ({depth} levels).",
            max_depth=max_depth,
        )
    try:
        value = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_php_int
        )
    except ValueError as exc:
        return malformed(_printable(str(exc)))
    except RecursionError:  # the scan above makes this unreachable; never a 500 regardless
        return malformed(f"Maximum nesting depth of {max_depth} exceeded.", max_depth=max_depth)
    if not (_SURROGATE_CHAR.search(text) or _SURROGATE_ESCAPE.search(text)):
        return ParsedBody(value)
    errors = {
        path: [f"The {path} field must be valid Unicode text: it holds a lone UTF-16 surrogate."]
        for path in invalid_text_fields(value)
    }
    return ParsedBody(value, errors)


async def read_json_body(request: Request, limit: int) -> ParsedBody | Outcome:
    """The body checks of the protocol's check order: 413, then 415, then 400."""
    raw = await read_limited(request, limit)
    if isinstance(raw, tuple):
        return raw
    if not raw.strip():
        return ParsedBody()
    if request.method.upper() in BODY_METHODS:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            return 415, {
                "message": "Request bodies must be JSON.",
                "reason": "unsupported_media_type",
                "accepted_content_types": ACCEPTED_TYPES,
            }
    return parse_json(raw)
