"""The one call path of ``Client``: body validation, then the shared transport.

Every method family builds its request body and sends it through ``call``
(bound as ``_client.Client._call``), so validation against the generated models and
the transport rules exist once. Also the small body/answer helpers the
families share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from durable_workflow import errors
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow._generated.v2.operations import OPERATIONS as V2_OPERATIONS
from durable_workflow._transport import Plane, ServerProfile
from durable_workflow._transport._negotiation import v2_operation_for
from durable_workflow.client import _client

__all__ = [
    "call",
    "call_v2",
    "compact",
    "dict_or_none",
    "list_or_none",
    "negotiate",
    "request",
    "require_dict",
    "require_plain_payloads",
    "send_operation",
    "validated_body",
]


def compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values: optional request fields are omitted, not sent as null."""
    return {key: value for key, value in values.items() if value is not None}


def require_dict(value: Any, what: str) -> dict[str, Any]:
    """A response that must be a JSON object; anything else is a server contract breach."""
    if not isinstance(value, dict):
        raise errors.ServerError(200, {"reason": f"invalid_{what}", "body": value})
    return value


def list_or_none(values: Sequence[str] | None) -> list[str] | None:
    return list(values) if values is not None else None


def dict_or_none(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(values) if values is not None else None


def validated_body(model: type[BaseModel] | None, operation: str, body: Any) -> Any:
    """Check a request body against the operation's generated model before sending it.

    The model is the one of the negotiated generation: ``_generated`` for 0.x
    servers, ``_generated.v2`` (the vendored 2.x documents) for 2.x servers.

    A bad argument then fails here with ``InvalidArgument`` naming the field,
    instead of as a server 422 (or, for some fields, a silently wrong request).
    Only the fields the caller set are sent.
    """
    if model is None or not isinstance(body, Mapping):
        return body
    try:
        validated = model.model_validate(dict(body))
    except ValidationError as exc:
        fields: dict[str, Any] = {}
        for problem in exc.errors():
            path = ".".join(str(part) for part in problem["loc"]) or "body"
            fields.setdefault(path, []).append(problem["msg"])
        first = next(iter(fields.items()))
        raise errors.InvalidArgument(
            f"invalid {operation} request: {first[0]}: {first[1][0]}", fields
        ) from None
    return validated.model_dump(mode="json", by_alias=True, exclude_unset=True)


async def negotiate(self: _client.Client) -> ServerProfile:
    """The server's profile, read once per client (encoders call this before encoding).

    A payload codec chain (beyond upstream) turns blobs into text no 2.x server
    accepts (it reads only Value frames), so a client with one is refused there.
    """
    profile = await self._transport.server_profile()
    require_plain_payloads(profile, self.converter.codec_chain)
    return profile


def require_plain_payloads(profile: ServerProfile, codec_chain: object) -> None:
    """Raise ``UnsupportedServerCapability`` for a codec chain aimed at a 2.x server."""
    if codec_chain is not None and profile.generation == 2:
        raise errors.UnsupportedServerCapability(
            "payload_codec_chain",
            generation=2,
            advertised_version=profile.advertised_worker_protocol,
            detail="a 2.x server accepts only avro payloads in the single-object Value frame; "
            "drop payload_codec= (or encrypt values before they become payloads)",
        )


async def call(
    self: _client.Client,
    operation: str,
    *,
    path_params: Mapping[str, str] | None = None,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
    timeout: float | None = None,
    context: str | None = None,
) -> Any:
    spec = OPERATIONS[operation]
    model = spec.request_model
    if spec.versioned:  # unversioned (discovery, health): alike on both generations
        profile = await self._negotiate()
        if profile.generation == 2:
            # The same route's 2.x request model (an unknown route is refused by the transport).
            served = v2_operation_for(spec.method, spec.path)
            model = served.request_model if served is not None else None
    return await self._transport.call(
        spec,
        path_params=path_params or {},
        query=query,
        body=validated_body(model, operation, body),
        timeout=timeout,
        context=context,
    )


async def call_v2(
    self: _client.Client,
    operation_id: str,
    *,
    path_params: Mapping[str, str] | None = None,
    body: Any = None,
    timeout: float | None = None,
    idempotent: bool = False,
    context: str = "",
) -> Any:
    """Send an operation only the 2.x catalogue has (``_generated.v2.operations``).

    Refused with ``UnsupportedServerCapability`` on a 0.x server; the body is
    checked against the operation's generated 2.x model.
    """
    spec = V2_OPERATIONS[operation_id]
    profile = await self._negotiate()
    if profile.generation != 2:
        raise errors.UnsupportedServerCapability(
            f"operation:{operation_id}",
            generation=profile.generation,
            advertised_version=profile.advertised_worker_protocol,
            detail="it exists only on generation 2 servers",
        )
    plane: Plane = "worker" if spec.plane == "worker_protocol" else "control"
    return await self._transport.request(
        spec.method,
        spec.render_path(path_params or {}),
        plane=plane,
        json=validated_body(spec.request_model, operation_id, body),
        timeout=timeout,
        idempotent=idempotent,
        context=context,
        operation=operation_id,
        path_params=path_params,
    )


async def send_operation(
    self: _client.Client,
    operation: str,
    *,
    path_params: Mapping[str, str] | None = None,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
) -> Any:
    """Send any catalogued operation with a prepared body; the server's JSON as is.

    The escape hatch under the typed methods (the CLI uses it to send exactly
    the body an operator typed). Bodies are still checked against the model.
    """
    return await self._call(operation, path_params=path_params, query=query, body=body)


async def request(
    self: _client.Client,
    method: str,
    path: str,
    *,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
    context: str = "",
) -> Any:
    """A control-plane route that is not in the operation catalogue (standalone activities)."""
    await self._transport.gate(method, path, f"{method.upper()} {path}")
    return await self._transport.request(
        method, path, plane="control", json=body, params=query, context=context
    )
