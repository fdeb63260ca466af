"""Body guards without a server: depth scan, invalid-text fields, size limit while reading."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.requests import Request

from durable_workflow.server.http.body_limits import (
    MAX_JSON_DEPTH,
    ParsedBody,
    invalid_text_fields,
    json_depth,
    parse_json,
    read_limited,
)


def test_depth_counts_nesting_outside_strings_only() -> None:
    assert json_depth("{}") == 1
    assert json_depth('{"a": [1, {"b": []}]}') == 4
    assert json_depth('"[[[[[[["') == 0
    assert json_depth(r'["\"[[[", {"k": "]]]\\"}]') == 2
    assert json_depth("[" * 100_000) == 100_000


def test_deep_nesting_is_malformed_json_not_recursion() -> None:
    outcome = parse_json(b"[" * 5000 + b"]" * 5000)
    assert isinstance(outcome, tuple)
    status, body = outcome
    assert status == 400 and body["reason"] == "malformed_json"
    assert body["max_depth"] == MAX_JSON_DEPTH and "5000" in body["json_error"]


def test_nesting_at_the_limit_parses() -> None:
    raw = ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH).encode()
    parsed = parse_json(raw)
    assert isinstance(parsed, ParsedBody)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"s": "[" * 10_000})
    parsed = parse_json(text.encode())
    assert isinstance(parsed, ParsedBody) and parsed.value == {"s": "[" * 10_000}


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        (b'{"input": ["\\ud800"]}', ["input.0"]),
        (b'{"a": {"b": "x\\udfffy"}}', ["a.b"]),
        (b'"\\udc00"', ["body"]),
        (b'{"\\ud800": 1}', ["\\ud800"]),
        # raw UTF-8 encoded surrogate bytes (json decodes with surrogatepass)
        (b'{"k": "\xed\xa0\x80"}', ["k"]),
    ],
)
def test_lone_surrogates_name_their_field(raw: bytes, fields: list[str]) -> None:
    parsed = parse_json(raw)
    assert isinstance(parsed, ParsedBody)
    assert sorted(parsed.invalid_text) == fields
    for messages in parsed.invalid_text.values():
        json.dumps(messages).encode("utf-8")  # the 422 body itself is valid text
        assert "surrogate" in messages[0]


def test_surrogate_pairs_and_plain_text_are_fine() -> None:
    parsed = parse_json('{"rocket": "\\ud83d\\ude80", "é": "中"}'.encode())
    assert isinstance(parsed, ParsedBody)
    assert parsed.invalid_text == {} and parsed.value["rocket"] == "\U0001f680"


def test_invalid_text_walk_is_iterative() -> None:
    node: Any = "\ud800"
    for _ in range(5000):
        node = [node]
    assert invalid_text_fields(node) == [".".join(["0"] * 5000)]


@pytest.mark.parametrize("raw", [b"{", b"NaN", b"[1,]", b"\xff\xfe\x00"])
def test_malformed_bodies_are_400(raw: bytes) -> None:
    outcome = parse_json(raw)
    assert isinstance(outcome, tuple) and outcome[0] == 400
    assert outcome[1]["reason"] == "malformed_json"


def _request(chunks: list[bytes], headers: dict[str, str]) -> tuple[Request, list[int]]:
    pulled: list[int] = []

    async def receive() -> dict[str, Any]:
        pulled.append(1)
        index = len(pulled) - 1
        if index >= len(chunks):
            return {"type": "http.disconnect"}
        return {
            "type": "http.request",
            "body": chunks[index],
            "more_body": index < len(chunks) - 1,
        }

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope, receive), pulled


async def test_streamed_body_stops_at_the_limit() -> None:
    request, pulled = _request([b"x" * 100] * 50, {})
    outcome = await read_limited(request, 250)
    assert isinstance(outcome, tuple) and outcome[0] == 413 and outcome[1]["limit"] == 250
    assert len(pulled) == 3  # stopped at the chunk that crossed the limit


async def test_declared_length_is_refused_before_reading() -> None:
    request, pulled = _request([b"x"], {"content-length": "1000"})
    outcome = await read_limited(request, 999)
    assert isinstance(outcome, tuple) and outcome[0] == 413
    assert pulled == []


async def test_body_within_the_limit_is_returned_whole() -> None:
    request, _ = _request([b"ab", b"cd"], {})
    assert await read_limited(request, 4) == b"abcd"


async def test_client_leaving_mid_body_is_a_typed_error() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)
    outcome = await read_limited(request, 10)
    assert isinstance(outcome, tuple) and outcome[0] == 400


def test_integers_beyond_64_bits_read_as_floats_like_upstream() -> None:
    parsed = parse_json(b'{"a": 9223372036854775807, "b": 9223372036854775808, "c": -1}')
    assert isinstance(parsed, ParsedBody)
    assert parsed.value["a"] == 2**63 - 1 and isinstance(parsed.value["a"], int)
    assert isinstance(parsed.value["b"], float) and parsed.value["c"] == -1


@pytest.mark.parametrize("raw", [b"[1e400]", b'{"x": -1e999}', b"1" + b"0" * 400])
def test_numbers_out_of_float_range_are_malformed(raw: bytes) -> None:
    outcome = parse_json(raw)
    assert isinstance(outcome, tuple) and outcome[0] == 400
