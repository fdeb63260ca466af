"""The Value codec on generated corpora: against fastavro always, upstream 2.12.0 on request.

fastavro with the vendored ``.avsc`` is the independent reference for the bytes
and for reading them back. Upstream SDK 2.12.0 itself runs in its own venv
(``UPSTREAM_212_PYTHON``, set by ``nox -s interop_codec``): it encodes the same
corpus and decodes our frames, and must agree blob for blob and reason for reason.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from value_codec_support import FastavroValue, bad_values, load_json, to_datum, values

from durable_workflow.converter._value_codec import (
    ValueEncodeError,
    decode_value,
    decode_value_blob,
    encode_value,
    encode_value_blob,
)

UPSTREAM_SCRIPT = Path(__file__).resolve().parents[2] / "interop" / "upstream_value_codec.py"
FASTAVRO = FastavroValue()
_STEP = re.compile(r'\[(\d+|"(?:[^"\\]|\\.)*")\]')


def _same(left: Any, right: Any) -> bool:
    """Equality that also tells -0.0 from 0.0 and keeps map order and exact types."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, float):
        return repr(left) == repr(right)
    return bool(left == right)


def _follow(value: Any, path: str) -> Any:
    """The element a ``$[0]["key"]`` path names."""
    assert path.startswith("$")
    steps = _STEP.findall(path[1:])
    assert "".join(f"[{step}]" for step in steps) == path[1:], path
    for step in steps:
        value = value[json.loads(step)]
    return value


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
def test_bytes_equal_fastavros_and_both_read_them_back(value: Any) -> None:
    frame = encode_value(value)
    assert frame == FASTAVRO.encode(value)
    assert FASTAVRO.decode_datum(frame) == to_datum(value)
    assert _same(decode_value(frame), value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=bad_values)
def test_refused_values_name_an_offending_element(value: Any) -> None:
    with pytest.raises(ValueEncodeError) as caught:
        encode_value(value)
    culprit = _follow(value, caught.value.path)
    reason = caught.value.reason
    if reason == "invalid_map_key":
        assert any(not isinstance(key, str) for key in culprit)
    else:
        with pytest.raises((ValueEncodeError, TypeError)):
            encode_value(culprit)


def _collect(strategy: Any, count: int) -> list[Any]:
    """``count`` examples of ``strategy`` (hypothesis drives the search, nothing can fail)."""
    found: list[Any] = []

    @settings(max_examples=count, deadline=None, database=None)
    @given(strategy)
    def take(example: Any) -> None:
        found.append(example)

    take()
    return found


def _upstream(entries: list[Any]) -> list[tuple[str, Any]]:
    python = os.environ.get("UPSTREAM_212_PYTHON")
    if not python:
        pytest.skip("UPSTREAM_212_PYTHON is not set (`nox -s interop_codec` sets it)")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run(
        [python, str(UPSTREAM_SCRIPT), "corpus"],
        input=pickle.dumps(entries),
        capture_output=True,
        env=env,
        check=True,
        timeout=300,
    )
    answers: list[tuple[str, Any]] = pickle.loads(done.stdout)
    assert len(answers) == len(entries)
    return answers


# What upstream 2.12.0 raises where it has no reason of its own.
_UPSTREAM_CRASHES = {"UnicodeEncodeError": "invalid_string", "RecursionError": "nesting_too_deep"}


def test_upstream_212_encodes_the_corpus_exactly_as_we_do() -> None:
    corpus = _collect(values, 500)
    refused = _collect(bad_values, 200)
    answers = _upstream(corpus + refused)
    for value, (status, blob) in zip(corpus, answers[: len(corpus)], strict=True):
        assert status == "ok", (value, blob)
        assert blob == encode_value_blob(value), value
    for value, (status, reason) in zip(refused, answers[len(corpus) :], strict=True):
        assert status == "error", value
        with pytest.raises(ValueEncodeError) as caught:
            encode_value(value)
        assert caught.value.reason == _UPSTREAM_CRASHES.get(reason, reason), value


def test_upstream_212_decodes_our_frames_and_the_golden_vectors_as_we_do() -> None:
    golden = load_json("schema/avro-value-v1-golden.json")
    blobs = [encode_value_blob(value) for value in _collect(values, 300)]
    blobs += [case["wire_base64"] for case in golden["cases"]]
    malformed = golden["malformed_frames"]
    requests = [("decode", blob) for blob in blobs + [m["wire_base64"] for m in malformed]]
    answers = _upstream(requests)
    for blob, (status, value) in zip(blobs, answers[: len(blobs)], strict=True):
        assert status == "ok", blob
        assert _same(value, decode_value_blob(blob)), blob
    for case, (status, reason) in zip(malformed, answers[len(blobs) :], strict=True):
        assert (status, reason) == ("error", case["error"]), case["name"]
