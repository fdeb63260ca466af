"""Validation and normalisation of workflow-task commands (worker-protocol.md §9.5).

Two stages, as upstream: :func:`validate_commands` (field types, scope
matrix, timeout ordering -- runs before the ownership guard) and
:func:`normalise_commands` (per-type required fields, payloads, unknown
types -- runs after it). Both raise :class:`ValidationFailed` (422).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from durable_workflow.server.engine.errors import ValidationFailed
from durable_workflow.server.engine.external_payloads import MARKER_REFUSED
from durable_workflow.server.engine.payload_codec import (
    is_external_envelope,
    is_inline_envelope,
    is_marker,
)

TERMINAL_COMMANDS = ("complete_workflow", "fail_workflow", "continue_as_new")
# Implemented here, in the advertised order (terminal first, worker-protocol.md §6).
SUPPORTED_COMMANDS = (
    "complete_workflow",
    "fail_workflow",
    "continue_as_new",
    "schedule_activity",
    "start_timer",
    "start_child_workflow",
    "complete_update",
    "fail_update",
    "record_side_effect",
    "record_version_marker",
    "upsert_search_attributes",
)
# Accepted but, as upstream, not advertised (worker-protocol.md §9.5.13).
ACCEPTED_UNADVERTISED = ("open_condition_wait",)

# Field -> (command types that own it, minimum for ints or None).
_SCOPED_INT_FIELDS: dict[str, tuple[tuple[str, ...], int]] = {
    "start_to_close_timeout": (("schedule_activity",), 1),
    "schedule_to_start_timeout": (("schedule_activity",), 1),
    "schedule_to_close_timeout": (("schedule_activity",), 1),
    "heartbeat_timeout": (("schedule_activity",), 1),
    "execution_timeout_seconds": (("start_child_workflow",), 1),
    "run_timeout_seconds": (("start_child_workflow",), 1),
    "delay_seconds": (("start_timer",), 0),
    "timeout_seconds": (("open_condition_wait",), 0),
}
_SCOPE_OTHER: dict[str, tuple[str, ...]] = {
    "retry_policy": ("schedule_activity", "start_child_workflow"),
    "non_retryable": ("fail_workflow", "fail_update"),
    "parent_close_policy": ("start_child_workflow",),
}
_STRING_FIELDS = (
    "type",
    "activity_type",
    "connection",
    "queue",
    "workflow_type",
    "message",
    "update_id",
    "exception_class",
    "exception_type",
    "change_id",
    "condition_key",
    "condition_definition_fingerprint",
    "condition_wait_occurrence_id",
)
_PLAIN_INT_FIELDS = ("version", "min_supported", "max_supported")
_PARENT_CLOSE = ("abandon", "request_cancel", "terminate")


class _Errors:
    def __init__(self) -> None:
        self.map: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.map.setdefault(key, []).append(message)

    def raise_if_any(self) -> None:
        if self.map:
            raise ValidationFailed(self.map)


def _coerce_int(value: Any) -> Any:
    """Decimal strings within 64 bits become ints (upstream's string-integer coercion)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        number = int(value.strip())
        return number if -(2**63) <= number < 2**63 else value
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(errors: _Errors, key: str, value: Any, minimum: int | None) -> None:
    if not _is_int(value):
        errors.add(key, f"The {key} field must be an integer.")
    elif minimum is not None and value < minimum:
        errors.add(key, f"The {key} field must be at least {minimum}.")


def _validate_retry_policy(errors: _Errors, prefix: str, policy: Any) -> dict[str, Any] | None:
    if not isinstance(policy, dict):
        errors.add(prefix, f"The {prefix} field must be an object.")
        return None
    clean: dict[str, Any] = {}
    if policy.get("max_attempts") is not None:
        value = _coerce_int(policy["max_attempts"])
        _check_int(errors, f"{prefix}.max_attempts", value, 1)
        clean["max_attempts"] = value
    if policy.get("backoff_seconds") is not None:
        backoff = policy["backoff_seconds"]
        if not isinstance(backoff, list):
            errors.add(
                f"{prefix}.backoff_seconds", f"The {prefix}.backoff_seconds field must be a list."
            )
        else:
            items = [_coerce_int(v) for v in backoff]
            for index, item in enumerate(items):
                _check_int(errors, f"{prefix}.backoff_seconds.{index}", item, 0)
            clean["backoff_seconds"] = items
    if policy.get("non_retryable_error_types") is not None:
        types = policy["non_retryable_error_types"]
        if not isinstance(types, list):
            errors.add(
                f"{prefix}.non_retryable_error_types",
                f"The {prefix}.non_retryable_error_types field must be a list.",
            )
        else:
            seen: list[str] = []
            for index, item in enumerate(types):
                if not isinstance(item, str) or not item.strip():
                    errors.add(
                        f"{prefix}.non_retryable_error_types.{index}",
                        f"The {prefix}.non_retryable_error_types.{index} field must be a "
                        "non-empty string.",
                    )
                elif item.strip() not in seen:
                    seen.append(item.strip())
            clean["non_retryable_error_types"] = seen
    return clean


def validate_commands(raw: Any) -> list[dict[str, Any]]:
    """Stage one: types, scope matrix and timeout ordering; returns coerced copies."""
    errors = _Errors()
    if not isinstance(raw, list) or not raw:
        if raw is not None and not isinstance(raw, list):
            errors.add("commands", "The commands field must be an array.")
        else:
            errors.add("commands", "The commands field is required.")
        errors.raise_if_any()
    assert isinstance(raw, list)
    result: list[dict[str, Any]] = []
    for index, command in enumerate(raw):
        prefix = f"commands.{index}"
        if not isinstance(command, dict):
            errors.add(prefix, f"The {prefix} field must be an object.")
            continue
        clean = dict(command)
        ctype = command.get("type")
        if ctype is None or ctype == "":
            errors.add(f"{prefix}.type", f"The {prefix}.type field is required.")
        for key in _STRING_FIELDS:
            if command.get(key) is not None and not isinstance(command[key], str):
                errors.add(f"{prefix}.{key}", f"The {prefix}.{key} field must be a string.")
        for key, (owners, minimum) in _SCOPED_INT_FIELDS.items():
            if command.get(key) is None:
                continue
            clean[key] = _coerce_int(command[key])
            _check_int(errors, f"{prefix}.{key}", clean[key], minimum)
            if isinstance(ctype, str) and ctype not in owners:
                errors.add(
                    f"{prefix}.{key}",
                    f"{key} is only supported for {' and '.join(owners)} commands.",
                )
        for key in _PLAIN_INT_FIELDS:
            if command.get(key) is not None:
                clean[key] = _coerce_int(command[key])
                _check_int(errors, f"{prefix}.{key}", clean[key], None)
        if command.get("retry_policy") is not None:
            clean["retry_policy"] = _validate_retry_policy(
                errors, f"{prefix}.retry_policy", command["retry_policy"]
            )
        if command.get("non_retryable") is not None and not isinstance(
            command["non_retryable"], bool
        ):
            errors.add(
                f"{prefix}.non_retryable",
                f"The {prefix}.non_retryable field must be true or false.",
            )
        policy = command.get("parent_close_policy")
        if policy is not None and policy not in _PARENT_CLOSE:
            errors.add(
                f"{prefix}.parent_close_policy",
                f"The selected {prefix}.parent_close_policy is invalid.",
            )
        if command.get("attributes") is not None and not isinstance(command["attributes"], dict):
            errors.add(f"{prefix}.attributes", f"The {prefix}.attributes field must be an object.")
        if isinstance(ctype, str):
            for key, owners in _SCOPE_OTHER.items():
                if command.get(key) is not None and ctype not in owners:
                    errors.add(
                        f"{prefix}.{key}",
                        f"{key} is only supported for {' and '.join(owners)} commands.",
                    )
        _check_ordering(errors, prefix, clean)
        result.append(clean)
    errors.raise_if_any()
    return result


def _check_ordering(errors: _Errors, prefix: str, command: dict[str, Any]) -> None:
    def val(key: str) -> int | None:
        value = command.get(key)
        return value if _is_int(value) else None

    pairs = (
        ("heartbeat_timeout", "start_to_close_timeout"),
        ("start_to_close_timeout", "schedule_to_close_timeout"),
        ("schedule_to_start_timeout", "schedule_to_close_timeout"),
        ("run_timeout_seconds", "execution_timeout_seconds"),
    )
    for small, large in pairs:
        a, b = val(small), val(large)
        if a is not None and b is not None and a > b:
            errors.add(
                f"{prefix}.{small}",
                f"The {prefix}.{small} must be less than or equal to {large}.",
            )


# Verifies an external envelope at a field path and returns the marker to store ([HEAD]).
ExternalAcceptor = Callable[[str, dict[str, Any]], str]


def _payload(
    errors: _Errors, key: str, value: Any, external: ExternalAcceptor | None
) -> str | None:
    """A payload field as its blob string: a bare string, an inline envelope, or a reference.

    A bare string that is an internal marker is refused: it would skip verification.
    """
    if is_marker(value):
        errors.add(key, MARKER_REFUSED.format(field=key))
        return None
    if value is None or isinstance(value, str):
        return value
    if is_inline_envelope(value) and isinstance(value.get("blob"), str):
        if is_marker(value["blob"]):
            errors.add(f"{key}.blob", MARKER_REFUSED.format(field=f"{key}.blob"))
            return None
        return str(value["blob"])
    if is_external_envelope(value):
        if external is None:
            errors.add(key, "External payload references require an external storage driver.")
            return None
        return external(key, value)
    errors.add(key, f"The {key} field must be a string or a payload envelope.")
    return None


def _required_text(errors: _Errors, prefix: str, command: dict[str, Any], key: str) -> str:
    value = command.get(key)
    if not isinstance(value, str) or not value.strip():
        errors.add(
            f"{prefix}.{key}",
            f"The {prefix}.{key} field is required for {command['type']} commands.",
        )
        return ""
    return value.strip()


def normalise_commands(
    commands: list[dict[str, Any]], external: ExternalAcceptor | None = None
) -> list[dict[str, Any]]:
    """Stage two: per-type required fields and payloads; unknown types are a 422.

    ``external`` verifies ``{codec, external_storage}`` payloads (without it they are
    refused); it raises a 422 naming the field when a reference does not hold.
    """
    errors = _Errors()
    out: list[dict[str, Any]] = []
    for index, command in enumerate(commands):
        prefix = f"commands.{index}"
        ctype = command["type"]
        norm: dict[str, Any] = {"type": ctype}
        if ctype not in SUPPORTED_COMMANDS and ctype not in ACCEPTED_UNADVERTISED:
            errors.add(
                f"{prefix}.type",
                f"Workflow task command type [{ctype}] is not supported by the server yet.",
            )
            continue
        if ctype == "schedule_activity":
            norm["activity_type"] = _required_text(errors, prefix, command, "activity_type")
            norm["arguments"] = _payload(
                errors, f"{prefix}.arguments", command.get("arguments"), external
            )
            norm["queue"] = command.get("queue") or None
            norm["retry_policy"] = command.get("retry_policy")
            for key in (
                "start_to_close_timeout",
                "schedule_to_start_timeout",
                "schedule_to_close_timeout",
                "heartbeat_timeout",
            ):
                norm[key] = command.get(key)
        elif ctype == "start_timer":
            if command.get("delay_seconds") is None:
                errors.add(
                    f"{prefix}.delay_seconds",
                    f"The {prefix}.delay_seconds field is required for start_timer commands.",
                )
            norm["delay_seconds"] = command.get("delay_seconds")
        elif ctype == "complete_workflow":
            norm["result"] = _payload(errors, f"{prefix}.result", command.get("result"), external)
        elif ctype == "fail_workflow":
            norm["message"] = _required_text(errors, prefix, command, "message")
            norm["exception_type"] = command.get("exception_type")
            norm["exception_class"] = command.get("exception_class") or "RuntimeException"
            norm["non_retryable"] = bool(command.get("non_retryable") or False)
        elif ctype == "continue_as_new":
            norm["arguments"] = _payload(
                errors, f"{prefix}.arguments", command.get("arguments"), external
            )
            norm["has_arguments"] = command.get("arguments") is not None
            wf_type = command.get("workflow_type")
            if wf_type is not None and not str(wf_type).strip():
                errors.add(
                    f"{prefix}.workflow_type",
                    f"The {prefix}.workflow_type field must not be empty.",
                )
            norm["workflow_type"] = str(wf_type).strip() if wf_type else None
        elif ctype == "start_child_workflow":
            norm["workflow_type"] = _required_text(errors, prefix, command, "workflow_type")
            norm["arguments"] = _payload(
                errors, f"{prefix}.arguments", command.get("arguments"), external
            )
            norm["queue"] = command.get("queue") or None
            norm["parent_close_policy"] = command.get("parent_close_policy")
            norm["retry_policy"] = command.get("retry_policy")
            norm["execution_timeout_seconds"] = command.get("execution_timeout_seconds")
            norm["run_timeout_seconds"] = command.get("run_timeout_seconds")
        elif ctype in ("complete_update", "fail_update"):
            norm["update_id"] = _required_text(errors, prefix, command, "update_id")
            if ctype == "complete_update":
                norm["result"] = _payload(
                    errors, f"{prefix}.result", command.get("result"), external
                )
            else:
                norm["message"] = _required_text(errors, prefix, command, "message")
                norm["exception_type"] = command.get("exception_type")
                norm["exception_class"] = command.get("exception_class") or "RuntimeException"
                norm["non_retryable"] = bool(command.get("non_retryable") or False)
        elif ctype == "record_side_effect":
            if not isinstance(command.get("result"), str) or is_marker(command["result"]):
                errors.add(
                    f"{prefix}.result", "Record side effect commands require a string result."
                )
            norm["result"] = command.get("result")
        elif ctype == "record_version_marker":
            norm["change_id"] = _required_text(errors, prefix, command, "change_id")
            for key in ("version", "min_supported", "max_supported"):
                if not _is_int(command.get(key)):
                    errors.add(prefix, f"The {key} field is required and must be an integer.")
                norm[key] = command.get(key)
        elif ctype == "open_condition_wait":
            keys = (
                "condition_key",
                "condition_definition_fingerprint",
                "condition_wait_occurrence_id",
            )
            for key in keys:
                value = command.get(key)
                if value is not None and not str(value).strip():
                    errors.add(f"{prefix}.{key}", f"The {prefix}.{key} field must not be empty.")
                norm[key] = value
            norm["timeout_seconds"] = command.get("timeout_seconds")
        elif ctype == "upsert_search_attributes":
            attributes = command.get("attributes")
            if not isinstance(attributes, dict) or not attributes:
                errors.add(
                    f"{prefix}.attributes",
                    f"The {prefix}.attributes field is required for upsert_search_attributes "
                    "commands.",
                )
            norm["attributes"] = attributes
        out.append(norm)
    errors.raise_if_any()
    return out
