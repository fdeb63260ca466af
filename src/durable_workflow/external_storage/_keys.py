"""Object keys and URIs shared by every driver (payloads.md §5.4).

Key layout: ``[<prefix>/]<codec>/<sha256[:2]>/<sha256>``. Readers refuse a URI
whose scheme or bucket differs from their configuration, whose key is not
under the configured prefix, or that contains ``.``/``..``/empty segments.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from durable_workflow.external_storage._errors import (
    ExternalPayloadReferenceError,
    ExternalStorageLocationError,
)
from durable_workflow.external_storage._reference import validate_sha256

_CODEC_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
# RFC 3986 path characters that need no percent-encoding, so a key reads the same
# in a URI and in the bucket.
_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@-]+")


def codec_segment(codec: str) -> str:
    """The codec as a key segment; refuses anything that could escape the layout."""
    if not isinstance(codec, str) or _CODEC_SEGMENT.fullmatch(codec) is None:
        raise ExternalPayloadReferenceError(
            "codec", f"{codec!r} is not usable in an object key (allowed: A-Z a-z 0-9 _ . -)"
        )
    if codec in (".", ".."):
        raise ExternalPayloadReferenceError("codec", f"{codec!r} is not a codec name")
    return codec


def normalize_prefix(prefix: str) -> str:
    """Strip surrounding slashes; refuse empty, ``.``/``..`` or URI-unsafe segments."""
    cleaned = (prefix or "").strip("/")
    if not cleaned:
        return ""
    for part in cleaned.split("/"):
        if part in ("", ".", "..") or _PREFIX_SEGMENT.fullmatch(part) is None:
            raise ExternalStorageLocationError(
                f"storage prefix {prefix!r} has an unsafe segment {part!r}"
            )
    return cleaned


def object_key(prefix: str, *, sha256: str, codec: str) -> str:
    """The object key of a blob with this hash and codec under ``prefix``."""
    digest = validate_sha256(sha256).lower()
    key = f"{codec_segment(codec)}/{digest[:2]}/{digest}"
    return f"{prefix}/{key}" if prefix else key


def object_uri(scheme: str, bucket: str, key: str) -> str:
    return f"{scheme}://{bucket}/{key}"


def parse_object_uri(uri: str, *, schemes: tuple[str, ...], bucket: str, prefix: str) -> str:
    """Return the key of ``uri`` after checking scheme, bucket, prefix and traversal."""
    if not isinstance(uri, str) or not uri:
        raise ExternalStorageLocationError("external payload URI must be a non-empty string")
    parts = urlsplit(uri)
    if parts.scheme not in schemes:
        raise ExternalStorageLocationError(
            f"URI {uri!r} has scheme {parts.scheme!r}; this driver reads "
            + " or ".join(f"{s}://" for s in schemes)
        )
    if parts.netloc != bucket:
        raise ExternalStorageLocationError(
            f"URI {uri!r} names bucket {parts.netloc!r}, but this driver is configured "
            f"for {bucket!r}"
        )
    if parts.query or parts.fragment:
        raise ExternalStorageLocationError(f"URI {uri!r} must not carry a query or fragment")
    key = parts.path[1:] if parts.path.startswith("/") else parts.path
    segments = key.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ExternalStorageLocationError(
            f"URI {uri!r} has an empty, '.' or '..' path segment; refusing to resolve it"
        )
    if prefix and not key.startswith(prefix + "/"):
        raise ExternalStorageLocationError(
            f"URI {uri!r} is outside the configured prefix {prefix!r}"
        )
    return key
