"""Replay entry points: run workflow code over a recorded history without a server.

``replay`` returns the commands a worker would send next; ``query_state`` and
``apply_update`` answer a query or run one accepted update on the replayed
instance; ``validate_update`` runs an update's validator before acceptance (2.x);
``Replayer`` replays captured histories against a set of classes.
Payload settings arrive as one ``DataConverter`` (or upstream's keywords).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from durable_workflow.codecs import PayloadCodec
from durable_workflow.converter import DataConverter
from durable_workflow.converter._rich_values import call_arguments
from durable_workflow.errors import (
    NonDeterministicReplayError,
    QueryFailed,
    UpdateRejected,
    WorkflowPayloadDecodeError,
)
from durable_workflow.external_storage import ExternalPayloadCache, ExternalStorageDriver
from durable_workflow.workflow._replay.commands import CompleteUpdate, FailUpdate, FailWorkflow
from durable_workflow.workflow._replay.driver import ReplayOutcome, WorkflowDriver
from durable_workflow.workflow._replay.history import normalize_events
from durable_workflow.workflow._replay.names import workflow_type_name

__all__ = [
    "Replayer",
    "UpdateValidationFailed",
    "apply_update",
    "bundle_codec",
    "query_state",
    "replay",
    "validate_update",
]


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
    return _driver(
        workflow_cls,
        history_events,
        start_input,
        workflow_id,
        run_id,
        payload_codec,
        converter,
        external_storage,
        external_storage_cache,
        payload_codec_chain,
    ).run()


def _driver(
    workflow_cls: type,
    history_events: Any,
    start_input: Any,
    workflow_id: str | None,
    run_id: str,
    payload_codec: str | None,
    converter: DataConverter | None,
    external_storage: ExternalStorageDriver | None,
    external_storage_cache: ExternalPayloadCache | None,
    payload_codec_chain: PayloadCodec | None,
) -> WorkflowDriver:
    """A driver for the entry points' arguments; upstream's keywords lay over ``converter``."""
    reader = DataConverter.from_options(
        converter,
        external_storage=external_storage,
        storage_cache=external_storage_cache,
        codec_chain=payload_codec_chain,
    )
    return WorkflowDriver(
        workflow_cls,
        history_events,
        start_input,
        workflow_id=workflow_id,
        run_id=run_id,
        payload_codec=payload_codec,
        converter=reader,
    )


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
            f"unknown query {query_name!r}: workflow {workflow_type_name(workflow_cls)} "
            f"has no query named {query_name!r}",
            reason="rejected_unknown_query",
        )
    try:
        driver = _driver(
            workflow_cls,
            history_events,
            start_input,
            workflow_id,
            run_id,
            payload_codec,
            converter,
            external_storage,
            external_storage_cache,
            payload_codec_chain,
        )
        outcome = driver.run()
        # A query sees every message the history holds, also those recorded after the
        # last step the code reached (the run returned or blocked before them).
        driver.receivers.deliver_up_to(sys.maxsize)
    except WorkflowPayloadDecodeError as exc:
        raise QueryFailed(str(exc), reason="query_payload_decode_failed") from exc
    except Exception as exc:
        raise QueryFailed(
            f"workflow replay failed: could not rebuild workflow state: {exc}",
            reason="query_workflow_state_unavailable",
        ) from exc
    failed = next((c for c in outcome.commands if isinstance(c, FailWorkflow)), None)
    if failed is not None:
        # The code failed where the history records no failure: the state the query
        # would read is one the server never saw.
        raise QueryFailed(
            f"workflow replay failed: {failed.message}", reason="query_workflow_state_unavailable"
        )
    try:
        handler = getattr(driver.instance, method)
        return handler(*call_arguments(handler, args or []))
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
    validate: bool = True,
) -> CompleteUpdate | FailUpdate:
    """Replay, then run the accepted update ``update_id`` (validator first).

    Every problem (unknown update, undecodable arguments, validator or
    handler exception) becomes a non-retryable ``FailUpdate``. ``validate=False``
    skips the validator: a 2.x server accepts an update only after the worker
    approved it in an update-validation task (:func:`validate_update`).
    """
    driver = _replayed(
        _driver(
            workflow_cls,
            history_events,
            start_input,
            workflow_id,
            run_id,
            payload_codec,
            converter,
            external_storage,
            external_storage_cache,
            payload_codec_chain,
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
        return FailUpdate(
            update_id,
            f"unknown update {name!r}: workflow has no update named {name!r}",
            "UnknownUpdate",
        )
    try:
        arguments = driver.receivers.message_arguments("update", name, accepted)
    except WorkflowPayloadDecodeError as exc:
        return FailUpdate(update_id, str(exc), type(exc).__name__)
    validator = getattr(workflow_cls, "__workflow_update_validators__", {}).get(name)
    try:
        if validator is not None and validate:
            check = getattr(driver.instance, validator)
            check(*call_arguments(check, arguments))
        handler = getattr(driver.instance, method)
        result = handler(*call_arguments(handler, arguments))
    except Exception as exc:
        return FailUpdate(update_id, str(exc) or type(exc).__name__, type(exc).__name__)
    return CompleteUpdate(update_id, result)


def validate_update(
    workflow_cls: type,
    history_events: Any,
    start_input: Any,
    update_name: str,
    args: list[Any] | None = None,
    *,
    workflow_id: str | None = None,
    run_id: str = "",
    payload_codec: str | None = None,
    converter: DataConverter | None = None,
) -> None:
    """Replay, then run only update ``update_name``'s validator on the replayed instance.

    The pre-accept step of a 2.x server's update-validation task: the handler does
    not run and nothing is recorded. Returns when the update may be accepted;
    raises ``UpdateRejected`` when the validator refused it (raised, or returned
    ``False`` as upstream SDK 2.12.0 also reads it) and ``UpdateValidationFailed``
    when validation could not run (unknown update, no validator, replay failure).
    """
    method = getattr(workflow_cls, "__workflow_updates__", {}).get(update_name)
    if method is None:
        raise UpdateValidationFailed(
            f"workflow {workflow_type_name(workflow_cls)} has no update named {update_name!r}"
        )
    validator = getattr(workflow_cls, "__workflow_update_validators__", {}).get(update_name)
    if validator is None:
        raise UpdateValidationFailed(f"update {update_name!r} declares no validator")
    try:
        driver = _replayed(
            _driver(
                workflow_cls,
                history_events,
                start_input,
                workflow_id,
                run_id,
                payload_codec,
                converter,
                None,
                None,
                None,
            )
        )
    except Exception as exc:
        raise UpdateValidationFailed(
            f"could not rebuild workflow state before validating {update_name!r}: {exc}"
        ) from exc
    try:
        check = getattr(driver.instance, validator)
        verdict = check(*call_arguments(check, args or []))
    except Exception as exc:
        raise UpdateRejected(str(exc) or type(exc).__name__) from exc
    if verdict is False:
        raise UpdateRejected(f"update validator {update_name!r} returned False")


class UpdateValidationFailed(Exception):
    """An update-validation task could not run the validator (not a rejection by it)."""


def bundle_codec(history: Any) -> str | None:
    """The payload codec a history-export bundle declares (``payloads.codec``), if any."""
    if not isinstance(history, Mapping):
        return None
    payloads = history.get("payloads")
    codec = payloads.get("codec") if isinstance(payloads, Mapping) else None
    if codec is None and isinstance(history.get("workflow"), Mapping):
        codec = history["workflow"].get("payload_codec")
    return codec if isinstance(codec, str) and codec else None


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
        """Replay one history; type, start input and codec are inferred when not given.

        As upstream's README promises, a non-determinism error is surfaced as a
        ``FailWorkflow`` command (``exception_type="NonDeterministicReplayError"``)
        instead of being raised; :meth:`replay_or_raise` (and the module-level
        :func:`replay`) raise it. ``history`` may be a history-export bundle: its
        declared codec (``payloads.codec``) is then the default ``payload_codec``.
        ``external_storage``/``external_storage_cache`` read history values (and
        a start input) that are external-storage references;
        ``payload_codec_chain`` undoes a payload codec chain (``payload_codec``
        stays the run's codec name, as upstream).
        """
        try:
            return self.replay_or_raise(
                history,
                start_input,
                workflow_type=workflow_type,
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

    def replay_or_raise(
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
        """:meth:`replay`, but a mismatch raises ``NonDeterministicReplayError`` (for tests)."""
        events = _history_list(history)
        cls = self._workflow_type(events, workflow_type)
        if start_input is None:
            start_input = self._start_input(events)
        return replay(
            cls,
            events,
            start_input,
            workflow_id=workflow_id,
            run_id=run_id,
            payload_codec=payload_codec if payload_codec is not None else bundle_codec(history),
            external_storage=external_storage,
            external_storage_cache=external_storage_cache,
            payload_codec_chain=payload_codec_chain,
            converter=converter,
        )
