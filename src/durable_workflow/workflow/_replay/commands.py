"""Workflow commands and their wire shapes (worker-protocol.md §9.5).

A workflow yields these objects; the replay engine matches them against
history, and the worker sends the new ones to the server through
:func:`commands_to_server_commands`. Validation happens at serialisation and
raises ``ValueError`` naming the offending field, before anything reaches the
server.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from durable_workflow import serializer
from durable_workflow.codecs import PayloadCodec
from durable_workflow.converter import DataConverter
from durable_workflow.external_storage import ExternalStorageDriver

__all__ = [
    "Command",
    "CompleteUpdate",
    "CompleteWorkflow",
    "ContinueAsNew",
    "FailUpdate",
    "FailWorkflow",
    "RecordSideEffect",
    "RecordVersionMarker",
    "ScheduleActivity",
    "StartChildWorkflow",
    "StartTimer",
    "UpsertSearchAttributes",
    "WaitCondition",
    "command_codec",
    "commands_to_server_commands",
]

PARENT_CLOSE_POLICIES = ("abandon", "request_cancel", "terminate")


@runtime_checkable
class RetryPolicyLike(Protocol):
    """Anything with the ``to_dict()`` wire shape of a durable retry policy."""

    def to_dict(self) -> dict[str, Any]: ...


RetryPolicyArg = RetryPolicyLike | Mapping[str, Any] | None


def command_codec(payload_codec: str | None) -> str:
    """The codec to encode command payloads with: the run's, when the SDK can write it.

    Upstream rule (payloads.md §1): the task's codec if it is ``json``/``avro``,
    otherwise ``avro``.
    """
    return payload_codec if payload_codec in serializer.SUPPORTED_CODECS else serializer.AVRO_CODEC


def _retry_policy_dict(policy: RetryPolicyArg, field_name: str) -> dict[str, Any] | None:
    if policy is None:
        return None
    if isinstance(policy, RetryPolicyLike):
        return policy.to_dict()
    if isinstance(policy, Mapping):
        return dict(policy)
    raise ValueError(f"{field_name} must be a retry policy object or a dict")


SizeWarning = serializer.PayloadSizeWarningConfig | None


class _WireCommand(abc.ABC):
    """Upstream's ``to_server_command`` keywords, turned into one converter.

    Each command writes its wire dict in ``to_wire(task_queue, converter)``;
    this keeps upstream's keyword signature (sdk-surface.md §9.5) working on
    top of it.
    """

    @abc.abstractmethod
    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        """This command's wire dict, its payloads converted with ``converter``."""

    def to_server_command(
        self,
        task_queue: str,
        *,
        payload_codec: str = serializer.AVRO_CODEC,
        size_warning: SizeWarning = serializer.DEFAULT_PAYLOAD_SIZE_WARNING,
        warning_context: serializer.PayloadSizeWarningContext | None = None,
        external_storage: ExternalStorageDriver | None = None,
        external_storage_threshold_bytes: int | None = None,
        payload_codec_chain: PayloadCodec | None = None,
    ) -> dict[str, Any]:
        """The wire dict; with a driver *and* a threshold, large payloads are offloaded."""
        converter = DataConverter(
            codec=payload_codec,
            codec_chain=payload_codec_chain,
            external_storage=external_storage,
            threshold_bytes=external_storage_threshold_bytes,
            size_warning=size_warning,
            context=warning_context,
        )
        return self.to_wire(task_queue, converter)


def _seconds(value: Any, field_name: str, *, minimum: int) -> int | None:
    """Whole seconds (fractions round up), at least ``minimum``; ``None`` passes through."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field_name} must be a number of seconds, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{field_name} must be finite, got {value!r}")
    seconds = math.ceil(value)
    if seconds < minimum:
        raise ValueError(f"{field_name} must be >= {minimum} seconds, got {value!r}")
    return seconds


def _require_text(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field_name} must be a non-empty string")
    return value.strip()


def _argument_list(arguments: Any) -> list[Any]:
    if arguments is None:
        return []
    if isinstance(arguments, (list, tuple)):
        return list(arguments)
    return [arguments]


@dataclass
class ScheduleActivity(_WireCommand):
    """Run an activity; the yield resolves to its result or raises ``ActivityFailed``."""

    activity_type: str
    arguments: list[Any] = field(default_factory=list)
    queue: str | None = None
    retry_policy: RetryPolicyArg = None
    start_to_close_timeout: int | None = None
    schedule_to_start_timeout: int | None = None
    schedule_to_close_timeout: int | None = None
    heartbeat_timeout: int | None = None
    #: The activity's return hint when scheduled by function: the result is decoded into it.
    result_type: Any = field(default=None, compare=False, repr=False)

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        command: dict[str, Any] = {
            "type": "schedule_activity",
            "activity_type": _require_text(self.activity_type, "activity_type"),
            "queue": self.queue or task_queue,
            "arguments": converter.encode(
                _argument_list(self.arguments), "activity_input", activity_name=self.activity_type
            ),
        }
        policy = _retry_policy_dict(self.retry_policy, "retry_policy")
        if policy is not None:
            command["retry_policy"] = policy
        timeouts = {
            name: _seconds(getattr(self, name), name, minimum=1)
            for name in (
                "start_to_close_timeout",
                "schedule_to_start_timeout",
                "schedule_to_close_timeout",
                "heartbeat_timeout",
            )
        }
        _check_order(timeouts, "heartbeat_timeout", "start_to_close_timeout")
        _check_order(timeouts, "start_to_close_timeout", "schedule_to_close_timeout")
        _check_order(timeouts, "schedule_to_start_timeout", "schedule_to_close_timeout")
        command.update({name: value for name, value in timeouts.items() if value is not None})
        return command


def _check_order(values: Mapping[str, int | None], smaller: str, larger: str) -> None:
    low, high = values.get(smaller), values.get(larger)
    if low is not None and high is not None and low > high:
        raise ValueError(f"{smaller} ({low}) must be <= {larger} ({high})")


@dataclass
class StartTimer(_WireCommand):
    """Sleep durably; the yield resolves to ``None`` when the timer fires."""

    delay_seconds: int

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        return {
            "type": "start_timer",
            "delay_seconds": _seconds(self.delay_seconds, "delay_seconds", minimum=0),
        }


@dataclass
class CompleteWorkflow(_WireCommand):
    """Terminal: the run completes with ``result``."""

    result: Any = None

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        return {
            "type": "complete_workflow",
            "result": converter.encode(self.result, "workflow_result"),
        }


@dataclass
class FailWorkflow(_WireCommand):
    """Terminal: the run fails with ``message`` (``exception_type`` = Python class name)."""

    message: str
    exception_type: str | None = None
    non_retryable: bool = False

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        message = self.message if isinstance(self.message, str) else str(self.message)
        command: dict[str, Any] = {
            "type": "fail_workflow",
            # The server requires a non-empty message; fall back to the type name.
            "message": message.strip() or self.exception_type or "workflow failed",
        }
        if self.exception_type:
            command["exception_type"] = self.exception_type
        if self.non_retryable:
            command["non_retryable"] = True
        return command


@dataclass
class CompleteUpdate(_WireCommand):
    """Answer an accepted update with its handler's result."""

    update_id: str
    result: Any = None

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        return {
            "type": "complete_update",
            "update_id": _require_text(self.update_id, "update_id"),
            "result": converter.encode(self.result, "update_result"),
        }


@dataclass
class FailUpdate(_WireCommand):
    """Reject an accepted update (validator or handler raised)."""

    update_id: str
    message: str
    exception_type: str | None = None
    exception_class: str | None = None
    non_retryable: bool = True

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        command: dict[str, Any] = {
            "type": "fail_update",
            "update_id": _require_text(self.update_id, "update_id"),
            "message": (self.message or "").strip() or self.exception_type or "update failed",
            "non_retryable": bool(self.non_retryable),
        }
        if self.exception_type:
            command["exception_type"] = self.exception_type
        if self.exception_class:
            command["exception_class"] = self.exception_class
        return command


@dataclass
class ContinueAsNew(_WireCommand):
    """Terminal: close this run and start a fresh one with ``arguments``."""

    workflow_type: str | None = None
    arguments: list[Any] = field(default_factory=list)
    task_queue: str | None = None

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        command: dict[str, Any] = {
            "type": "continue_as_new",
            "arguments": converter.encode(_argument_list(self.arguments), "continue_as_new_input"),
            "queue": self.task_queue or task_queue,
        }
        if self.workflow_type is not None:
            command["workflow_type"] = _require_text(self.workflow_type, "workflow_type")
        return command


@dataclass
class RecordSideEffect(_WireCommand):
    """Record a non-deterministic value once; replays return the recorded value."""

    result: Any = None
    # Set by WorkflowContext.side_effect: called only when history has no value yet.
    _compute: Callable[[], Any] | None = field(default=None, repr=False, compare=False)

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        # The server requires the bare blob here: neither an envelope nor an
        # external reference is accepted (payloads.md §4.2), so a side-effect value
        # is never offloaded even when storage is configured (docs/compat.md); a
        # payload codec chain still transforms the bare blob.
        return {
            "type": "record_side_effect",
            "result": converter.encode_bare(self.result, "side_effect_result"),
        }


@dataclass
class StartChildWorkflow(_WireCommand):
    """Start a child run; the yield resolves to its result or raises ``ChildWorkflowFailed``."""

    workflow_type: str
    arguments: list[Any] = field(default_factory=list)
    task_queue: str | None = None
    parent_close_policy: str | None = None
    retry_policy: RetryPolicyArg = None
    execution_timeout_seconds: int | None = None
    run_timeout_seconds: int | None = None
    #: The child's ``run`` result hint when started by class: the result is decoded into it.
    result_type: Any = field(default=None, compare=False, repr=False)

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        command: dict[str, Any] = {
            "type": "start_child_workflow",
            "workflow_type": _require_text(self.workflow_type, "workflow_type"),
            "queue": self.task_queue or task_queue,
            "arguments": converter.encode(_argument_list(self.arguments), "child_workflow_input"),
        }
        if self.parent_close_policy is not None:
            if self.parent_close_policy not in PARENT_CLOSE_POLICIES:
                raise ValueError(
                    f"parent_close_policy must be one of {', '.join(PARENT_CLOSE_POLICIES)}, "
                    f"got {self.parent_close_policy!r}"
                )
            command["parent_close_policy"] = self.parent_close_policy
        policy = _retry_policy_dict(self.retry_policy, "retry_policy")
        if policy is not None:
            command["retry_policy"] = policy
        timeouts = {
            "execution_timeout_seconds": _seconds(
                self.execution_timeout_seconds, "execution_timeout_seconds", minimum=1
            ),
            "run_timeout_seconds": _seconds(
                self.run_timeout_seconds, "run_timeout_seconds", minimum=1
            ),
        }
        _check_order(timeouts, "run_timeout_seconds", "execution_timeout_seconds")
        command.update({name: value for name, value in timeouts.items() if value is not None})
        return command


@dataclass
class RecordVersionMarker(_WireCommand):
    """Record which code path a run took for ``change_id`` (get_version / patched)."""

    change_id: str
    version: int
    min_supported: int
    max_supported: int
    result_kind: str = "version"

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        for name in ("version", "min_supported", "max_supported"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if not self.min_supported <= self.version <= self.max_supported:
            raise ValueError(
                f"version ({self.version}) must lie in [min_supported ({self.min_supported}), "
                f"max_supported ({self.max_supported})]"
            )
        return {
            "type": "record_version_marker",
            "change_id": _require_text(self.change_id, "change_id"),
            "version": self.version,
            "min_supported": self.min_supported,
            "max_supported": self.max_supported,
        }


@dataclass
class UpsertSearchAttributes(_WireCommand):
    """Merge search attributes into the run's visibility record."""

    attributes: dict[str, Any]

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        if not isinstance(self.attributes, Mapping) or not self.attributes:
            raise ValueError("attributes must be a non-empty dict")
        for key, value in self.attributes.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"attributes keys must be non-empty strings, got {key!r}")
            if value is not None and not isinstance(value, (str, int, float, bool)):
                raise ValueError(f"attributes[{key!r}] must be a scalar or None")
        return {"type": "upsert_search_attributes", "attributes": dict(self.attributes)}


@dataclass
class WaitCondition(_WireCommand):
    """Block until ``predicate()`` holds (yield -> True) or ``timeout_seconds`` pass (False)."""

    predicate: Callable[[], Any]
    condition_key: str | None = None
    condition_definition_fingerprint: str | None = None
    timeout_seconds: int | None = None

    def to_wire(self, task_queue: str, converter: DataConverter) -> dict[str, Any]:
        command: dict[str, Any] = {"type": "open_condition_wait"}
        if self.condition_key is not None:
            command["condition_key"] = _require_text(self.condition_key, "condition_key")
        if self.condition_definition_fingerprint is not None:
            command["condition_definition_fingerprint"] = self.condition_definition_fingerprint
        timeout = _seconds(self.timeout_seconds, "timeout_seconds", minimum=0)
        if timeout is not None:
            command["timeout_seconds"] = timeout
        return command


Command = (
    ScheduleActivity
    | StartTimer
    | CompleteWorkflow
    | FailWorkflow
    | CompleteUpdate
    | FailUpdate
    | ContinueAsNew
    | RecordSideEffect
    | StartChildWorkflow
    | RecordVersionMarker
    | UpsertSearchAttributes
    | WaitCondition
)

TERMINAL_COMMANDS = (CompleteWorkflow, FailWorkflow, ContinueAsNew)


def commands_to_server_commands(
    commands: Iterable[Command],
    task_queue: str,
    *,
    payload_codec: str | None = serializer.AVRO_CODEC,
    size_warning: SizeWarning = serializer.DEFAULT_PAYLOAD_SIZE_WARNING,
    warning_context: serializer.PayloadWarningContext = None,
    external_storage: ExternalStorageDriver | None = None,
    external_storage_threshold_bytes: int | None = None,
    payload_codec_chain: PayloadCodec | None = None,
    converter: DataConverter | None = None,
) -> list[dict[str, Any]]:
    """Wire dicts for a workflow-task completion, payloads in the run's codec.

    A ``ValueError`` names the command index and field that failed validation.
    Payloads near the size limit log a warning (``size_warning=None`` turns it
    off) carrying ``warning_context`` with the payload's kind filled in. With
    ``external_storage`` and ``external_storage_threshold_bytes`` both set, an
    argument or result payload whose blob is larger than the threshold is
    stored there and sent as a ``{codec, external_storage}`` reference.
    ``payload_codec_chain`` (beyond upstream) transforms every payload blob
    first; ``payload_codec`` stays the run's codec name. ``converter`` (beyond
    upstream) carries all of these at once; the keywords are ignored with it.
    """
    if converter is None:
        converter = DataConverter(
            codec_chain=payload_codec_chain,
            external_storage=external_storage,
            threshold_bytes=external_storage_threshold_bytes,
            size_warning=size_warning,
            context=warning_context,
        )
    return converted_commands(
        commands, task_queue, converter.with_codec(command_codec(payload_codec))
    )


def converted_commands(
    commands: Iterable[Command], task_queue: str, converter: DataConverter
) -> list[dict[str, Any]]:
    """Wire dicts for ``commands``, each converting its payloads with ``converter``."""
    wire: list[dict[str, Any]] = []
    for index, command in enumerate(commands):
        try:
            wire.append(command.to_wire(task_queue, converter))
        except ValueError as exc:
            raise ValueError(f"commands[{index}] ({type(command).__name__}): {exc}") from exc
    return wire
