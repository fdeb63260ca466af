"""Upstream durable-workflow 2.12.0's Value codec, driven over stdin/stdout by our tests and bench.

Run with the interpreter of a venv that has the *upstream* package (same import
name, so never the project venv). Values travel as pickles of plain built-ins,
which both interpreters read exactly (bytes, big ints, -0.0, key order).

``python upstream_value_codec.py corpus``: stdin holds a pickled list of values
and of ``("decode", blob)`` requests; stdout gets a pickled list with, per entry,
``("ok", blob)`` / ``("ok", value)`` or ``("error", reason)`` (the text before
the first colon of upstream's message, or the exception's type name when
upstream has no reason).

``python upstream_value_codec.py serve``: one JSON request a line,
``{"blob": ..., "budget": seconds}``; answers ``{"rate": round trips/s, "blob": ...}``
for ``decode(encode(value))`` on the value the blob holds.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from typing import Any

from durable_workflow import _avro as upstream


def _reason(exc: BaseException) -> str:
    text = str(exc)
    head = text.split(":", 1)[0]
    return head if ":" in text and head.isidentifier() else type(exc).__name__


def _answer(entry: Any) -> tuple[str, Any]:
    try:
        if isinstance(entry, tuple) and entry[:1] == ("decode",):
            return "ok", upstream.decode(entry[1])
        return "ok", upstream.encode(entry)
    except Exception as exc:  # every upstream failure is data for the comparison
        return "error", _reason(exc)


def corpus() -> None:
    entries = pickle.load(sys.stdin.buffer)
    pickle.dump([_answer(entry) for entry in entries], sys.stdout.buffer)


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        value = upstream.decode(request["blob"])
        blob = upstream.encode(value)
        upstream.decode(blob)
        count, started = 0, time.perf_counter()
        while True:
            upstream.decode(upstream.encode(value))
            count += 1
            elapsed = time.perf_counter() - started
            if elapsed >= request["budget"] and count >= 3:
                break
        print(json.dumps({"rate": count / elapsed, "blob": blob}), flush=True)


if __name__ == "__main__":
    {"corpus": corpus, "serve": serve}[sys.argv[1]]()
