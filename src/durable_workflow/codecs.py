"""Payload codec chain: transforms of the encoded blob string (compression, encryption).

Beyond upstream. A :class:`PayloadCodec` maps an encoded blob (``avro``
base64 or ``json`` text) to another string and back; codecs chain, applied in
order on the way out and in reverse on the way in. The transformed blob keeps
its envelope codec label (``avro``/``json``) so the server, which treats blobs
as opaque, accepts it unchanged; a frame marks it so a reader can tell it was
transformed and by which codec::

    blob = base64( b"\\xffDWC" || len(name) || name || body )

``0xff`` can start neither an ``avro`` payload (``0x00``/``0x01``) nor JSON
text, so plain blobs and framed ones never collide. Off by default: with no
codec configured, the wire is byte-identical to upstream.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import os
import zlib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from durable_workflow.errors import DurableWorkflowError

__all__ = [
    "AesGcmCodec",
    "CodecChain",
    "GzipCodec",
    "PayloadCodec",
    "PayloadCodecError",
    "decode_blob",
    "encode_blob",
    "frame",
    "framed_codec_name",
    "unframe",
]

_MAGIC = b"\xffDWC"
# base64 of the magic's first three bytes: a cheap string test before decoding.
_MAGIC_B64 = base64.b64encode(_MAGIC[:3]).decode("ascii")


class PayloadCodecError(DurableWorkflowError, ValueError):
    """A transformed blob cannot be restored (corrupt, wrong key, codec not configured)."""


@runtime_checkable
class PayloadCodec(Protocol):
    """Transforms an encoded blob string; ``decode(encode(b)) == b`` for every blob."""

    def encode(self, blob: str) -> str: ...

    def decode(self, blob: str) -> str: ...


def frame(name: str, body: bytes) -> str:
    """Wrap a codec's output so readers can recognise it (see the module docstring)."""
    label = name.encode("ascii")
    if not 0 < len(label) < 256:
        raise ValueError("payload codec name must be 1..255 ASCII characters")
    return base64.b64encode(_MAGIC + bytes((len(label),)) + label + body).decode("ascii")


def unframe(blob: str) -> tuple[str, bytes] | None:
    """``(name, body)`` of a framed blob, or ``None`` for a plain one."""
    if not blob.startswith(_MAGIC_B64):
        return None
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(_MAGIC) or len(raw) < len(_MAGIC) + 1:
        return None
    size = raw[len(_MAGIC)]
    start = len(_MAGIC) + 1
    label = raw[start : start + size]
    if len(label) != size:
        raise PayloadCodecError("framed payload is truncated inside its codec name")
    try:
        name = label.decode("ascii")
    except UnicodeDecodeError as exc:
        raise PayloadCodecError("framed payload has a non-ASCII codec name") from exc
    return name, raw[start + size :]


def framed_codec_name(blob: str | None) -> str | None:
    """Name of the codec that framed ``blob``, or ``None`` when it is plain."""
    if not blob:
        return None
    found = unframe(blob)
    return found[0] if found else None


class CodecChain:
    """Several codecs as one: encode in the given order, decode in reverse."""

    def __init__(self, codecs: Iterable[PayloadCodec]) -> None:
        self.codecs: tuple[PayloadCodec, ...] = tuple(codecs)

    def encode(self, blob: str) -> str:
        for codec in self.codecs:
            blob = codec.encode(blob)
        return blob

    def decode(self, blob: str) -> str:
        for codec in reversed(self.codecs):
            blob = codec.decode(blob)
        return blob


def encode_blob(blob: str, payload_codec: PayloadCodec | None) -> str:
    """Apply the configured codec (``None``: unchanged) to an outgoing blob."""
    return blob if payload_codec is None or not blob else payload_codec.encode(blob)


def decode_blob(blob: str, payload_codec: PayloadCodec | None) -> str:
    """Undo the configured codec on an incoming blob.

    A blob that is still framed afterwards was written by a codec this reader
    does not have: that is an error naming it, never garbage handed to the
    deserialiser.
    """
    if not blob:
        return blob
    if payload_codec is not None:
        blob = payload_codec.decode(blob)
    name = framed_codec_name(blob)
    if name is not None:
        raise PayloadCodecError(
            f"payload was encoded with payload codec {name!r}, which is not configured here"
        )
    return blob


class GzipCodec:
    """gzip compression of blobs of at least ``min_bytes`` (smaller ones stay plain).

    Decoding refuses output larger than ``max_decoded_bytes``, so a hostile
    blob cannot expand without bound.
    """

    name = "gzip"

    def __init__(
        self, *, level: int = 6, min_bytes: int = 256, max_decoded_bytes: int = 256 * 1024 * 1024
    ) -> None:
        if not 0 <= level <= 9:
            raise ValueError("gzip level must be 0..9")
        self.level = level
        self.min_bytes = min_bytes
        self.max_decoded_bytes = max_decoded_bytes

    def encode(self, blob: str) -> str:
        data = blob.encode("utf-8")
        if len(data) < self.min_bytes:
            return blob
        return frame(self.name, gzip.compress(data, compresslevel=self.level, mtime=0))

    def decode(self, blob: str) -> str:
        found = unframe(blob)
        if found is None or found[0] != self.name:
            return blob
        inflater = zlib.decompressobj(wbits=31)
        try:
            data = inflater.decompress(found[1], self.max_decoded_bytes + 1)
        except zlib.error as exc:
            raise PayloadCodecError(f"gzip payload is corrupt: {exc}") from exc
        if len(data) > self.max_decoded_bytes or inflater.unconsumed_tail:
            raise PayloadCodecError(
                f"gzip payload expands beyond max_decoded_bytes={self.max_decoded_bytes}"
            )
        if not inflater.eof:
            raise PayloadCodecError("gzip payload is truncated")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadCodecError("gzip payload does not hold UTF-8 text") from exc


def _aesgcm_class() -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as exc:
        raise ImportError(
            "AesGcmCodec needs the 'cryptography' package; install it with "
            "pip install 'durable-workflow[encryption]'"
        ) from exc
    return AESGCM


class AesGcmCodec:
    """AES-GCM encryption of every blob, with key ids for rotation.

    ``keys`` maps key id -> 16/24/32-byte key; new blobs use ``key_id``, old
    ones decrypt with whichever key id they name. The frame body is
    ``len(key_id) || key_id || 12-byte nonce || ciphertext+tag``, and the key
    id is authenticated as associated data. A plain (unencrypted) incoming
    blob is refused unless ``allow_plaintext=True`` (for migrating existing
    histories), so a writer without the key cannot inject payloads.
    Needs the ``encryption`` extra.
    """

    name = "aes-gcm"

    def __init__(
        self,
        keys: Mapping[str, bytes] | bytes,
        *,
        key_id: str | None = None,
        allow_plaintext: bool = False,
    ) -> None:
        aesgcm = _aesgcm_class()
        table = {"default": keys} if isinstance(keys, (bytes, bytearray)) else dict(keys)
        if not table:
            raise ValueError("AesGcmCodec needs at least one key")
        self._ciphers: dict[str, Any] = {}
        for kid, key in table.items():
            if not 0 < len(kid.encode("utf-8")) < 256:
                raise ValueError("AES-GCM key ids must be 1..255 bytes")
            if len(key) not in (16, 24, 32):
                raise ValueError(f"AES-GCM key {kid!r} must be 16, 24 or 32 bytes")
            self._ciphers[kid] = aesgcm(bytes(key))
        self.key_id = key_id if key_id is not None else next(iter(table))
        if self.key_id not in self._ciphers:
            raise ValueError(f"key_id {self.key_id!r} is not among the keys")
        self.allow_plaintext = allow_plaintext

    def encode(self, blob: str) -> str:
        kid = self.key_id.encode("utf-8")
        header = bytes((len(kid),)) + kid
        nonce = os.urandom(12)
        sealed = self._ciphers[self.key_id].encrypt(nonce, blob.encode("utf-8"), header)
        return frame(self.name, header + nonce + sealed)

    def decode(self, blob: str) -> str:
        found = unframe(blob)
        if found is None or found[0] != self.name:
            if self.allow_plaintext:
                return blob
            raise PayloadCodecError("payload is not AES-GCM encrypted and allow_plaintext is off")
        body = found[1]
        if not body:
            raise PayloadCodecError("AES-GCM payload is empty")
        end = 1 + body[0]
        kid = body[1:end].decode("utf-8", errors="replace")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise PayloadCodecError(f"AES-GCM payload uses unknown key id {kid!r}")
        nonce, sealed = body[end : end + 12], body[end + 12 :]
        if len(nonce) != 12 or len(sealed) < 16:
            raise PayloadCodecError("AES-GCM payload is truncated")
        try:
            plain = cipher.decrypt(nonce, sealed, body[:end])
        except Exception as exc:  # cryptography's InvalidTag: tampered or wrong key
            raise PayloadCodecError(
                f"AES-GCM payload failed authentication (key id {kid!r}): tampered or wrong key"
            ) from exc
        return bytes(plain).decode("utf-8")
