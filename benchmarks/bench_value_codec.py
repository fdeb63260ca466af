"""Round trips/s of the 2.x Value codec against fastavro and upstream SDK 2.12.0.

Each contender does base64 text -> value -> base64 text on the same value and must
produce the same blob (asserted). Contenders:

- ours: ``converter._value_codec`` (pure Python);
- fastavro: ``schemaless_writer``/``schemaless_reader`` on the union datum
  prepared beforehand, plus the frame header and base64 — the C library's own
  cost, without turning Python values into datums and back;
- upstream 2.12.0: its ``_avro.encode``/``decode`` (fastavro plus its datum
  conversion), in a subprocess on the interpreter named by ``UPSTREAM_212_PYTHON``
  (``nox -s interop_codec`` creates one; ``nox -s bench`` finds it). Goal: ours
  >= 2x upstream at 100 B and >= 1x at 1 MB.

Rates are medians of alternating short runs, upstream's included, so load swings
on a shared machine land on every contender alike.
"""

from __future__ import annotations

import base64
import io
import json
import os
import statistics
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.bench_payloads import SIZES, rate, sample_value
from durable_workflow.converter._value_codec import (
    VALUE_FRAME_HEADER,
    decode_value_blob,
    encode_value_blob,
)

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM_SCRIPT = ROOT / "tests" / "interop" / "upstream_value_codec.py"
ROUNDS = 7
BIG_ROUNDS = 3  # for frames over 100 kB: a single fastavro or upstream round trip takes ~1 s
BUDGET = 0.1


def _schema_dir() -> Path:
    for base in (ROOT / "contracts" / "server-2.x", ROOT.parent / "shared/upstream/server-2.x"):
        if (base / "sdk-python" / "schema").is_dir():
            return base / "sdk-python" / "schema"
    raise SystemExit("the vendored Value schema is missing (contracts/server-2.x/sdk-python)")


def _benchmark_value() -> Any:
    """The vendored ``avro-value-benchmark-v1.json`` value (``$avro_bytes`` objects are bytes)."""

    def restore(node: Any) -> Any:
        if isinstance(node, dict):
            if list(node) == ["$avro_bytes"]:
                return base64.b64decode(node["$avro_bytes"])
            return {key: restore(item) for key, item in node.items()}
        if isinstance(node, list):
            return [restore(item) for item in node]
        return node

    document = json.loads((_schema_dir() / "avro-value-benchmark-v1.json").read_text())
    return restore(document["value"])


class Fastavro:
    """fastavro on the datum it reads back from our frame (record names kept)."""

    def __init__(self) -> None:
        from fastavro import parse_schema, schemaless_reader, schemaless_writer

        text = (_schema_dir() / "durable_workflow.protocol.Value.v1.avsc").read_text()
        self._schema = parse_schema(json.loads(text))
        self._read, self._write = schemaless_reader, schemaless_writer

    def decode(self, blob: str) -> Any:
        raw = base64.b64decode(blob, validate=True)
        if raw[:10] != VALUE_FRAME_HEADER:
            raise ValueError("not a Value frame")
        return self._read(io.BytesIO(raw[10:]), self._schema, None, return_record_name=True)

    def encode(self, datum: Any) -> str:
        buffer = io.BytesIO()
        buffer.write(VALUE_FRAME_HEADER)
        self._write(buffer, self._schema, datum)
        return base64.b64encode(buffer.getvalue()).decode("ascii")


def upstream_env() -> dict[str, str]:
    """The environment without PYTHONPATH, which may point at our own ``durable_workflow``."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


class Upstream:
    """Upstream 2.12.0's codec in a subprocess, measured on request."""

    def __init__(self, python: str) -> None:
        self._process = subprocess.Popen(
            [python, str(UPSTREAM_SCRIPT), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=upstream_env(),
        )

    def rate(self, blob: str, budget: float) -> float:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps({"blob": blob, "budget": budget}) + "\n")
        self._process.stdin.flush()
        answer = json.loads(self._process.stdout.readline())
        assert answer["blob"] == blob, "upstream 2.12.0 encodes this value differently"
        return float(answer["rate"])

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=30)


def _upstream() -> Upstream | None:
    python = os.environ.get("UPSTREAM_212_PYTHON")
    if not python:
        print("upstream 2.12.0: skipped (set UPSTREAM_212_PYTHON; nox -s interop_codec makes one)")
        return None
    return Upstream(python)


def _r(rate: float) -> str:
    """A rate with the digits that matter: whole numbers above 100/s, two decimals below."""
    return f"{rate:,.0f}" if rate >= 100 else f"{rate:.2f}"


def codec_rates() -> None:
    fast = Fastavro()
    upstream = _upstream()
    cases = [(label, sample_value(size)) for label, size in SIZES]
    cases.append(("bench-v1", _benchmark_value()))
    header = ("value", "frame B", "ours rt/s", "fastavro rt/s", "vs fa", "2.12.0 rt/s", "vs 2.12")
    print("{:>8}  {:>9}  {:>10}  {:>13}  {:>6}  {:>11}  {:>7}".format(*header))
    try:
        for label, value in cases:
            blob = encode_value_blob(value)
            datum = fast.decode(blob)
            assert fast.encode(datum) == blob, "fastavro encodes this value differently"
            assert decode_value_blob(blob) == value

            def ours(value: Any = value) -> None:
                decode_value_blob(encode_value_blob(value))

            def library(datum: Any = datum) -> None:
                fast.decode(fast.encode(datum))

            size = len(base64.b64decode(blob))
            samples: tuple[list[float], list[float], list[float]] = ([], [], [])
            for _ in range(ROUNDS if size < 100_000 else BIG_ROUNDS):
                samples[0].append(rate(ours, budget=BUDGET))
                samples[1].append(rate(library, budget=BUDGET))
                if upstream is not None:
                    samples[2].append(upstream.rate(blob, BUDGET))
            mine, lib = statistics.median(samples[0]), statistics.median(samples[1])
            line = f"{label:>8}  {size:>9,}  {_r(mine):>10}  {_r(lib):>13}  {mine / lib:>5.2f}x"
            if samples[2]:
                theirs = statistics.median(samples[2])
                line += f"  {_r(theirs):>11}  {mine / theirs:>6.2f}x"
            print(line, flush=True)
    finally:
        if upstream is not None:
            upstream.close()


def main() -> None:
    codec_rates()


if __name__ == "__main__":
    main()
