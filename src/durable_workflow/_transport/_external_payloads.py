"""The 2.x server-mediated external payload transport (``/api/external-payloads/v1``).

A 2.x namespace may keep large payloads itself: its discovery document advertises
``namespace.external_payload_storage.transport`` (the vendored
``external-payload-transport.openapi.yaml``). Then the SDK uploads every ``avro`` blob
larger than the namespace's ``threshold_bytes`` (the blob text's UTF-8 bytes, with
their size and SHA-256 in headers) and sends ``{codec, external_payload: reference}``
instead; references in answers are fetched and verified (headers, size, SHA-256)
before anything decodes them. Runtime credentials only: no provider URI or storage
credential ever reaches the SDK. Servers that do not advertise it are left alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import httpx

from durable_workflow.errors import ExternalPayloadTransportError

__all__ = [
    "ExternalPayloadTransportError",
    "PayloadExchange",
    "RuntimePayloadTransport",
    "contains_reference",
    "externalize",
    "resolve",
]

TRANSPORT_SCHEMA: Final = "durable-workflow.v2.runtime-external-payload-transport.v1"
REFERENCE_SCHEMA: Final = "durable-workflow.v2.runtime-external-payload-reference.v1"
UPLOAD_SCHEMA: Final = "durable-workflow.v2.runtime-external-payload-upload.v1"
UPLOAD_PATH: Final = "/api/external-payloads/v1"
FETCH_PATH: Final = "/api/external-payloads/v1/{referenceId}"
_CODEC = "avro"
_REFERENCE_ID = re.compile(r"^ep_[0-9A-HJKMNP-TV-Z]{26}$")
_SHA256 = re.compile(r"^[a-f0-9]{64}$")


@dataclass(frozen=True)
class RuntimePayloadTransport:
    """What a 2.x namespace advertises for its server-mediated payload storage."""

    threshold_bytes: int
    max_payload_bytes: int
    request_timeout_seconds: float
    available: bool

    @classmethod
    def from_cluster_info(cls, info: Mapping[str, Any] | None) -> RuntimePayloadTransport | None:
        """The advertised transport, ``None`` when the namespace has none.

        A manifest with another schema, version, route or unusable limits is an
        ``ExternalPayloadTransportError``: guessing would send payloads nowhere.
        """
        namespace = info.get("namespace") if isinstance(info, Mapping) else None
        policy = (
            namespace.get("external_payload_storage") if isinstance(namespace, Mapping) else None
        )
        manifest = policy.get("transport") if isinstance(policy, Mapping) else None
        if not isinstance(manifest, Mapping) or not isinstance(policy, Mapping):
            return None
        upload, fetch = manifest.get("upload"), manifest.get("fetch")
        limits = manifest.get("limits")
        limits = limits if isinstance(limits, Mapping) else {}
        threshold, maximum = policy.get("threshold_bytes"), limits.get("max_payload_bytes")
        timeout = limits.get("request_timeout_seconds")
        problem = None
        if manifest.get("schema") != TRANSPORT_SCHEMA or manifest.get("version") != 1:
            problem = "transport schema or version is not the one this SDK speaks"
        elif manifest.get("reference_schema") != REFERENCE_SCHEMA:
            problem = "reference schema is not the one this SDK speaks"
        elif not (
            isinstance(upload, Mapping)
            and upload.get("method") == "POST"
            and upload.get("path") == UPLOAD_PATH
            and isinstance(fetch, Mapping)
            and fetch.get("method") == "GET"
            and fetch.get("path_template") == FETCH_PATH
        ):
            problem = "upload/fetch routes are not the published ones"
        elif type(threshold) is not int or threshold < 1:
            problem = "threshold_bytes must be a positive integer"
        elif type(maximum) is not int or maximum < threshold:
            problem = "max_payload_bytes must be at least threshold_bytes"
        elif isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            problem = "request_timeout_seconds must be positive"
        if problem is not None:
            raise ExternalPayloadTransportError("external_payload_unsupported", problem)
        assert isinstance(threshold, int) and isinstance(maximum, int)
        return cls(
            threshold_bytes=threshold,
            max_payload_bytes=maximum,
            request_timeout_seconds=float(timeout),  # type: ignore[arg-type]
            available=policy.get("status") == "available",
        )


def _is_inline(value: Mapping[str, Any]) -> bool:
    return set(value) == {"codec", "blob"} and isinstance(value.get("blob"), str)


async def externalize(
    body: Any, transport: RuntimePayloadTransport, upload: Callable[[bytes, str], Awaitable[Any]]
) -> Any:
    """``body`` with every ``avro`` blob above the threshold uploaded and referenced.

    ``upload(data, sha256)`` sends the bytes and returns the reference object; one
    upload per distinct blob in the body.
    """
    uploaded: dict[str, Any] = {}

    async def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            if _is_inline(value) and value.get("codec") == _CODEC:
                data = str(value["blob"]).encode("utf-8")
                if len(data) <= transport.threshold_bytes:
                    return value
                if not transport.available:
                    raise ExternalPayloadTransportError(
                        "external_payload_unavailable",
                        "the namespace's external payload storage is not available",
                    )
                if len(data) > transport.max_payload_bytes:
                    raise ExternalPayloadTransportError(
                        "external_payload_oversized",
                        f"a {len(data)}-byte payload exceeds the transport's "
                        f"{transport.max_payload_bytes}-byte limit",
                    )
                sha256 = hashlib.sha256(data).hexdigest()
                if sha256 not in uploaded:
                    uploaded[sha256] = await upload(data, sha256)
                return {"codec": _CODEC, "external_payload": uploaded[sha256]}
            changed = {key: await walk(item) for key, item in value.items()}
            result = changed.get("result_envelope")
            if isinstance(result, Mapping) and "external_payload" in result and "result" in changed:
                changed["result"] = None  # the plain duplicate would defeat the offload
            return changed
        if isinstance(value, list):
            return [await walk(item) for item in value]
        return value

    return await walk(body)


def _reference(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) != {"codec", "external_payload"}:
        raise ExternalPayloadTransportError(
            "external_payload_unsupported",
            "an external payload envelope holds exactly codec and external_payload",
        )
    reference = value["external_payload"]
    ok = (
        isinstance(reference, Mapping)
        and reference.get("schema") == REFERENCE_SCHEMA
        and isinstance(reference.get("reference_id"), str)
        and _REFERENCE_ID.match(reference["reference_id"]) is not None
        and reference.get("codec") == _CODEC == value.get("codec")
        and type(reference.get("size_bytes")) is int
        and reference["size_bytes"] >= 0
        and isinstance(reference.get("sha256"), str)
        and _SHA256.match(reference["sha256"]) is not None
    )
    if not ok:
        raise ExternalPayloadTransportError(
            "external_payload_unsupported", f"malformed runtime payload reference: {reference!r}"
        )
    return dict(reference)


def verified_blob(reference: Mapping[str, Any], headers: httpx.Headers, data: bytes) -> str:
    """The fetched bytes as blob text, after checking them against their reference."""
    reference_id = str(reference["reference_id"])
    expected = {
        "X-Durable-Workflow-Payload-Codec": str(reference["codec"]),
        "X-Durable-Workflow-Payload-Size": str(reference["size_bytes"]),
        "X-Durable-Workflow-Payload-SHA256": str(reference["sha256"]),
    }
    if any(headers.get(name) != value for name, value in expected.items()):
        problem = "the response's payload headers do not match the reference"
    elif len(data) != reference["size_bytes"]:
        problem = f"{len(data)} bytes arrived, the reference says {reference['size_bytes']}"
    elif hashlib.sha256(data).hexdigest() != reference["sha256"]:
        problem = "the bytes' SHA-256 does not match the reference"
    else:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            problem = "the bytes are not UTF-8 blob text"
    raise ExternalPayloadTransportError(
        "external_payload_integrity_mismatch", problem, reference_id=reference_id
    )


async def resolve(
    body: Any,
    transport: RuntimePayloadTransport | None,
    fetch: Callable[[Mapping[str, Any]], Awaitable[str]],
) -> Any:
    """``body`` with every ``{codec, external_payload}`` envelope replaced by its verified blob."""
    fetched: dict[str, str] = {}

    async def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            if "external_payload" in value and "codec" in value:
                reference = _reference(value)
                if transport is None:
                    raise ExternalPayloadTransportError(
                        "external_payload_unsupported",
                        "the server returned a runtime payload reference without advertising "
                        "the namespace's payload transport",
                        reference_id=reference["reference_id"],
                    )
                if reference["size_bytes"] > transport.max_payload_bytes:
                    raise ExternalPayloadTransportError(
                        "external_payload_oversized",
                        "the reference exceeds the advertised transport limit",
                        reference_id=reference["reference_id"],
                    )
                key = reference["reference_id"]
                if key not in fetched:
                    fetched[key] = await fetch(reference)
                return {"codec": _CODEC, "blob": fetched[key]}
            return {key: await walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [await walk(item) for item in value]
        return value

    return await walk(body)


def fetch_path(reference_id: str) -> str:
    return FETCH_PATH.replace("{referenceId}", quote(reference_id, safe=""))


def contains_reference(value: Any) -> bool:
    """Whether a parsed JSON body holds a runtime payload reference anywhere."""
    if isinstance(value, Mapping):
        return "external_payload" in value or any(contains_reference(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_reference(item) for item in value)
    return False


class PayloadExchange:
    """Uploads and fetches of one request's payloads, with that request's headers."""

    def __init__(
        self, http: httpx.AsyncClient, retry_policy: Any, headers: Mapping[str, str], timeout: float
    ) -> None:
        self.http = http
        self.retry_policy = retry_policy
        self.headers = dict(headers)
        self.timeout = timeout

    async def upload(self, data: bytes, sha256: str) -> Any:
        """``POST /api/external-payloads/v1``; the reference of the stored bytes."""
        headers = {
            **self.headers,
            "Content-Type": "application/octet-stream",
            "X-Durable-Workflow-Payload-Codec": _CODEC,
            "X-Durable-Workflow-Payload-Size": str(len(data)),
            "X-Durable-Workflow-Payload-SHA256": sha256,
        }
        response = await self._exchange("POST", UPLOAD_PATH, headers, data)
        body = _json(response)
        reference = body.get("reference") if isinstance(body, dict) else None
        if (
            not isinstance(body, dict)
            or body.get("schema") != UPLOAD_SCHEMA
            or not isinstance(reference, dict)
            or reference.get("sha256") != sha256
            or reference.get("size_bytes") != len(data)
        ):
            raise ExternalPayloadTransportError(
                "external_payload_integrity_mismatch",
                "the upload receipt does not describe the bytes sent",
            )
        _reference({"codec": _CODEC, "external_payload": reference})
        return reference

    async def fetch(self, reference: Mapping[str, Any]) -> str:
        """``GET /api/external-payloads/v1/{id}``: the verified blob text."""
        headers = {
            **self.headers,
            "Accept": "application/octet-stream",
            "X-Durable-Workflow-Payload-Codec": str(reference["codec"]),
            "X-Durable-Workflow-Payload-Size": str(reference["size_bytes"]),
            "X-Durable-Workflow-Payload-SHA256": str(reference["sha256"]),
        }
        path = fetch_path(str(reference["reference_id"]))
        response = await self._exchange("GET", path, headers, None)
        return verified_blob(reference, response.headers, response.content)

    async def _exchange(
        self, method: str, path: str, headers: dict[str, str], content: bytes | None
    ) -> httpx.Response:
        """One call, retried like an idempotent one (the bytes name themselves)."""

        async def send() -> httpx.Response:
            response = await self.http.request(
                method, path, headers=headers, content=content, timeout=self.timeout
            )
            await response.aread()
            if response.status_code >= 500 or response.status_code == 429:
                response.raise_for_status()
            return response

        try:
            response: httpx.Response = await self.retry_policy.execute(send, idempotent=True)
        except httpx.HTTPStatusError as exc:
            response = exc.response
        except httpx.HTTPError as exc:
            raise ExternalPayloadTransportError(
                "external_payload_unavailable", f"{method} {path} failed: {exc}"
            ) from exc
        if response.status_code >= 400:
            body = _json(response)
            reason = body.get("reason") if isinstance(body, dict) else None
            message = body.get("message") if isinstance(body, dict) else None
            raise ExternalPayloadTransportError(
                str(reason or "external_payload_unavailable"),
                str(message or f"{method} {path} answered {response.status_code}"),
            )
        return response


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
