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
from durable_workflow._transport import ServerProfile
from durable_workflow.client import _client

__all__ = [
    "call",
    "compact",
    "dict_or_none",
    "list_or_none",
    "negotiate",
    "request",
    "require_dict",
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
    """The server's profile, read once per client (encoders call this before encoding)."""
    return await self._transport.server_profile()


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
    return await self._transport.call(
        spec,
        path_params=path_params or {},
        query=query,
        body=validated_body(spec.request_model, operation, body),
        timeout=timeout,
        context=context,
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
