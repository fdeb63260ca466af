"""External task input envelopes (contracts.md §3): parse, validate, verify artifacts.

A carrier hands one of these to an out-of-process handler. The parser fails
closed on the first violation and names the offending field, because carriers'
own CI runs against it: a vague error there costs a release.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn, cast

from durable_workflow._generated import manifest as _manifest

__all__ = [
    "EXTERNAL_TASK_INPUT_CONTRACT_SCHEMA",
    "EXTERNAL_TASK_INPUT_CONTRACT_VERSION",
    "EXTERNAL_TASK_INPUT_MEDIA_TYPE",
    "EXTERNAL_TASK_INPUT_SCHEMA",
    "EXTERNAL_TASK_INPUT_VERSION",
    "KNOWN_INPUT_FIELDS",
    "ExternalTaskInput",
    "ExternalTaskInputError",
    "ExternalTaskInputIdentity",
    "ExternalTaskInputKind",
    "ExternalTaskLease",
    "ExternalTaskWorkflowContext",
    "artifact_sha256_candidates",
    "parse_external_task_input",
    "parse_external_task_input_artifact",
]

EXTERNAL_TASK_INPUT_CONTRACT_SCHEMA: str = _manifest.EXTERNAL_TASK_INPUT_CONTRACT_SCHEMA
EXTERNAL_TASK_INPUT_CONTRACT_VERSION: int = _manifest.EXTERNAL_TASK_INPUT_CONTRACT_VERSION
EXTERNAL_TASK_INPUT_SCHEMA: str = _manifest.EXTERNAL_TASK_INPUT_CONTRACT_ENVELOPE_SCHEMA
EXTERNAL_TASK_INPUT_VERSION: int = _manifest.EXTERNAL_TASK_INPUT_CONTRACT_ENVELOPE_VERSION
EXTERNAL_TASK_INPUT_MEDIA_TYPE: str = _manifest.EXTERNAL_TASK_INPUT_CONTRACT_ENVELOPE_MEDIA_TYPE

ACTIVITY_TASK = "activity_task"
WORKFLOW_TASK = "workflow_task"
#: The two task kinds an input envelope can carry.
ExternalTaskInputKind = Literal["activity_task", "workflow_task"]

# Top-level fields this SDK understands per envelope kind. A contract manifest
# that declares another field *required* is a version we do not support, and
# the unknown_field_policy says to fail closed on it.
KNOWN_INPUT_FIELDS: Mapping[str, frozenset[str]] = {
    ACTIVITY_TASK: frozenset(
        {"schema", "version", "task", "workflow", "lease", "payloads", "deadlines", "headers"}
    ),
    WORKFLOW_TASK: frozenset(
        {"schema", "version", "task", "workflow", "lease", "payloads", "history", "headers"}
    ),
}

_DEADLINE_KEYS = ("schedule_to_start", "start_to_close", "schedule_to_close", "heartbeat")


class ExternalTaskInputError(ValueError):
    """An input envelope (or artifact) violates the contract; ``field`` names where."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class ExternalTaskInputIdentity:
    """``task`` block: which leased task this is and how to address it idempotently."""

    id: str
    kind: ExternalTaskInputKind
    attempt: int
    task_queue: str
    handler: str | None
    connection: str | None
    idempotency_key: str
    activity_attempt_id: str | None = None
    compatibility: str | None = None
    external_executor: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ExternalTaskWorkflowContext:
    """``workflow`` block: the owning run (plus resume context for workflow tasks)."""

    id: str
    run_id: str
    status: str | None = None
    resume: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ExternalTaskLease:
    """``lease`` block: who holds the task, until when, and where to heartbeat."""

    owner: str
    expires_at: str
    heartbeat_endpoint: str


@dataclass(frozen=True)
class ExternalTaskInput:
    """A validated input envelope (frozen; the upstream 0.4.53 shape)."""

    kind: ExternalTaskInputKind
    task: ExternalTaskInputIdentity
    workflow: ExternalTaskWorkflowContext
    lease: ExternalTaskLease
    payloads: Mapping[str, Any]
    headers: Mapping[str, Any]
    deadlines: Mapping[str, str | None] | None = None
    history: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_activity_task(self) -> bool:
        return self.kind == ACTIVITY_TASK

    @property
    def is_workflow_task(self) -> bool:
        return self.kind == WORKFLOW_TASK


class _Fields:
    """Typed accessors over one JSON object that raise a contract error naming the path.

    Shared by the input, result and auth-composition parsers so every error
    reads the same way: ``<what>: field 'a.b' <problem>``.
    """

    def __init__(
        self,
        data: Mapping[str, Any],
        path: str,
        fail: Callable[[str, str], NoReturn],
    ) -> None:
        self.data = data
        self.path = path
        self._fail = fail

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> NoReturn:
        self._fail(self._name(key), problem)

    def _get(self, key: str) -> Any:
        if key not in self.data:
            self.fail(key, "is required")
        return self.data[key]

    def obj(self, key: str) -> _Fields:
        value = self._get(key)
        if not isinstance(value, Mapping):
            self.fail(key, f"must be an object, got {_type_name(value)}")
        return _Fields(value, self._name(key), self._fail)

    def optional_obj(self, key: str) -> Mapping[str, Any] | None:
        value = self._get(key)
        if value is not None and not isinstance(value, Mapping):
            self.fail(key, f"must be an object or null, got {_type_name(value)}")
        return value

    def string(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            self.fail(key, f"must be a string, got {_type_name(value)}")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self._get(key)
        if value is not None and not isinstance(value, str):
            self.fail(key, f"must be a string or null, got {_type_name(value)}")
        return value

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            self.fail(key, f"must be a boolean, got {_type_name(value)}")
        return value

    def integer(self, key: str, *, minimum: int | None = None) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be an integer, got {_type_name(value)}")
        if minimum is not None and value < minimum:
            self.fail(key, f"must be >= {minimum}, got {value}")
        return value

    def const(self, key: str, expected: Any) -> Any:
        value = self._get(key)
        if value != expected or isinstance(value, bool) != isinstance(expected, bool):
            self.fail(key, f"must be {expected!r}, got {value!r}")
        return value

    def array(self, key: str) -> list[Any]:
        value = self._get(key)
        if not isinstance(value, list):
            self.fail(key, f"must be an array, got {_type_name(value)}")
        return value

    def string_list(self, key: str) -> list[str]:
        values = self.array(key)
        for index, item in enumerate(values):
            if not isinstance(item, str):
                self.fail(f"{key}[{index}]", f"must be a string, got {_type_name(item)}")
        return values


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _raiser(what: str, error: Callable[..., ValueError]) -> Callable[[str, str], NoReturn]:
    def fail(path: str, problem: str) -> NoReturn:
        raise error(f"{what}: field '{path}' {problem}", field=path)

    return fail


def root_fields(data: Any, what: str, error: Callable[..., ValueError]) -> _Fields:
    """Accessor over a document root; non-objects are rejected up front."""
    fail = _raiser(what, error)
    if not isinstance(data, Mapping):
        raise error(f"{what} must be a JSON object, got {_type_name(data)}", field=None)
    return _Fields(data, "", fail)


def check_declared_required(
    contract: Mapping[str, Any] | None,
    envelope_key: str,
    known: frozenset[str],
    what: str,
    error: Callable[..., ValueError],
) -> None:
    """Fail closed when a contract manifest declares a required field we do not know.

    ``unknown_field_policy: ignore_additive_reject_unknown_required``: unknown
    optional fields are ignored, but a version that *requires* a field this SDK
    cannot interpret must be refused rather than half-handled.
    """
    if contract is None:
        return
    envelopes = contract.get("envelopes")
    descriptor = envelopes.get(envelope_key) if isinstance(envelopes, Mapping) else None
    if not isinstance(descriptor, Mapping):
        return
    required = descriptor.get("required_fields")
    if not isinstance(required, list):
        return
    for name in required:
        if name not in known:
            raise error(
                f"{what}: field '{name}' is declared required by the contract but is not "
                "supported by this SDK (unknown required field)",
                field=str(name),
            )


def artifact_sha256_candidates(example: Any) -> tuple[str, str]:
    """The hashes an artifact may carry for ``example`` (contracts.md §1).

    Compact JSON with unescaped slashes; the server escapes non-ASCII as
    ``\\uXXXX`` while upstream's SDK hashes raw UTF-8, so both are accepted
    (they are equal for ASCII-only examples).
    """
    raw = json.dumps(example, separators=(",", ":"), ensure_ascii=False)
    escaped = json.dumps(example, separators=(",", ":"), ensure_ascii=True)
    return (
        hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        hashlib.sha256(escaped.encode("utf-8")).hexdigest(),
    )


def verify_artifact(
    artifact: Any,
    *,
    prefix: str,
    media_type: str,
    schema: str,
    version: int,
    what: str,
    error: Callable[..., ValueError],
) -> Mapping[str, Any]:
    """Check an artifact's framing and sha256; return its ``example``."""
    fields = root_fields(artifact, what, error)
    name = fields.string("artifact")
    if not name.startswith(prefix):
        fields.fail("artifact", f"must start with {prefix!r}, got {name!r}")
    fields.const("media_type", media_type)
    fields.const("schema", schema)
    fields.const("version", version)
    example = fields.obj("example").data
    digest = fields.string("sha256")
    if digest.lower() not in artifact_sha256_candidates(example):
        fields.fail("sha256", "does not match the SHA-256 of the compact JSON example")
    return example


def parse_external_task_input(
    envelope: Mapping[str, Any], *, contract: Mapping[str, Any] | None = None
) -> ExternalTaskInput:
    """Validate an input envelope (rules of contracts.md §3.8) into ``ExternalTaskInput``.

    ``contract`` is the optional ``external_task_input_contract`` manifest (from
    cluster info); when given, a field it declares required that this SDK does
    not know is rejected.
    """
    what = "external task input"
    root = root_fields(envelope, what, ExternalTaskInputError)
    root.const("schema", EXTERNAL_TASK_INPUT_SCHEMA)
    root.const("version", EXTERNAL_TASK_INPUT_VERSION)
    task = root.obj("task")
    workflow = root.obj("workflow")
    lease = root.obj("lease")
    payloads = root.obj("payloads")
    headers = root.obj("headers")

    kind_text = task.string("kind")
    if kind_text not in (ACTIVITY_TASK, WORKFLOW_TASK):
        task.fail("kind", f"Unsupported external task input kind {kind_text!r}")
    kind = cast(ExternalTaskInputKind, kind_text)
    check_declared_required(contract, kind, KNOWN_INPUT_FIELDS[kind], what, ExternalTaskInputError)

    attempt = task.integer("attempt", minimum=1)
    task_id = task.string("id")
    task_queue = task.string("task_queue")
    idempotency_key = task.string("idempotency_key")
    connection = task.optional_string("connection")
    activity_attempt_id: str | None = None
    compatibility: str | None = None
    external_executor: Mapping[str, Any] | None = None
    if kind == ACTIVITY_TASK:
        activity_attempt_id = task.string("activity_attempt_id")
        handler: str | None = task.string("handler")
        if "external_executor" in task.data and isinstance(task.data["external_executor"], Mapping):
            external_executor = task.data["external_executor"]
    else:
        handler = task.optional_string("handler")
        compatibility = task.optional_string("compatibility")

    workflow_id = workflow.string("id")
    run_id = workflow.string("run_id")
    status: str | None = None
    resume: Mapping[str, Any] | None = None
    if kind == WORKFLOW_TASK:
        status = workflow.optional_string("status")
        resume = workflow.obj("resume").data

    owner = lease.string("owner")
    expires_at = lease.string("expires_at")
    heartbeat_endpoint = lease.string("heartbeat_endpoint")
    payloads.optional_obj("arguments")

    deadlines: dict[str, str | None] | None = None
    history: Mapping[str, Any] | None = None
    if kind == ACTIVITY_TASK:
        block = root.obj("deadlines")
        deadlines = {key: block.optional_string(key) for key in _DEADLINE_KEYS}
    else:
        block = root.obj("history")
        block.array("events")
        block.integer("last_sequence")
        block.optional_string("next_page_token")
        block.optional_string("encoding")
        history = block.data

    return ExternalTaskInput(
        kind=kind,
        task=ExternalTaskInputIdentity(
            id=task_id,
            kind=kind,
            attempt=attempt,
            task_queue=task_queue,
            handler=handler,
            connection=connection,
            idempotency_key=idempotency_key,
            activity_attempt_id=activity_attempt_id,
            compatibility=compatibility,
            external_executor=external_executor,
        ),
        workflow=ExternalTaskWorkflowContext(
            id=workflow_id, run_id=run_id, status=status, resume=resume
        ),
        lease=ExternalTaskLease(
            owner=owner, expires_at=expires_at, heartbeat_endpoint=heartbeat_endpoint
        ),
        payloads=payloads.data,
        headers=headers.data,
        deadlines=deadlines,
        history=history,
        raw=envelope,
    )


def parse_external_task_input_artifact(
    artifact: Mapping[str, Any], *, contract: Mapping[str, Any] | None = None
) -> ExternalTaskInput:
    """Verify a published fixture artifact (framing + sha256), then parse its example."""
    example = verify_artifact(
        artifact,
        prefix=EXTERNAL_TASK_INPUT_SCHEMA + ".",
        media_type=EXTERNAL_TASK_INPUT_MEDIA_TYPE,
        schema=EXTERNAL_TASK_INPUT_SCHEMA,
        version=EXTERNAL_TASK_INPUT_VERSION,
        what="external task input artifact",
        error=ExternalTaskInputError,
    )
    return parse_external_task_input(example, contract=contract)
