"""``WorkflowContext``: the deterministic API workflow code calls.

Every method either builds a command to ``yield`` or derives a value from
recorded history (start time, run id), never from the wall clock, OS
randomness or I/O, so a replay computes exactly what the first execution did.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import math
import random as _random
import uuid as _uuid
from collections.abc import Callable, Mapping
from typing import Any

from durable_workflow.converter._rich_values import return_type, run_result_type
from durable_workflow.workflow._replay.commands import (
    ContinueAsNew,
    RecordSideEffect,
    RecordVersionMarker,
    RetryPolicyArg,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
    WaitCondition,
)
from durable_workflow.workflow._replay.history import parse_timestamp
from durable_workflow.workflow._replay.names import activity_name, workflow_name

__all__ = ["EPOCH", "WorkflowContext", "predicate_fingerprint"]

#: ``now()`` when history carries no timestamp at all (hand-made fixtures):
#: a fixed instant keeps replay deterministic instead of reading the wall clock.
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

_workflow_logger = logging.getLogger("durable_workflow.workflow")


def _code_signature(code: Any) -> list[str]:
    parts = [",".join(code.co_names), ",".join(code.co_varnames)]
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            parts.extend(_code_signature(const))
        else:
            parts.append(repr(const))
    return parts


def predicate_fingerprint(predicate: Callable[[], Any]) -> str:
    """``sha256:<hex>`` of what a predicate reads (names, constants), not of its bytecode.

    Bytecode changes between Python versions; names and constants only change
    when the condition itself does.
    """
    code = getattr(predicate, "__code__", None)
    if code is None:
        text = f"{type(predicate).__module__}.{type(predicate).__qualname__}"
    else:
        text = "|".join(_code_signature(code))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class _ReplayAwareLogger:
    """Logs only when the code runs for the first time, not while it is replayed."""

    def __init__(self, ctx: WorkflowContext, logger: logging.Logger) -> None:
        self._ctx = ctx
        self._logger = logger

    def _log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self._ctx.is_replaying:
            kwargs.setdefault("stacklevel", 3)
            self._logger.log(level, msg, *args, **kwargs)

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._log(logging.DEBUG, msg, *args, **kwargs)

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._log(logging.INFO, msg, *args, **kwargs)

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._log(logging.WARNING, msg, *args, **kwargs)

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._log(logging.ERROR, msg, *args, **kwargs)

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        kwargs.setdefault("exc_info", True)
        self._log(logging.ERROR, msg, *args, **kwargs)

    def critical(self, msg: object, *args: object, **kwargs: Any) -> None:
        self._log(logging.CRITICAL, msg, *args, **kwargs)


def _whole_seconds(value: float, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")
    return max(0, math.ceil(value))


class WorkflowContext:
    """Handed to ``run(self, ctx, *args)``; created by the replayer.

    Args:
        run_id: seeds :meth:`random`, :meth:`uuid4` and :meth:`uuid7`.
        current_time: the run's start time; :meth:`now` starts there. The replayer
            takes it from ``WorkflowStarted.payload.timestamp``, else the
            ``recorded_at`` of ``WorkflowStarted``, of ``StartAccepted``, of the
            first event; with no timestamp in history at all it is the Unix
            epoch. Never the wall clock: upstream falls back to it, which makes
            replays of snapshot histories disagree (sdk-surface.md §17 #8).
    """

    def __init__(
        self,
        *,
        run_id: str = "",
        current_time: _dt.datetime | str | None = None,
        workflow_id: str | None = None,
        workflow_type: str | None = None,
    ) -> None:
        self.run_id = run_id
        self.workflow_id = workflow_id
        self.workflow_type = workflow_type
        self._now = parse_timestamp(current_time) or EPOCH
        self._rng = _random.Random(int.from_bytes(hashlib.sha256(run_id.encode()).digest(), "big"))
        self._uuid7_counter = 0
        self.is_replaying = False
        self.logger = _ReplayAwareLogger(self, _workflow_logger)

    # -- commands ---------------------------------------------------------
    def schedule_activity(
        self,
        activity_type: str | Callable[..., Any],
        arguments: list[Any] | None = None,
        *,
        queue: str | None = None,
        retry_policy: RetryPolicyArg = None,
        start_to_close_timeout: int | None = None,
        schedule_to_start_timeout: int | None = None,
        schedule_to_close_timeout: int | None = None,
        heartbeat_timeout: int | None = None,
    ) -> ScheduleActivity:
        """Run an activity; yield it to get the result (failures raise ``ActivityFailed``).

        ``activity_type`` is the registered name or the ``@activity.defn``
        function itself; given the function, the result is decoded into its
        return annotation (a dataclass, a pydantic model, a datetime, ...).
        """
        return ScheduleActivity(
            activity_name(activity_type),
            list(arguments or []),
            queue=queue,
            retry_policy=retry_policy,
            start_to_close_timeout=start_to_close_timeout,
            schedule_to_start_timeout=schedule_to_start_timeout,
            schedule_to_close_timeout=schedule_to_close_timeout,
            heartbeat_timeout=heartbeat_timeout,
            result_type=None if isinstance(activity_type, str) else return_type(activity_type),
        )

    def start_timer(self, seconds: int) -> StartTimer:
        """A durable timer of whole seconds; the yield returns ``None`` when it fires."""
        return StartTimer(_whole_seconds(seconds, "seconds"))

    def sleep(self, seconds: float) -> StartTimer:
        """Like :meth:`start_timer`, rounding fractional seconds up."""
        return StartTimer(_whole_seconds(seconds, "seconds"))

    def wait_condition(
        self,
        predicate: Callable[[], Any],
        *,
        key: str | None = None,
        timeout: float | None = None,
    ) -> WaitCondition:
        """Block until ``predicate()`` is true (yield -> True) or ``timeout`` passes (False)."""
        if not callable(predicate):
            raise TypeError("wait_condition needs a callable predicate")
        return WaitCondition(
            predicate,
            condition_key=key,
            condition_definition_fingerprint=predicate_fingerprint(predicate),
            timeout_seconds=None if timeout is None else _whole_seconds(timeout, "timeout"),
        )

    def side_effect(self, fn: Callable[[], Any]) -> RecordSideEffect:
        """Record ``fn()``'s value once; on replay the recorded value comes back, ``fn`` unrun."""
        if not callable(fn):
            raise TypeError("side_effect needs a callable")
        return RecordSideEffect(_compute=fn)

    def start_child_workflow(
        self,
        workflow_type: str | type,
        arguments: list[Any] | None = None,
        *,
        task_queue: str | None = None,
        parent_close_policy: str | None = None,
        retry_policy: RetryPolicyArg = None,
        execution_timeout_seconds: int | None = None,
        run_timeout_seconds: int | None = None,
    ) -> StartChildWorkflow:
        """Start a child run; yield it for the result (failures raise ``ChildWorkflowFailed``).

        ``workflow_type`` is the registered name or the ``@workflow.defn`` class;
        given the class, the result is decoded into its ``run`` return annotation.
        """
        return StartChildWorkflow(
            workflow_name(workflow_type),
            list(arguments or []),
            task_queue=task_queue,
            parent_close_policy=parent_close_policy,
            retry_policy=retry_policy,
            execution_timeout_seconds=execution_timeout_seconds,
            run_timeout_seconds=run_timeout_seconds,
            result_type=None if isinstance(workflow_type, str) else run_result_type(workflow_type),
        )

    def get_version(
        self, change_id: str, min_supported: int, max_supported: int
    ) -> RecordVersionMarker:
        """The version a run recorded for ``change_id`` (new runs record ``max_supported``)."""
        if min_supported > max_supported:
            raise ValueError(
                f"min_supported ({min_supported}) must be <= max_supported ({max_supported})"
            )
        return RecordVersionMarker(change_id, max_supported, min_supported, max_supported)

    def patched(self, change_id: str) -> RecordVersionMarker:
        """True for runs that took the patched path, False for runs recorded before the patch."""
        return RecordVersionMarker(change_id, 1, -1, 1, result_kind="patched")

    def deprecate_patch(self, change_id: str) -> RecordVersionMarker:
        """Keep recording ``change_id``'s marker after the old path is gone; yields ``None``."""
        return RecordVersionMarker(change_id, 1, -1, 1, result_kind="deprecated")

    def upsert_search_attributes(self, attributes: Mapping[str, Any]) -> UpsertSearchAttributes:
        """Merge ``attributes`` into the run's search attributes."""
        return UpsertSearchAttributes(dict(attributes))

    def continue_as_new(
        self, *args: Any, workflow_type: str | None = None, task_queue: str | None = None
    ) -> ContinueAsNew:
        """Return or yield this to restart the workflow as a fresh run with ``args``."""
        return ContinueAsNew(
            workflow_type=workflow_type, arguments=list(args), task_queue=task_queue
        )

    # -- deterministic helpers ---------------------------------------------
    def now(self) -> _dt.datetime:
        """Workflow time: the run's recorded start time (class docstring), moved forward
        to the recorded time each step resolved as the code moves past it (a timer's
        fire time, an activity's completion). Never the wall clock: replays agree."""
        return self._now

    def _advance_to(self, moment: Any) -> None:
        """Move :meth:`now` forward to ``moment`` (a history timestamp); never backwards."""
        parsed = parse_timestamp(moment)
        if parsed is not None and parsed > self._now:
            self._now = parsed

    def random(self) -> _random.Random:
        """A random generator seeded from the run id: the same sequence on every replay."""
        return self._rng

    def uuid4(self) -> _uuid.UUID:
        """A version-4 UUID drawn from :meth:`random`."""
        return _uuid.UUID(int=self._rng.getrandbits(128), version=4)

    def uuid7(self) -> _uuid.UUID:
        """A version-7 UUID: :meth:`now` milliseconds, a per-run counter, seeded randomness."""
        millis = int(self._now.timestamp() * 1000) & ((1 << 48) - 1)
        counter = self._uuid7_counter & 0xFFF
        self._uuid7_counter += 1
        value = (millis << 80) | (0x7 << 76) | (counter << 64)
        value |= (0b10 << 62) | self._rng.getrandbits(62)
        return _uuid.UUID(int=value)
