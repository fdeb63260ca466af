"""HTTP bodies checked against the 2.x server's vendored OpenAPI documents.

One validator for both sides of the wire: the dev server's generation-2 profile
checks every request body with it (a failure is the 422 error contract), the
generation-2 integration tests check every response the server returns, and the
SDK's tests may check the requests it sends. The schemas are read from
``contracts/server-2.x`` as vendored (no hand-written copy); ``$ref`` across the
documents and JSON Schema files resolves through a :mod:`referencing` registry,
and validation is :class:`openapi_schema_validator.OAS31Validator` (JSON Schema
2020-12 plus the OpenAPI 3.1 vocabulary), formats included.

An operation is found by method and concrete path (``/api/worker/register``);
a request body is checked against its ``requestBody`` schema, a response against
the schema of its status (``default``, then the plane's error schema for an error
status the document leaves out).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

__all__ = [
    "SpecError",
    "SpecOperation",
    "SpecRecorder",
    "find_operation",
    "load_document",
    "spec_folder",
    "validate_request",
    "validate_response",
]

_API = "/api"
_DOCUMENTS = (
    "control-plane-api.openapi.yaml",
    "worker-protocol-api.openapi.yaml",
    "external-payload-transport.openapi.yaml",
)
_ERROR_SCHEMAS = {
    "control-plane-api.openapi.yaml": "/components/schemas/ControlPlaneError",
    "worker-protocol-api.openapi.yaml": "/components/schemas/WorkerError",
}
_BASE = "file:///durable-workflow/contracts/server-2.x/"


def spec_folder() -> Path:
    """The vendored 2.x documents: packaged in the wheel, else the source checkout's."""
    here = Path(__file__).resolve().parent
    for candidate in (
        here / "_contracts" / "server-2.x",
        here.parents[1] / "contracts" / "server-2.x",
    ):
        if (candidate / "worker-protocol-api.openapi.yaml").is_file():
            return candidate
    raise FileNotFoundError("the vendored contracts/server-2.x documents are not installed")


@dataclass(frozen=True)
class SpecError:
    """One mismatch: ``field`` is a dot path into the body (``body`` for the root)."""

    field: str
    message: str
    # "required" for a missing property, else the JSON Schema keyword that failed.
    keyword: str = ""

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class SpecOperation:
    """One OpenAPI operation: its document, template and JSON pointer."""

    document: str
    operation_id: str
    method: str
    template: str
    pointer: str


@cache
def _load(name: str) -> Any:
    text = (spec_folder() / name).read_text(encoding="utf-8")
    if name.endswith((".yaml", ".yml")):
        import yaml  # the server/cli extras ship pyyaml

        return yaml.safe_load(text)
    return json.loads(text)


def load_document(name: str) -> Any:
    """A vendored document, parsed once and shared (never mutate it)."""
    return _load(name)


@cache
def _registry() -> Any:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    def retrieve(uri: str) -> Resource[Any]:
        if not uri.startswith(_BASE):
            raise LookupError(uri)
        return DRAFT202012.create_resource(_load(uri[len(_BASE) :]))

    return Registry(retrieve=retrieve)  # type: ignore[call-arg]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _at(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.lstrip("/").split("/") if pointer else ():
        key = unquote(token).replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def _follow(document: str, pointer: str) -> tuple[str, str]:
    """Resolve an OpenAPI object (request body, response) that is only a local ``$ref``."""
    node = _at(_load(document), pointer)
    while isinstance(node, dict) and set(node) == {"$ref"} and node["$ref"].startswith("#"):
        pointer = node["$ref"][1:]
        node = _at(_load(document), pointer)
    return document, pointer


@cache
def _routes() -> tuple[tuple[re.Pattern[str], SpecOperation], ...]:
    routes = []
    for name in _DOCUMENTS:
        for template, item in _load(name).get("paths", {}).items():
            pattern = re.sub(r"\\\{(\w+)\\\}", r"[^/]+", re.escape(_API + template))
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                pointer = f"/paths/{_escape(template)}/{method}"
                spec = SpecOperation(
                    name, operation.get("operationId", ""), method.upper(), template, pointer
                )
                routes.append((re.compile(f"^{pattern}$"), spec))
    # Literal segments beat parameters: /schedules/{id}/history before /schedules/{id}/{action}.
    routes.sort(key=lambda route: route[1].template.count("{"))
    return tuple(routes)


def find_operation(method: str, path: str) -> SpecOperation | None:
    """The operation serving ``method path`` (a concrete path under ``/api``), if any."""
    method = "GET" if method.upper() == "HEAD" else method.upper()
    for pattern, spec in _routes():
        if spec.method == method and pattern.match(path):
            return spec
    return None


@cache
def _validator(document: str, pointer: str) -> Any:
    from openapi_schema_validator import OAS31Validator

    schema = {"$ref": f"{_BASE}{document}#{pointer}"}
    return OAS31Validator(
        schema, registry=_registry(), format_checker=OAS31Validator.FORMAT_CHECKER
    )


def _json_schema_pointer(document: str, pointer: str) -> str | None:
    """The pointer of ``content.application/json.schema`` under a body/response object."""
    document, pointer = _follow(document, pointer)
    content = _at(_load(document), pointer).get("content") or {}
    for media in content:
        json_media = media == "application/json" or media.endswith("+json")
        if json_media and "schema" in content[media]:
            return f"{pointer}/content/{_escape(media)}/schema"
    return None


def _dotted(path: Any) -> str:
    return ".".join(str(part) for part in path) or "body"


_MESSAGE_LIMIT = 300


def _deepest(error: Any) -> Any:
    """For a failed ``anyOf``/``oneOf``, the branch error that explains it best."""
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

    while error.context:
        better = best_match(error.context)
        if better is None or better is error:
            break
        error = better
    return error


def _errors(validator: Any, instance: Any) -> list[SpecError]:
    found: list[SpecError] = []
    raw = [_deepest(e) for e in validator.iter_errors(instance)]
    for error in sorted(raw, key=lambda e: [str(p) for p in e.absolute_path]):
        base = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    field = _dotted([*base, name])
                    found.append(SpecError(field, f"'{name}' is required", "required"))
            continue
        message = error.message
        if len(message) > _MESSAGE_LIMIT:
            message = message[:_MESSAGE_LIMIT] + "..."
        found.append(SpecError(_dotted(base), message, str(error.validator)))
    return found


def validate_request(operation: SpecOperation, body: Any) -> list[SpecError]:
    """Mismatches of a request body (``None`` = no body) with the operation's schema."""
    document = operation.document
    request = _at(_load(document), operation.pointer).get("requestBody")
    if request is None:
        return []
    _, body_pointer = _follow(document, f"{operation.pointer}/requestBody")
    if body is None:
        required = _at(_load(document), body_pointer).get("required", False)
        return [SpecError("body", "a request body is required")] if required else []
    schema = _json_schema_pointer(document, body_pointer)
    return [] if schema is None else _errors(_validator(document, schema), body)


def _header_number(text: str) -> int | float | None:
    """A header's text as a number, for a schema that types it so (OpenAPI simple style)."""
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def validate_response(
    operation: SpecOperation, status: int, body: Any, headers: dict[str, str] | None = None
) -> list[SpecError]:
    """Mismatches of a response (status, JSON body, headers) with the document."""
    document = operation.document
    responses = _at(_load(document), operation.pointer)["responses"]
    key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
    if key is None:
        error_schema = _ERROR_SCHEMAS.get(document)
        if status < 400 or error_schema is None:
            return [SpecError("status", f"status {status} is not documented for this operation")]
        return _errors(_validator(document, error_schema), body)
    _, response_pointer = _follow(document, f"{operation.pointer}/responses/{_escape(key)}")
    found: list[SpecError] = []
    declared = _at(_load(document), response_pointer).get("headers") or {}
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    for name, header in declared.items():
        value = lowered.get(name.lower())
        if value is not None and "schema" in header:
            pointer = f"{response_pointer}/headers/{_escape(name)}/schema"
            validator = _validator(document, pointer)
            errors = list(validator.iter_errors(value))
            if errors and _header_number(value) is not None:
                errors = list(validator.iter_errors(_header_number(value)))
            found += [SpecError(f"header {name}", e.message) for e in errors]
    schema = _json_schema_pointer(document, response_pointer)
    if schema is not None:
        found += _errors(_validator(document, schema), body)
    return found


class SpecRecorder:
    """Collects spec mismatches of HTTP exchanges; install its hooks on an httpx client.

    ``tolerated`` holds ``(operationId, field)`` pairs of documented deviations
    (the server's ``gen2.deviations``). Responses of paths no document declares are
    mismatches too. Tests assert :attr:`mismatches` is empty at the end.
    """

    def __init__(self, tolerated: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.tolerated = tolerated
        self.mismatches: list[str] = []
        self.checked = 0

    def _record(self, where: str, operation: SpecOperation, errors: list[SpecError]) -> None:
        for error in errors:
            if (operation.operation_id, error.field) not in self.tolerated:
                self.mismatches.append(f"{where} ({operation.operation_id}): {error}")

    def check_request(self, method: str, path: str, body: Any) -> None:
        operation = find_operation(method, path)
        if operation is None:
            self.mismatches.append(f"request {method} {path}: no operation in the documents")
            return
        self._record(f"request {method} {path}", operation, validate_request(operation, body))

    def check_response(
        self, method: str, path: str, status: int, body: Any, headers: dict[str, str]
    ) -> None:
        self.checked += 1
        operation = find_operation(method, path)
        if operation is None:
            self.mismatches.append(f"response {method} {path}: no operation in the documents")
            return
        errors = validate_response(operation, status, body, headers)
        self._record(f"response {status} {method} {path}", operation, errors)

    @staticmethod
    def _body(content: bytes) -> Any:
        return json.loads(content) if content else None

    def response_hook(self, response: Any) -> None:
        """httpx ``event_hooks={"response": [...]}`` for a sync client."""
        response.read()
        request = response.request
        self.check_response(
            request.method, request.url.path, response.status_code,
            self._body(response.content), dict(response.headers),
        )  # fmt: skip

    async def async_response_hook(self, response: Any) -> None:
        """The same for an ``httpx.AsyncClient``."""
        await response.aread()
        request = response.request
        self.check_response(
            request.method, request.url.path, response.status_code,
            self._body(response.content), dict(response.headers),
        )  # fmt: skip

    def request_hook(self, request: Any) -> None:
        """httpx ``event_hooks={"request": [...]}``: the body an SDK sends (sync or async)."""
        self.check_request(request.method, request.url.path, self._body(request.content))

    async def async_request_hook(self, request: Any) -> None:
        self.request_hook(request)
