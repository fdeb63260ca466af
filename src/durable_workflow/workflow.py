"""Workflow authoring: decorators, registry, durable retry policies and replay entry points.

Workflows are classes whose ``run(self, ctx, *args)`` is a generator that
yields commands built by :class:`WorkflowContext`; the replay engine in
``durable_workflow._replay`` runs them against history. This module is the
public face (drop-in with upstream 0.4.53's ``durable_workflow.workflow``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._replay.commands import (
    Command,
    CompleteUpdate,
    CompleteWorkflow,
    ContinueAsNew,
    FailUpdate,
    FailWorkflow,
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
    WaitCondition,
    commands_to_server_commands,
)
from ._replay.context import WorkflowContext
from ._replay.driver import ReplayOutcome, WorkflowDriver
from ._replay.history import MalformedHistoryError, normalize_events
from ._replay.names import workflow_type_name
from ._replay.sticky import CacheStats, WorkflowCache
from .codecs import PayloadCodec
from .converter import DataConverter
from .errors import (
    NonDeterministicReplayError,
    QueryFailed,
    WorkflowPayloadDecodeError,
)
from .external_storage import ExternalPayloadCache, ExternalStorageDriver

__all__ = [
    "ActivityRetryPolicy",
    "CacheStats",
    "ChildWorkflowRetryPolicy",
    "Command",
    "CompleteUpdate",
    "CompleteWorkflow",
    "ContinueAsNew",
    "FailUpdate",
    "FailWorkflow",
    "MalformedHistoryError",
    "NonDeterministicReplayError",
    "RecordSideEffect",
    "RecordVersionMarker",
    "ReplayOutcome",
    "Replayer",
    "ScheduleActivity",
    "StartChildWorkflow",
    "StartTimer",
    "UpsertSearchAttributes",
    "WaitCondition",
    "WorkflowCache",
    "WorkflowContext",
    "apply_update",
    "commands_to_server_commands",
    "defn",
    "query",
    "query_state",
    "registry",
    "replay",
    "signal",
    "update",
    "update_validator",
]

C = TypeVar("C", bound=type)
F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, type] = {}
_HANDLER_MARKS = (
    ("__workflow_signal_name__", "__workflow_signals__"),
    ("__workflow_query_name__", "__workflow_queries__"),
    ("__workflow_update_name__", "__workflow_updates__"),
    ("__workflow_update_validator_name__", "__workflow_update_validators__"),
)


# -- durable retry policies (sdk-surface.md §5.2, §5.3) ----------------------
@dataclass
class ActivityRetryPolicy:
    """Server-side retries of one activity, recorded with its schedule command.

    ``to_dict()`` expands the interval settings into the explicit
    ``backoff_seconds`` list the server takes: ``max_attempts - 1`` entries of
    ``ceil(min(initial * coefficient**i, maximum))`` unless given explicitly.
    """

    max_attempts: int = 3
    initial_interval_seconds: float = 1.0
    backoff_coefficient: float = 2.0
    maximum_interval_seconds: float | None = None
    non_retryable_error_types: list[str] = field(default_factory=list)
    backoff_seconds: list[int] | None = None

    def _validate(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ValueError("retry_policy.max_attempts must be an integer")
        if self.max_attempts < 1:
            raise ValueError("retry_policy.max_attempts must be >= 1")
        if self.initial_interval_seconds < 0:
            raise ValueError("retry_policy.initial_interval_seconds must be >= 0")
        if self.backoff_coefficient < 1:
            raise ValueError("retry_policy.backoff_coefficient must be >= 1")
        if self.maximum_interval_seconds is not None and self.maximum_interval_seconds < 0:
            raise ValueError("retry_policy.maximum_interval_seconds must be >= 0")

    def _backoff(self) -> list[int]:
        if self.backoff_seconds is not None:
            return [max(0, math.ceil(value)) for value in self.backoff_seconds]
        cap = math.inf if self.maximum_interval_seconds is None else self.maximum_interval_seconds
        return [
            math.ceil(min(self.initial_interval_seconds * self.backoff_coefficient**i, cap))
            for i in range(self.max_attempts - 1)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The wire shape ``{max_attempts, backoff_seconds, non_retryable_error_types}``."""
        self._validate()
        types: list[str] = []
        for name in self.non_retryable_error_types:
            text = name.strip() if isinstance(name, str) else ""
            if text and text not in types:
                types.append(text)
        return {
            "max_attempts": self.max_attempts,
            "backoff_seconds": self._backoff(),
            "non_retryable_error_types": types,
        }


@dataclass
class ChildWorkflowRetryPolicy(ActivityRetryPolicy):
    """Server-side retries of a child workflow; same fields and wire shape."""


# -- decorators ---------------------------------------------------------------
def _require_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{what} needs a non-empty name")
    return name


def defn(*, name: str) -> Callable[[C], C]:
    """Register a workflow class under ``name`` and index its message handlers."""
    _require_name(name, "workflow.defn(name=...)")

    def decorate(cls: C) -> C:
        if not callable(getattr(cls, "run", None)):
            raise TypeError(f"workflow class {cls.__qualname__} has no run(self, ctx, ...) method")
        tables: dict[str, dict[str, str]] = {table: {} for _, table in _HANDLER_MARKS}
        for klass in reversed(cls.__mro__):
            for attribute, member in vars(klass).items():
                if attribute.startswith("_"):
                    continue
                for mark, table in _HANDLER_MARKS:
                    handler_name = getattr(member, mark, None)
                    if isinstance(handler_name, str):
                        tables[table][handler_name] = attribute
        for table, entries in tables.items():
            setattr(cls, table, entries)
        cls.__workflow_name__ = name  # type: ignore[attr-defined]
        _REGISTRY[name] = cls
        return cls

    return decorate


def registry() -> dict[str, type]:
    """A copy of the registered workflow classes by name."""
    return dict(_REGISTRY)


def _mark(attribute: str, name: str, what: str) -> Callable[[F], F]:
    _require_name(name, what)

    def decorate(fn: F) -> F:
        setattr(fn, attribute, name)
        return fn

    return decorate


def signal(name: str) -> Callable[[F], F]:
    """Mark a method as the handler of signal ``name`` (called with its arguments)."""
    return _mark("__workflow_signal_name__", name, "workflow.signal")


def query(name: str) -> Callable[[F], F]:
    """Mark a read-only method as the handler of query ``name``."""
    return _mark("__workflow_query_name__", name, "workflow.query")


def update_validator(name: str) -> Callable[[F], F]:
    """Mark a method as the validator of update ``name`` (raise to reject)."""
    return _mark("__workflow_update_validator_name__", name, "workflow.update_validator")


def update(name: str) -> Callable[[F], F]:
    """Mark a method as the handler of update ``name``; its return value is the result.

    The decorated function gains ``.validator``, a decorator for its validator.
    """
    mark = _mark("__workflow_update_name__", name, "workflow.update")

    def decorate(fn: F) -> F:
        marked = mark(fn)
        marked.validator = update_validator(name)  # type: ignore[attr-defined]
        return marked

    return decorate


# -- replay entry points -------------------------------------------------------
def replay(
    workflow_cls: type,
    history_events: Any,
    start_input: Any,
    *,
    workflow_id: str | None = None,
    run_id: str = "",
    payload_codec: str | None = None,
    external_storage: ExternalStorageDriver | None = None,
    external_storage_cache: ExternalPayloadCache | None = None,
    payload_codec_chain: PayloadCodec | None = None,
    converter: DataConverter | None = None,
) -> ReplayOutcome:
    """Run ``workflow_cls`` over ``history_events``; the outcome holds the new commands.

    ``start_input`` is the decoded argument list (or an envelope/blob to decode).
    ``payload_codec`` is the run's codec *name*, used for history values that
    carry none; without it such values are read as JSON (upstream fixtures).
    ``payload_codec_chain`` (beyond upstream) is the payload codec chain the
    workers used (``Worker(payload_codec=...)``), undone on every value.
    ``external_storage`` (and its verified-bytes ``external_storage_cache``)
    reads values stored as ``{codec, external_storage}`` references; without a
    driver such a value fails to decode, naming the reference. ``converter``
    (beyond upstream) carries all of these at once; a keyword given as well wins.
    Raises ``NonDeterministicReplayError`` when code and history disagree.
    """
    return WorkflowDriver(
        workflow_cls,
        history_events,
        start_input,
        workflow_id=workflow_id,
        run_id=run_id,
        payload_codec=payload_codec,
        converter=DataConverter.from_options(
            converter,
            external_storage=external_storage,
            storage_cache=external_storage_cache,
            codec_chain=payload_codec_chain,
        ),
    ).run()


def _replayed(driver: WorkflowDriver) -> WorkflowDriver:
    """``driver`` after replaying its whole history (state for a query or update)."""
    driver.run()
    return driver


def query_state(
    workflow_cls: type,
    history_events: Any,
    start_input: Any,
    query_name: str,
    args: list[Any] | None = None,
    *,
    workflow_id: str | None = None,
    run_id: str = "",
    payload_codec: str | None = None,
    external_storage: ExternalStorageDriver | None = None,
    external_storage_cache: ExternalPayloadCache | None = None,
    payload_codec_chain: PayloadCodec | None = None,
    converter: DataConverter | None = None,
) -> Any:
    """Replay, then answer ``query_name`` from the replayed state (failures: ``QueryFailed``)."""
    method = getattr(workflow_cls, "__workflow_queries__", {}).get(query_name)
    if method is None:
        raise QueryFailed(
            f"workflow {workflow_type_name(workflow_cls)} has no query named {query_name!r}",
            reason="rejected_unknown_query",
        )
    try:
        driver = _replayed(
            WorkflowDriver(
                workflow_cls,
                history_events,
                start_input,
                workflow_id=workflow_id,
                run_id=run_id,
                payload_codec=payload_codec,
                converter=DataConverter.from_options(
                    converter,
                    external_storage=external_storage,
                    storage_cache=external_storage_cache,
                    codec_chain=payload_codec_chain,
                ),
            )
        )
    except WorkflowPayloadDecodeError as exc:
        raise QueryFailed(str(exc), reason="query_payload_decode_failed") from exc
    except Exception as exc:
        raise QueryFailed(
            f"could not rebuild workflow state: {exc}", reason="query_workflow_state_unavailable"
        ) from exc
    try:
        return getattr(driver.instance, method)(*(args or []))
    except Exception as exc:
        raise QueryFailed(f"query {query_name!r} failed: {exc}", reason="query_rejected") from exc


def apply_update(
    workflow_cls: type,
    history_events: Any,
    start_input: Any,
    update_id: str,
    *,
    workflow_id: str | None = None,
    run_id: str = "",
    payload_codec: str | None = None,
    external_storage: ExternalStorageDriver | None = None,
    external_storage_cache: ExternalPayloadCache | None = None,
    payload_codec_chain: PayloadCodec | None = None,
    converter: DataConverter | None = None,
) -> CompleteUpdate | FailUpdate:
    """Replay, then run the accepted update ``update_id`` (validator first).

    Every problem (unknown update, undecodable arguments, validator or
    handler exception) becomes a non-retryable ``FailUpdate``.
    """
    driver = _replayed(
        WorkflowDriver(
            workflow_cls,
            history_events,
            start_input,
            workflow_id=workflow_id,
            run_id=run_id,
            payload_codec=payload_codec,
            converter=DataConverter.from_options(
                converter,
                external_storage=external_storage,
                storage_cache=external_storage_cache,
                codec_chain=payload_codec_chain,
            ),
        )
    )
    accepted = driver.index.update_accepted.get(update_id)
    if accepted is None:
        return FailUpdate(
            update_id,
            f"update {update_id!r} is not accepted in this run's history",
            "UnknownUpdate",
        )
    name = accepted.text("update_name") or ""
    method = getattr(workflow_cls, "__workflow_updates__", {}).get(name)
    if method is None:
        return FailUpdate(update_id, f"workflow has no update named {name!r}", "UnknownUpdate")
    try:
        arguments = driver.receivers.message_arguments("update", name, accepted)
    except WorkflowPayloadDecodeError as exc:
        return FailUpdate(update_id, str(exc), type(exc).__name__)
    validator = getattr(workflow_cls, "__workflow_update_validators__", {}).get(name)
    try:
        if validator is not None:
            getattr(driver.instance, validator)(*arguments)
        result = getattr(driver.instance, method)(*arguments)
    except Exception as exc:
        return FailUpdate(update_id, str(exc) or type(exc).__name__, type(exc).__name__)
    return CompleteUpdate(update_id, result)


def _history_list(history: Any) -> list[Any]:
    if isinstance(history, Mapping):
        for key in ("events", "history_events", "history"):
            if isinstance(history.get(key), list):
                return list(history[key])
    return list(history or [])


class Replayer:
    """Replays captured histories against a fixed set of workflow classes (debugging, CI)."""

    def __init__(self, *, workflows: Iterable[type]) -> None:
        self._workflows: dict[str, type] = {}
        for cls in workflows:
            name = workflow_type_name(cls)
            if name in self._workflows:
                raise ValueError(f"duplicate workflow name {name!r}")
            self._workflows[name] = cls
        if not self._workflows:
            raise ValueError("Replayer needs at least one workflow class")

    def _workflow_type(self, events: list[Any], workflow_type: str | None) -> type:
        if workflow_type is None:
            for event in normalize_events(events):
                if event.text("workflow_type"):
                    workflow_type = event.text("workflow_type")
                    break
        if workflow_type is None:
            if len(self._workflows) == 1:
                return next(iter(self._workflows.values()))
            raise ValueError("cannot infer the workflow type; pass workflow_type=")
        try:
            return self._workflows[workflow_type]
        except KeyError:
            raise ValueError(f"no registered workflow named {workflow_type!r}") from None

    @staticmethod
    def _start_input(events: list[Any]) -> Any:
        """Start input from ``WorkflowStarted`` keys, else the start command snapshot."""
        for event in normalize_events(events):
            if event.event_type != "WorkflowStarted":
                continue
            for key in ("input_envelope", "input", "arguments"):
                if event.payload.get(key) is not None:
                    return event.payload[key]
        for event in normalize_events(events):
            command = event.payload.get("command")
            if (
                event.event_type in ("StartAccepted", "WorkflowStarted")
                and isinstance(command, Mapping)
                and command.get("type") == "start"
                and isinstance(command.get("payload"), str)
            ):
                return {"codec": command.get("payload_codec") or "avro", "blob": command["payload"]}
        return None

    def replay(
        self,
        history: Any,
        start_input: Any = None,
        *,
        workflow_type: str | None = None,
        workflow_id: str | None = None,
        run_id: str = "",
        payload_codec: str | None = None,
        external_storage: ExternalStorageDriver | None = None,
        external_storage_cache: ExternalPayloadCache | None = None,
        payload_codec_chain: PayloadCodec | None = None,
        converter: DataConverter | None = None,
    ) -> ReplayOutcome:
        """Replay one history; type and start input are inferred when not given.

        As upstream's README promises, a non-determinism error is surfaced as a
        ``FailWorkflow`` command (``exception_type="NonDeterministicReplayError"``)
        instead of being raised; the module-level :func:`replay` raises it.
        ``external_storage``/``external_storage_cache`` read history values (and
        a start input) that are external-storage references;
        ``payload_codec_chain`` undoes a payload codec chain (``payload_codec``
        stays the run's codec name, as upstream).
        """
        events = _history_list(history)
        cls = self._workflow_type(events, workflow_type)
        if start_input is None:
            start_input = self._start_input(events)
        try:
            return replay(
                cls,
                events,
                start_input,
                workflow_id=workflow_id,
                run_id=run_id,
                payload_codec=payload_codec,
                external_storage=external_storage,
                external_storage_cache=external_storage_cache,
                payload_codec_chain=payload_codec_chain,
                converter=converter,
            )
        except NonDeterministicReplayError as exc:
            return ReplayOutcome([FailWorkflow(str(exc), exception_type=type(exc).__name__)])
