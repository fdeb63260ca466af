"""External task result envelopes (contracts.md §4): parse, validate, verify artifacts.

What a handler returns to its carrier. The carrier turns it into a worker
``complete``/``fail`` call, so a result that is not exactly the contract must
be refused (and becomes ``malformed_output``), never guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from durable_workflow._generated import manifest as _manifest
from durable_workflow.external_task_input import (
    check_declared_required,
    root_fields,
    verify_artifact,
)

__all__ = [
    "EXTERNAL_TASK_RESULT_CONTRACT_SCHEMA",
    "EXTERNAL_TASK_RESULT_CONTRACT_VERSION",
    "EXTERNAL_TASK_RESULT_MEDIA_TYPE",
    "EXTERNAL_TASK_RESULT_SCHEMA",
    "EXTERNAL_TASK_RESULT_VERSION",
    "FAILURE_CLASSIFICATIONS",
    "FAILURE_KINDS",
    "ExternalTaskFailure",
    "ExternalTaskIdentity",
    "ExternalTaskResult",
    "ExternalTaskResultError",
    "ExternalTaskResultKind",
    "parse_external_task_result",
    "parse_external_task_result_artifact",
]

EXTERNAL_TASK_RESULT_CONTRACT_SCHEMA: str = _manifest.EXTERNAL_TASK_RESULT_CONTRACT_SCHEMA
EXTERNAL_TASK_RESULT_CONTRACT_VERSION: int = _manifest.EXTERNAL_TASK_RESULT_CONTRACT_VERSION
EXTERNAL_TASK_RESULT_SCHEMA: str = _manifest.EXTERNAL_TASK_RESULT_CONTRACT_ENVELOPE_SCHEMA
EXTERNAL_TASK_RESULT_VERSION: int = _manifest.EXTERNAL_TASK_RESULT_CONTRACT_ENVELOPE_VERSION
EXTERNAL_TASK_RESULT_MEDIA_TYPE: str = _manifest.EXTERNAL_TASK_RESULT_CONTRACT_ENVELOPE_MEDIA_TYPE

#: The outcome an envelope reports.
ExternalTaskResultKind = Literal["success", "failure", "malformed_output"]
FAILURE_KINDS: frozenset[str] = frozenset(
    {
        "application",
        "timeout",
        "cancellation",
        "malformed_output",
        "handler_crash",
        "decode_failure",
        "unsupported_payload",
    }
)
FAILURE_CLASSIFICATIONS: frozenset[str] = frozenset(
    {
        "application_error",
        "timeout",
        "cancelled",
        "deadline_exceeded",
        "handler_crash",
        "decode_failure",
        "malformed_output",
        "unsupported_payload_codec",
        "unsupported_payload_reference",
    }
)

_BASE_FIELDS = frozenset({"schema", "version", "outcome", "task", "metadata"})
KNOWN_RESULT_FIELDS: Mapping[str, frozenset[str]] = {
    "success": _BASE_FIELDS | {"result"},
    "failure": _BASE_FIELDS | {"failure"},
    "malformed_output": _BASE_FIELDS | {"failure", "raw_output"},
}


class ExternalTaskResultError(ValueError):
    """A result envelope (or artifact) violates the contract; ``field`` names where."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class ExternalTaskIdentity:
    """The task a result answers for (echoed from the input envelope)."""

    id: str
    kind: str
    attempt: int
    idempotency_key: str


@dataclass(frozen=True)
class ExternalTaskFailure:
    """``failure`` block of a failed result."""

    kind: str
    classification: str
    message: str
    type: str | None
    stack_trace: str | None
    timeout_type: str | None
    cancelled: bool
    details: Mapping[str, Any] | None

    # Each flag holds when either the failure's kind or its classification says so,
    # because carriers fill the two independently.
    @property
    def deadline_exceeded(self) -> bool:
        return "deadline_exceeded" in (self.classification, self.timeout_type)

    @property
    def handler_crash(self) -> bool:
        return "handler_crash" in (self.kind, self.classification)

    @property
    def decode_failure(self) -> bool:
        return "decode_failure" in (self.kind, self.classification)

    @property
    def unsupported_payload(self) -> bool:
        return self.kind == "unsupported_payload" or self.classification in (
            "unsupported_payload_codec",
            "unsupported_payload_reference",
        )


@dataclass(frozen=True)
class ExternalTaskResult:
    """A validated result envelope (frozen; the upstream 0.4.53 shape)."""

    kind: ExternalTaskResultKind
    task: ExternalTaskIdentity
    recorded: bool
    metadata: Mapping[str, Any]
    result: Mapping[str, Any] | None = None
    failure: ExternalTaskFailure | None = None
    raw_output: Mapping[str, Any] | None = None
    #: ``outcome.retryable`` of a failure; a success is never retryable (as upstream 0.4.53).
    retryable: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.kind == "success"

    @property
    def failed(self) -> bool:
        return self.kind != "success"

    @property
    def malformed_output(self) -> bool:
        return self.kind == "malformed_output"

    @property
    def failure_kind(self) -> str | None:
        return self.failure.kind if self.failure else None

    @property
    def failure_classification(self) -> str | None:
        return self.failure.classification if self.failure else None

    @property
    def cancelled(self) -> bool:
        return bool(self.failure and self.failure.cancelled)

    @property
    def deadline_exceeded(self) -> bool:
        return self.failure is not None and self.failure.deadline_exceeded

    @property
    def handler_crash(self) -> bool:
        return self.failure is not None and self.failure.handler_crash

    @property
    def decode_failure(self) -> bool:
        return self.failure is not None and self.failure.decode_failure

    @property
    def unsupported_payload(self) -> bool:
        return self.failure is not None and self.failure.unsupported_payload


def parse_external_task_result(
    envelope: Mapping[str, Any], *, contract: Mapping[str, Any] | None = None
) -> ExternalTaskResult:
    """Validate a result envelope (rules of contracts.md §4.4) into ``ExternalTaskResult``.

    ``contract`` is the optional ``external_task_result_contract`` manifest;
    a field it declares required that this SDK does not know is rejected.
    """
    what = "external task result"
    root = root_fields(envelope, what, ExternalTaskResultError)
    root.const("schema", EXTERNAL_TASK_RESULT_SCHEMA)
    root.const("version", EXTERNAL_TASK_RESULT_VERSION)
    outcome = root.obj("outcome")
    status = outcome.string("status")
    recorded = outcome.boolean("recorded")
    task = root.obj("task")
    identity = ExternalTaskIdentity(
        id=task.string("id"),
        kind=task.string("kind"),
        attempt=task.integer("attempt", minimum=1),
        idempotency_key=task.string("idempotency_key"),
    )
    metadata = root.obj("metadata").data

    if status == "succeeded":
        check_declared_required(
            contract, "success", KNOWN_RESULT_FIELDS["success"], what, ExternalTaskResultError
        )
        return ExternalTaskResult(
            kind="success",
            task=identity,
            recorded=recorded,
            metadata=metadata,
            result=root.optional_obj("result"),
            raw=envelope,
        )
    if status != "failed":
        outcome.fail("status", f"must be 'succeeded' or 'failed', got {status!r}")

    failure_block = root.obj("failure")
    retryable = outcome.boolean("retryable")
    kind = failure_block.string("kind")
    if kind not in FAILURE_KINDS:
        failure_block.fail("kind", f"must be one of {sorted(FAILURE_KINDS)}, got {kind!r}")
    classification = failure_block.string("classification")
    if classification not in FAILURE_CLASSIFICATIONS:
        failure_block.fail(
            "classification",
            f"must be one of {sorted(FAILURE_CLASSIFICATIONS)}, got {classification!r}",
        )
    cancelled = failure_block.boolean("cancelled")
    if classification == "cancelled" and not cancelled:
        failure_block.fail("cancelled", "must be true when classification is 'cancelled'")
    failure = ExternalTaskFailure(
        kind=kind,
        classification=classification,
        message=failure_block.string("message"),
        type=failure_block.optional_string("type"),
        stack_trace=failure_block.optional_string("stack_trace"),
        timeout_type=failure_block.optional_string("timeout_type"),
        cancelled=cancelled,
        details=failure_block.optional_obj("details"),
    )
    malformed = "malformed_output" in (kind, classification) or "raw_output" in root.data
    envelope_kind: ExternalTaskResultKind = "malformed_output" if malformed else "failure"
    check_declared_required(
        contract, envelope_kind, KNOWN_RESULT_FIELDS[envelope_kind], what, ExternalTaskResultError
    )
    raw_output = root.obj("raw_output").data if "raw_output" in root.data else None
    return ExternalTaskResult(
        kind=envelope_kind,
        task=identity,
        recorded=recorded,
        metadata=metadata,
        failure=failure,
        raw_output=raw_output,
        retryable=retryable,
        raw=envelope,
    )


def parse_external_task_result_artifact(
    artifact: Mapping[str, Any], *, contract: Mapping[str, Any] | None = None
) -> ExternalTaskResult:
    """Verify a published fixture artifact (framing + sha256), then parse its example."""
    example = verify_artifact(
        artifact,
        prefix=EXTERNAL_TASK_RESULT_SCHEMA + ".",
        media_type=EXTERNAL_TASK_RESULT_MEDIA_TYPE,
        schema=EXTERNAL_TASK_RESULT_SCHEMA,
        version=EXTERNAL_TASK_RESULT_VERSION,
        what="external task result artifact",
        error=ExternalTaskResultError,
    )
    return parse_external_task_result(example, contract=contract)
