"""Payload codec chain: framing, gzip, AES-GCM, chaining, and refusal of unknown frames."""

from __future__ import annotations

import base64
import gzip
import os
import sys

import pytest

from durable_workflow import serializer
from durable_workflow.codecs import (
    AesGcmCodec,
    CodecChain,
    GzipCodec,
    PayloadCodec,
    PayloadCodecError,
    decode_blob,
    encode_blob,
    frame,
    framed_codec_name,
    unframe,
)

KEY = bytes(range(32))
BIG = serializer.encode({"rows": [{"id": i, "name": "Ada Lovelace"} for i in range(200)]})


def test_frames_are_recognised_and_plain_blobs_are_not() -> None:
    framed = frame("gzip", b"body")
    assert unframe(framed) == ("gzip", b"body")
    assert framed_codec_name(framed) == "gzip"
    for plain in ("AAhudWxsAg==", '"hello Ada"', "[1,2]", "", "/0RX not base64"):
        assert framed_codec_name(plain) is None
    base64.b64decode(framed, validate=True)  # still standard base64 text


def test_codecs_satisfy_the_protocol() -> None:
    assert isinstance(GzipCodec(), PayloadCodec)
    assert isinstance(AesGcmCodec(KEY), PayloadCodec)
    assert isinstance(CodecChain([]), PayloadCodec)


def test_no_codec_leaves_the_wire_unchanged() -> None:
    assert encode_blob(BIG, None) == BIG
    assert decode_blob(BIG, None) == BIG


def test_gzip_round_trip_and_compression() -> None:
    codec = GzipCodec()
    encoded = codec.encode(BIG)
    assert framed_codec_name(encoded) == "gzip"
    assert len(encoded) < len(BIG) // 3
    assert codec.decode(encoded) == BIG
    assert codec.encode("AAhudWxsAg==") == "AAhudWxsAg=="  # below min_bytes: stays plain
    assert codec.decode("AAhudWxsAg==") == "AAhudWxsAg=="


def test_gzip_refuses_corrupt_truncated_and_oversized_data() -> None:
    codec = GzipCodec(max_decoded_bytes=1000)
    with pytest.raises(PayloadCodecError, match="corrupt"):
        codec.decode(frame("gzip", b"not gzip at all"))
    whole = gzip.compress(b"a" * 500)
    with pytest.raises(PayloadCodecError, match="truncated"):
        codec.decode(frame("gzip", whole[: len(whole) // 2]))
    bomb = frame("gzip", gzip.compress(b"a" * 10_000))
    with pytest.raises(PayloadCodecError, match="max_decoded_bytes"):
        codec.decode(bomb)


def test_aes_gcm_round_trip_is_randomised() -> None:
    codec = AesGcmCodec(KEY)
    first, second = codec.encode(BIG), codec.encode(BIG)
    assert first != second  # fresh nonce per payload
    assert codec.decode(first) == BIG == codec.decode(second)
    assert "Ada" not in base64.b64decode(first).decode("latin-1")


def test_aes_gcm_detects_tampering_and_wrong_keys() -> None:
    codec = AesGcmCodec(KEY)
    raw = bytearray(base64.b64decode(codec.encode("secret payload")))
    raw[-1] ^= 0x01
    with pytest.raises(PayloadCodecError, match="authentication"):
        codec.decode(base64.b64encode(bytes(raw)).decode())
    other = AesGcmCodec({"default": os.urandom(32)})
    with pytest.raises(PayloadCodecError, match="authentication"):
        other.decode(codec.encode("secret payload"))


def test_aes_gcm_key_rotation_reads_old_key_ids() -> None:
    old_key, new_key = os.urandom(32), os.urandom(16)
    old = AesGcmCodec({"k1": old_key})
    written = old.encode("from before rotation")
    rotated = AesGcmCodec({"k1": old_key, "k2": new_key}, key_id="k2")
    assert rotated.decode(written) == "from before rotation"
    assert rotated.decode(rotated.encode("new")) == "new"
    with pytest.raises(PayloadCodecError, match="unknown key id 'k2'"):
        old.decode(rotated.encode("new"))


def test_aes_gcm_refuses_plaintext_unless_migrating() -> None:
    with pytest.raises(PayloadCodecError, match="not AES-GCM encrypted"):
        AesGcmCodec(KEY).decode("AAhudWxsAg==")
    assert AesGcmCodec(KEY, allow_plaintext=True).decode("AAhudWxsAg==") == "AAhudWxsAg=="


def test_aes_gcm_validates_keys() -> None:
    with pytest.raises(ValueError, match="16, 24 or 32"):
        AesGcmCodec(b"short")
    with pytest.raises(ValueError, match="not among"):
        AesGcmCodec({"a": KEY}, key_id="b")
    with pytest.raises(ValueError):
        AesGcmCodec({})


def test_aes_gcm_without_cryptography_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name == "cryptography" or name.startswith("cryptography."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)
    with pytest.raises(ImportError, match=r"durable-workflow\[encryption\]"):
        AesGcmCodec(KEY)


def test_chain_applies_in_order_and_undoes_in_reverse() -> None:
    chain = CodecChain([GzipCodec(), AesGcmCodec(KEY)])
    encoded = chain.encode(BIG)
    assert framed_codec_name(encoded) == "aes-gcm"  # encryption is outermost
    inner = AesGcmCodec(KEY).decode(encoded)
    assert framed_codec_name(inner) == "gzip"
    assert chain.decode(encoded) == BIG
    assert decode_blob(encode_blob(BIG, chain), chain) == BIG


def test_a_blob_framed_by_an_unconfigured_codec_is_refused() -> None:
    encoded = AesGcmCodec(KEY).encode(BIG)
    with pytest.raises(PayloadCodecError, match="'aes-gcm'"):
        decode_blob(encoded, None)
    with pytest.raises(PayloadCodecError, match="'aes-gcm'"):
        decode_blob(encoded, GzipCodec())


def test_json_codec_blobs_go_through_the_chain_too() -> None:
    blob = serializer.encode({"text": "é" * 400}, "json")
    chain = CodecChain([GzipCodec()])
    assert serializer.decode(decode_blob(encode_blob(blob, chain), chain), "json") == {
        "text": "é" * 400
    }
