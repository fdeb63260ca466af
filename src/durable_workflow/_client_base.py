"""Plumbing shared by every ``Client`` method family (one transport, one call path).

The client is split into one mixin per concern (workflows, schedules, ...);
each mixin builds request bodies and parses answers, and all of them send
through :meth:`ClientBase._call`, so body validation against the generated
models and the transport rules exist once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from durable_workflow import errors, serializer
from durable_workflow._generated.operations import OPERATIONS, Operations
from durable_workflow._payload_limits import check_inline_payload
from durable_workflow._transport import HttpTransport
from durable_workflow.codecs import PayloadCodec
from durable_workflow.converter import ConverterAttribute, DataConverter
from durable_workflow.external_storage import ExternalPayloadCache, ExternalStorageDriver
from durable_workflow.external_storage import decode_payload as decode_any_payload
from durable_workflow.external_storage._envelopes import payload_envelope

__all__ = [
    "ClientBase",
    "compact",
    "dict_or_none",
    "list_or_none",
    "require_dict",
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


class ClientBase:
    """State every method family needs: the transport, payload storage, the typed stubs."""

    _transport: HttpTransport
    namespace: str = "default"
    payload_size_limit_bytes: int = serializer.DEFAULT_PAYLOAD_SIZE_BYTES
    #: Every payload setting in one object; the attributes below are views of it.
    converter: DataConverter = DataConverter()
    external_storage = ConverterAttribute[ExternalStorageDriver | None]("external_storage")
    external_storage_threshold_bytes = ConverterAttribute[int | None]("threshold_bytes")
    external_storage_cache = ConverterAttribute[ExternalPayloadCache | None]("storage_cache")
    #: The payload codec chain (beyond upstream).
    payload_codec = ConverterAttribute[PayloadCodec | None]("codec_chain")
    payload_size_warning_config = ConverterAttribute[serializer.PayloadSizeWarningConfig | None](
        "size_warning"
    )

    def _payload_context(
        self, kind: str, **ids: str | None
    ) -> serializer.PayloadSizeWarningContext:
        """Where a payload comes from (``kind`` as upstream names it), for warnings and errors."""
        return serializer.PayloadSizeWarningContext(kind, namespace=self.namespace, **ids)

    def _envelope(
        self,
        value: Any,
        codec: str = "avro",
        *,
        external_storage: ExternalStorageDriver | None = None,
        threshold_bytes: int | None = None,
        payload_codec_chain: PayloadCodec | None = None,
        context: serializer.PayloadSizeWarningContext | None = None,
        field: str = "payload",
    ) -> dict[str, Any]:
        """Encode a payload: codec chain, then offload when a driver and threshold are set.

        Per-call ``external_storage``/``threshold_bytes``/``payload_codec_chain``
        override the client's. ``context`` goes into the size warning; an inline
        blob over ``payload_size_limit_bytes`` raises ``PayloadTooLargeError`` naming ``field``.
        """
        driver = external_storage if external_storage is not None else self.external_storage
        threshold = (
            threshold_bytes
            if threshold_bytes is not None
            else self.external_storage_threshold_bytes
        )
        offloading = driver is not None and threshold is not None
        envelope = payload_envelope(
            value,
            codec=codec,
            external_storage=driver if offloading else None,
            threshold_bytes=threshold if offloading else None,
            payload_codec=(
                payload_codec_chain if payload_codec_chain is not None else self.payload_codec
            ),
            size_warning=self.payload_size_warning_config,
            warning_context=context,
        )
        described = context.to_log_context() if context is not None else {}
        kind = described.pop("kind", "payload")
        described.pop("namespace", None)
        check_inline_payload(
            envelope,
            field=field,
            limit_bytes=self.payload_size_limit_bytes,
            kind=kind,
            ids=described,
        )
        return envelope

    def _search_attributes(
        self,
        values: Mapping[str, Any] | None,
        context: serializer.PayloadSizeWarningContext,
    ) -> dict[str, Any] | None:
        """Search attributes as sent (the server encodes them), with upstream's size warning."""
        if values is None:
            return None
        serializer.warn_if_json_payload_near_limit(
            dict(values), size_warning=self.payload_size_warning_config, warning_context=context
        )
        return dict(values)

    def _input_body(
        self, args: Sequence[Any] | None, context: serializer.PayloadSizeWarningContext
    ) -> dict[str, Any]:
        """``{}`` without arguments, else ``{"input": <avro envelope of the argument list>}``."""
        if not args:
            return {}
        return {"input": self._envelope(list(args), context=context, field="input")}

    def _decode(self, envelope: Mapping[str, Any] | str, default_codec: str | None) -> Any:
        """Decode an inline or externally stored envelope (stored bytes are verified) or a
        bare blob, undoing the client's payload codec chain."""
        return decode_any_payload(
            envelope if isinstance(envelope, str) else dict(envelope),
            default_codec=default_codec or "avro",
            external_storage=self.external_storage,
            external_storage_cache=self.external_storage_cache,
            payload_codec=self.payload_codec,
        )

    def _decoded_result(self, data: dict[str, Any]) -> dict[str, Any]:
        """A query/update answer with ``result`` restored from ``result_envelope``.

        With a payload codec chain the worker sends no plain ``result`` (it would
        bypass the chain) and the server cannot read the transformed envelope, so
        the client decodes it; without a chain the answer is returned as sent.
        """
        envelope = data.get("result_envelope")
        if self.payload_codec is not None and isinstance(envelope, dict) and "codec" in envelope:
            data["result"] = self._decode(envelope, None)
        return data

    @property
    def operations(self) -> Operations:
        """The generated, fully typed operation stubs on this client's transport.

        Each returns the operation's generated pydantic response model (the
        upstream-compatible methods return upstream's dataclasses instead).
        """
        return Operations(self._transport)

    async def _call(
        self,
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
        self,
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

    async def _request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        context: str = "",
    ) -> Any:
        """A control-plane route that is not in the operation catalogue (standalone activities)."""
        return await self._transport.request(
            method, path, plane="control", json=body, params=query, context=context
        )
