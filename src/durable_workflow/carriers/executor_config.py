"""External executor config documents (contracts.md §6.2): load, overlay, validate.

The runner only dispatches what a *valid* config maps; any error refuses the
whole document (fail closed), with the server's named error codes so an
operator sees the same diagnosis from the runner and from cluster info.
Error context never carries secret-looking values.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from durable_workflow._generated import manifest as _manifest
from durable_workflow._loopback import is_loopback_url

__all__ = [
    "CONFIG_PATH_ENV",
    "CONFIG_SCHEMA",
    "CONFIG_VERSION",
    "OVERLAY_ENV",
    "ActivityMapping",
    "AuthRef",
    "ExecutorConfig",
    "ExecutorConfigError",
    "InvocableTarget",
    "TransportRetryPolicy",
    "load_executor_config",
    "validate_executor_config",
]

CONFIG_SCHEMA: str = _manifest.EXTERNAL_EXECUTOR_CONFIG_CONTRACT_CONFIG_SCHEMA
CONFIG_VERSION: int = _manifest.EXTERNAL_EXECUTOR_CONFIG_CONTRACT_CONFIG_SCHEMA_VERSION
CONFIG_PATH_ENV = "DW_EXTERNAL_EXECUTOR_CONFIG_PATH"
OVERLAY_ENV = "DW_EXTERNAL_EXECUTOR_CONFIG_OVERLAY"
INVOCABLE_HTTP = _manifest.INVOCABLE_CARRIER_CONTRACT_CARRIER_TYPE

MAPPING_KINDS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    # kind -> (carrier capability, target fields the kind needs)
    "activity": ("activity_task", ("activity_type",)),
    "workflow_start": ("workflow_start", ("workflow_type",)),
    "workflow_signal": ("workflow_signal", ("workflow_type", "signal_name")),
    "workflow_update": ("workflow_update", ("workflow_type", "update_name")),
    "webhook_ingress": ("webhook_ingress", ("idempotency_key",)),
}
DEFAULT_TIMEOUT_SECONDS = 30
DEFAULT_RETRYABLE_STATUS: tuple[int | str, ...] = (408, 429, "5xx")
_SECRET_HINTS = ("token", "secret", "authorization", "signature", "password", "key")


class ExecutorConfigError(ValueError):
    """A config the runner must refuse; ``code`` is one of the contract's named errors."""

    def __init__(self, code: str, message: str, context: Mapping[str, Any] | None = None) -> None:
        self.code = code
        self.message = message
        self.context = _redact_context(context or {})
        super().__init__(f"{code}: {message}")


def _redact_context(context: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: "redacted" if any(hint in key.lower() for hint in _SECRET_HINTS) else value
        for key, value in context.items()
    }


@dataclass(frozen=True)
class TransportRetryPolicy:
    """Carrier-owned delivery retries, before any result is reported (§8.1)."""

    max_attempts: int = 1
    backoff_seconds: tuple[int, ...] = ()
    retryable_status_codes: tuple[int | str, ...] = DEFAULT_RETRYABLE_STATUS

    def retries_status(self, status: int) -> bool:
        return status in self.retryable_status_codes or (
            "5xx" in self.retryable_status_codes and 500 <= status <= 599
        )

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based); the last value repeats."""
        if not self.backoff_seconds:
            return 0.0
        return float(self.backoff_seconds[min(attempt, len(self.backoff_seconds)) - 1])


@dataclass(frozen=True)
class AuthRef:
    """A named credential reference; the secret is read from the environment when used."""

    name: str
    type: str
    env: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class InvocableTarget:
    """Where and how to deliver input envelopes for one ``invocable_http`` carrier."""

    carrier: str
    url: str
    method: str = "POST"
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    retry_policy: TransportRetryPolicy = field(default_factory=TransportRetryPolicy)


@dataclass(frozen=True)
class ActivityMapping:
    """One ``activity`` mapping routed to an invocable HTTP carrier."""

    name: str
    activity_type: str
    task_queue: str
    handler: str
    target: InvocableTarget
    auth: AuthRef | None


@dataclass(frozen=True)
class ExecutorConfig:
    """A validated config: the invocable activity mappings the runner serves."""

    namespace: str | None
    mappings: tuple[ActivityMapping, ...]
    other_mappings: tuple[str, ...] = ()  # valid mappings this runner does not dispatch

    @property
    def task_queues(self) -> dict[str, list[ActivityMapping]]:
        queues: dict[str, list[ActivityMapping]] = {}
        for mapping in self.mappings:
            queues.setdefault(mapping.task_queue, []).append(mapping)
        return queues


def load_executor_config(
    path: str | Path, *, overlay: str | None = None, environ: Mapping[str, str] | None = None
) -> ExecutorConfig:
    """Read and validate a config file; the overlay defaults to ``$DW_EXTERNAL_..._OVERLAY``."""
    env = os.environ if environ is None else environ
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ExecutorConfigError(
            "unreadable_config",
            f"cannot read the executor config: {exc.strerror or exc}",
            {"basename": Path(path).name},
        ) from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ExecutorConfigError(
            "invalid_json",
            f"executor config is not valid JSON: {exc}",
            {"basename": Path(path).name},
        ) from exc
    return validate_executor_config(document, overlay=overlay or env.get(OVERLAY_ENV) or None)


def _apply_overlay(document: dict[str, Any], name: str) -> dict[str, Any]:
    overlays = document.get("overlays")
    if not isinstance(overlays, Mapping) or not isinstance(overlays.get(name), Mapping):
        raise ExecutorConfigError(
            "unknown_overlay", f"overlay {name!r} is not defined", {"overlay": name}
        )
    patch = overlays[name]
    merged = copy.deepcopy(document)
    if isinstance(patch.get("defaults"), Mapping):
        merged["defaults"] = {**(merged.get("defaults") or {}), **patch["defaults"]}
    if isinstance(patch.get("carriers"), Mapping):
        merged["carriers"] = _deep_merge(merged.get("carriers") or {}, patch["carriers"])
    if "mappings" in patch:
        merged["mappings"] = copy.deepcopy(patch["mappings"])
    return merged


def _deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def validate_executor_config(document: Any, *, overlay: str | None = None) -> ExecutorConfig:
    """Validate a parsed document (rules of contracts.md §6.2); raise on the first error."""
    if not isinstance(document, dict):
        raise ExecutorConfigError("invalid_schema", "executor config must be a JSON object")
    if document.get("schema") != CONFIG_SCHEMA:
        raise ExecutorConfigError(
            "invalid_schema",
            f"schema must be {CONFIG_SCHEMA!r}",
            {"schema": document.get("schema")},
        )
    version = document.get("version")
    if version != CONFIG_VERSION or isinstance(version, bool):
        raise ExecutorConfigError(
            "unsupported_version", f"version must be {CONFIG_VERSION}", {"version": version}
        )
    if overlay:
        document = _apply_overlay(document, overlay)
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise ExecutorConfigError("invalid_schema", "defaults must be an object")
    auth_refs = _auth_refs(document.get("auth_refs") or {})
    carriers = document.get("carriers")
    if not isinstance(carriers, Mapping) or not carriers:
        raise ExecutorConfigError("invalid_schema", "carriers must be a non-empty object")
    for name, carrier in carriers.items():
        if not isinstance(carrier, Mapping) or not isinstance(carrier.get("type"), str):
            raise ExecutorConfigError(
                "invalid_schema",
                f"carrier {name!r} must be an object with a type",
                {"carrier": name},
            )
    targets = {
        str(name): _invocable_target(str(name), carrier)
        for name, carrier in carriers.items()
        if carrier["type"] == INVOCABLE_HTTP
    }
    mappings = document.get("mappings")
    if not isinstance(mappings, list) or not mappings:
        raise ExecutorConfigError("invalid_schema", "mappings must be a non-empty list")

    seen: set[str] = set()
    served: list[ActivityMapping] = []
    others: list[str] = []
    for index, mapping in enumerate(mappings):
        if not isinstance(mapping, Mapping):
            raise ExecutorConfigError("invalid_schema", f"mappings[{index}] must be an object")
        result = _mapping(mapping, index, seen, defaults, carriers, targets, auth_refs)
        if result is None:
            others.append(str(mapping["name"]))
        else:
            served.append(result)
    namespace = defaults.get("namespace")
    return ExecutorConfig(
        namespace=namespace if isinstance(namespace, str) and namespace else None,
        mappings=tuple(served),
        other_mappings=tuple(others),
    )


def _auth_refs(raw: Any) -> dict[str, AuthRef]:
    if not isinstance(raw, Mapping):
        raise ExecutorConfigError("invalid_schema", "auth_refs must be an object")
    refs: dict[str, AuthRef] = {}
    for name, ref in raw.items():
        if not isinstance(ref, Mapping) or not isinstance(ref.get("type"), str):
            raise ExecutorConfigError(
                "invalid_schema",
                f"auth ref {name!r} must be an object with a type",
                {"auth_ref": name},
            )
        env = ref.get("env")
        profile = ref.get("profile")
        refs[str(name)] = AuthRef(
            name=str(name),
            type=ref["type"],
            env=env if isinstance(env, str) else None,
            profile=profile if isinstance(profile, str) else None,
        )
    return refs


def _mapping(
    mapping: Mapping[str, Any],
    index: int,
    seen: set[str],
    defaults: Mapping[str, Any],
    carriers: Mapping[str, Any],
    targets: Mapping[str, InvocableTarget],
    auth_refs: Mapping[str, AuthRef],
) -> ActivityMapping | None:
    name = mapping.get("name")
    if not isinstance(name, str) or not name:
        raise ExecutorConfigError("invalid_schema", f"mappings[{index}].name is required")
    if name in seen:
        raise ExecutorConfigError("duplicate_mapping_name", f"mapping name {name!r} is used twice")
    seen.add(name)
    context = {"mapping": name}
    kind = mapping.get("kind")
    if not isinstance(kind, str) or kind not in MAPPING_KINDS:
        raise ExecutorConfigError(
            "invalid_schema", f"mapping {name!r} has unknown kind {kind!r}", context
        )
    carrier_name = mapping.get("carrier")
    if not isinstance(carrier_name, str) or carrier_name not in carriers:
        raise ExecutorConfigError(
            "unknown_carrier", f"mapping {name!r} names unknown carrier {carrier_name!r}", context
        )
    carrier = carriers[carrier_name]
    handler = mapping.get("handler")
    if not isinstance(handler, str) or not handler:
        raise ExecutorConfigError(
            "missing_handler_target", f"mapping {name!r} needs a handler", context
        )
    auth_name = mapping.get("auth_ref", defaults.get("auth_ref"))
    if auth_name is not None and auth_name not in auth_refs:
        raise ExecutorConfigError(
            "unknown_auth_ref", f"mapping {name!r} names unknown auth ref {auth_name!r}", context
        )
    capability, target_fields = MAPPING_KINDS[kind]
    for target_field in target_fields:
        if not isinstance(mapping.get(target_field), str) or not mapping[target_field]:
            raise ExecutorConfigError(
                "missing_handler_target", f"mapping {name!r} ({kind}) needs {target_field}", context
            )
    task_queue = mapping.get("task_queue", defaults.get("task_queue"))
    if kind == "activity" and (not isinstance(task_queue, str) or not task_queue):
        raise ExecutorConfigError(
            "invalid_queue_binding",
            f"mapping {name!r} needs task_queue or defaults.task_queue",
            context,
        )
    capabilities = carrier.get("capabilities")
    if capabilities is not None and capability not in capabilities:
        raise ExecutorConfigError(
            "unsupported_carrier_capability",
            f"carrier {carrier_name!r} does not declare {capability!r}",
            context,
        )
    for optional in ("rollout", "metadata"):
        if optional in mapping and not isinstance(mapping[optional], Mapping):
            raise ExecutorConfigError(
                "invalid_schema", f"mapping {name!r}.{optional} must be an object", context
            )
    target = targets.get(carrier_name)
    if target is None:
        return None
    if kind != "activity":
        raise ExecutorConfigError(
            "invalid_invocable_carrier_scope",
            f"invocable carrier {carrier_name!r} serves activity mappings only",
            context,
        )
    auth = auth_refs[auth_name] if auth_name is not None else None
    if auth is None and not is_loopback_url(target.url):
        raise ExecutorConfigError(
            "missing_invocable_auth_ref",
            f"mapping {name!r} targets a non-loopback endpoint and needs an auth_ref",
            context,
        )
    return ActivityMapping(
        name=name,
        activity_type=mapping["activity_type"],
        task_queue=str(task_queue),
        handler=handler,
        target=target,
        auth=auth,
    )


def _invalid_target(carrier: str, message: str) -> ExecutorConfigError:
    return ExecutorConfigError("invalid_carrier_target", message, {"carrier": carrier})


def _invocable_target(name: str, carrier: Mapping[str, Any]) -> InvocableTarget:
    capabilities = carrier.get("capabilities")
    if capabilities is not None and (
        not isinstance(capabilities, list) or set(capabilities) - {"activity_task"}
    ):
        raise ExecutorConfigError(
            "invalid_invocable_carrier_scope",
            f"invocable carrier {name!r} may only declare the activity_task capability",
            {"carrier": name},
        )
    url = carrier.get("url")
    if not isinstance(url, str) or not url:
        raise _invalid_target(name, f"invocable carrier {name!r} needs a url")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise _invalid_target(name, f"invocable carrier {name!r} url must not carry user-info")
    if not parts.hostname or not (
        parts.scheme == "https" or (parts.scheme == "http" and is_loopback_url(url))
    ):
        raise _invalid_target(
            name, f"invocable carrier {name!r} url must be absolute https (http only to loopback)"
        )
    method = carrier.get("method", "POST")
    if method != "POST":
        raise _invalid_target(name, f"invocable carrier {name!r} method must be POST")
    timeout = carrier.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 900:
        raise _invalid_target(name, f"invocable carrier {name!r} timeout_seconds must be 1..900")
    return InvocableTarget(
        carrier=name,
        url=url,
        method="POST",
        timeout_seconds=timeout,
        retry_policy=_retry_policy(name, carrier.get("retry_policy")),
    )


def _int_list(value: Any, *, low: int, high: int, most: int) -> tuple[int, ...] | None:
    if not isinstance(value, list) or len(value) > most:
        return None
    if any(isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high for v in value):
        return None
    return tuple(value)


def _retry_policy(name: str, raw: Any) -> TransportRetryPolicy:
    if raw is None:
        return TransportRetryPolicy()
    if not isinstance(raw, Mapping):
        raise _invalid_target(name, f"carrier {name!r} retry_policy must be an object")
    attempts = raw.get("max_attempts", 1)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 5:
        raise _invalid_target(name, f"carrier {name!r} retry_policy.max_attempts must be 1..5")
    backoff = _int_list(raw.get("backoff_seconds", []), low=0, high=300, most=5)
    if backoff is None:
        raise _invalid_target(
            name, f"carrier {name!r} retry_policy.backoff_seconds must be <= 5 ints in 0..300"
        )
    codes: tuple[int | str, ...] = DEFAULT_RETRYABLE_STATUS
    if "retryable_status_codes" in raw:
        listed = _int_list(raw["retryable_status_codes"], low=408, high=599, most=20)
        if listed is None or any(c not in (408, 425, 429) and not 500 <= c <= 599 for c in listed):
            raise _invalid_target(
                name,
                f"carrier {name!r} retry_policy.retryable_status_codes must be <= 20 of "
                "408, 425, 429, 500-599",
            )
        codes = listed
    return TransportRetryPolicy(
        max_attempts=attempts, backoff_seconds=backoff, retryable_status_codes=codes
    )
