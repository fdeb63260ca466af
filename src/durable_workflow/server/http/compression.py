"""Response and history compression (worker-protocol.md §1, §9.3).

``gzip`` is RFC 1952; ``deflate`` is a *raw* RFC 1951 stream (no zlib
header), as upstream's PHP ``gzdeflate``. gzip wins ties.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import zlib
from typing import Any

ENCODINGS = ("gzip", "deflate")
RESPONSE_THRESHOLD_BYTES = 1024
HISTORY_THRESHOLD_EVENTS = 50


# zlib's fastest level: responses are a few KiB of JSON, mostly to a client on the same
# host; level 9 (gzip's default) cost several times the CPU for a few per cent of size.
LEVEL = 1


def compress(data: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=LEVEL)
    packer = zlib.compressobj(LEVEL, wbits=-15)
    return packer.compress(data) + packer.flush()


@functools.lru_cache(maxsize=64)  # a client sends the same header on every request
def choose_response_encoding(accept_encoding: str | None) -> str | None:
    """The encoding to use for an ``Accept-Encoding`` header (q > 0, ``*`` counts)."""
    if not accept_encoding:
        return None
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        weights[name.strip().lower()] = quality
    best: tuple[float, str] | None = None
    for encoding in ENCODINGS:
        quality = weights.get(encoding, weights.get("*", 0.0))
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, encoding)
    return None if best is None else best[1]


def compress_history(body: dict[str, Any], accept: Any) -> dict[str, Any]:
    """A copy of a task/history body with its events compressed when asked and large."""
    if not isinstance(accept, str):
        return body
    names = {part.strip().lower() for part in accept.split(",")}
    encoding = next((e for e in ENCODINGS if e in names), None)
    events = body.get("history_events")
    if encoding is None or not isinstance(events, list) or len(events) < HISTORY_THRESHOLD_EVENTS:
        return body
    raw = json.dumps(events, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    out = dict(body)
    out["history_events"] = []
    out["history_events_compressed"] = base64.b64encode(compress(raw, encoding)).decode("ascii")
    out["history_events_encoding"] = encoding
    return out
