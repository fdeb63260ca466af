"""The instance driver: runs workflow code against the step index and collects new commands.

The workflow generator is run from the start on every replay. Each yielded
command is matched with the step at the cursor: a resolved step feeds its
value (or throws its failure) back into the generator; a step that history
already scheduled but not resolved leaves the workflow blocked *without*
emitting the command again; a command beyond recorded history is new and is
emitted. Code that yields something other than what history recorded at that
step raises :class:`NonDeterministicReplayError`.

A driver that stopped on a blocked yield keeps its suspended generator, so
:meth:`WorkflowDriver.resume` can continue it with only the events appended
since (the sticky cache). Resuming is refused with :class:`ResumeNotPossible`
whenever the new events could make a full replay take a different path
before the blocked yield; the caller then replays from scratch.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from durable_workflow.converter import DataConverter
from durable_workflow.converter._rich_values import (
    PayloadConversionError,
    call_arguments,
    from_plain,
)
from durable_workflow.errors import NonDeterministicReplayError
from durable_workflow.workflow._replay.commands import (
    Command,
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    RecordSideEffect,
    RecordVersionMarker,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
    WaitCondition,
)
from durable_workflow.workflow._replay.context import WorkflowContext
from durable_workflow.workflow._replay.failures import activity_failure, child_failure
from durable_workflow.workflow._replay.history import (
    DecodeScope,
    Event,
    as_argument_list,
    normalize_events,
)
from durable_workflow.workflow._replay.names import workflow_type_name
from durable_workflow.workflow._replay.receivers import ReceiverDispatcher, WorkflowCodeError
from durable_workflow.workflow._replay.steps import (
    Resolution,
    Step,
    StepIndex,
    StepIndexBuilder,
    StepKind,
)

__all__ = ["ReplayOutcome", "ResumeNotPossible", "WorkflowDriver", "shape_of"]

# Commands that never block: the server records them as soon as it applies the
# task, so a resumed instance finds them as the first new steps.
_IMMEDIATE = (RecordSideEffect, UpsertSearchAttributes, RecordVersionMarker)
_NO_YIELD = object()
FORGOT_YIELD = "did you forget `yield`?"


class ResumeNotPossible(Exception):
    """Continuing the cached instance might differ from a full replay; replay instead."""


_STEP_KINDS: dict[type, StepKind] = {
    ScheduleActivity: StepKind.ACTIVITY,
    StartTimer: StepKind.TIMER,
    StartChildWorkflow: StepKind.CHILD,
    RecordSideEffect: StepKind.SIDE_EFFECT,
    RecordVersionMarker: StepKind.VERSION_MARKER,
    UpsertSearchAttributes: StepKind.SEARCH_ATTRIBUTES,
    WaitCondition: StepKind.CONDITION_WAIT,
}


@dataclass
class ReplayOutcome:
    """What the workflow would do next.

    ``commands`` are the new commands (terminal ones included). When it is
    empty and ``waiting_on_recorded_step`` is true, the workflow is blocked on
    a step history already scheduled: there is nothing new to send.
    """

    commands: list[Command] = field(default_factory=list)
    waiting_on_recorded_step: bool = False

    @property
    def is_terminal(self) -> bool:
        """Whether the run ends with these commands (complete, fail or continue-as-new)."""
        return any(
            isinstance(c, (CompleteWorkflow, FailWorkflow, ContinueAsNew)) for c in self.commands
        )


def shape_of(command: Any) -> str:
    """A short description of a yielded command for error messages."""
    if isinstance(command, ScheduleActivity):
        return f"schedule_activity({command.activity_type!r})"
    if isinstance(command, StartTimer):
        return f"start_timer({command.delay_seconds}s)"
    if isinstance(command, StartChildWorkflow):
        return f"start_child_workflow({command.workflow_type!r})"
    if isinstance(command, RecordVersionMarker):
        return f"record_version_marker({command.change_id!r})"
    if isinstance(command, WaitCondition):
        return f"open_condition_wait(key={command.condition_key!r})"
    if isinstance(command, RecordSideEffect):
        return "record_side_effect"
    if isinstance(command, UpsertSearchAttributes):
        return "upsert_search_attributes"
    if isinstance(command, CompleteWorkflow):
        return "complete_workflow"
    if isinstance(command, ContinueAsNew):
        return "continue_as_new"
    if isinstance(command, FailWorkflow):
        return "fail_workflow"
    return type(command).__name__


class _Blocked(Exception):
    """The workflow cannot proceed past the current yield in this replay."""

    def __init__(self, on_recorded_step: bool = False) -> None:
        super().__init__()
        self.on_recorded_step = on_recorded_step


class _Throw(Exception):
    """Carries an exception to throw into the generator at the current yield."""

    def __init__(self, error: BaseException, *, consumed: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.consumed = consumed


class _WaitMismatch(Exception):
    """Recorded wait key/fingerprint differs: upstream fails the workflow for this."""


# The ctx method that builds each yieldable command, for the "forgot yield" hint.
_CTX_METHODS: dict[type, str] = {
    ScheduleActivity: "schedule_activity",
    StartTimer: "sleep",
    StartChildWorkflow: "start_child_workflow",
    RecordSideEffect: "side_effect",
    RecordVersionMarker: "get_version",
    UpsertSearchAttributes: "upsert_search_attributes",
    WaitCondition: "wait_condition",
}


def _returned_command(value: Any) -> Any:
    """A command found in a workflow's return value (the value itself or a list's item)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return next((item for item in items if type(item) in _CTX_METHODS), None)


def _fail_command(error: BaseException) -> FailWorkflow:
    return FailWorkflow(str(error) or type(error).__name__, exception_type=type(error).__name__)


class WorkflowDriver:
    """Replays one workflow instance over one history."""

    def __init__(
        self,
        workflow_cls: type,
        history_events: Any,
        start_input: Any,
        *,
        workflow_id: str | None = None,
        run_id: str = "",
        payload_codec: str | None = None,
        converter: DataConverter | None = None,
    ) -> None:
        self.workflow_cls = workflow_cls
        self.events: list[Event] = normalize_events(history_events)
        self._builder = StepIndexBuilder()
        self.index: StepIndex = self._builder.add_all(self.events)
        # ``payload_codec`` is the run's codec name: the converter reads with it.
        self.scope = DecodeScope(
            workflow_id, run_id, (converter or DataConverter()).with_codec(payload_codec)
        )
        self.arguments = self._start_arguments(start_input)
        self.ctx = WorkflowContext(
            run_id=run_id or "",
            current_time=self.index.start_time,
            workflow_id=workflow_id,
            workflow_type=workflow_type_name(workflow_cls),
        )
        self.instance: Any = workflow_cls()
        self.receivers = ReceiverDispatcher(workflow_cls, self.instance, self.index, self.scope)
        self._cursor = 0
        self._emitted: list[Command] = []
        # Sticky-cache state: the suspended generator and the yield it is blocked
        # on, immediates emitted outside that yield (not yet seen in history),
        # and whether a finished resolution already delivered messages at the
        # current cursor (a message pinned there would reach it earlier in a
        # full replay).
        self._generator: Generator[Any, Any, Any] | None = None
        self._pending: Any = _NO_YIELD
        self._unrecorded: list[Command] = []
        self._delivered_at_cursor = False
        self._last_consumed = True

    @property
    def suspended(self) -> bool:
        """True when :meth:`resume` may continue this instance."""
        return self._generator is not None

    # -- inputs -----------------------------------------------------------
    def _start_arguments(self, start_input: Any) -> list[Any]:
        if start_input is None or isinstance(start_input, (list, tuple)):
            return list(start_input or [])
        if isinstance(start_input, (str, Mapping)):
            decoded = self.scope.decode(
                start_input, None, event=None, receiver_kind="workflow_input"
            )
            return as_argument_list(decoded)
        return [start_input]

    # -- matching ---------------------------------------------------------
    def _step_at(self, position: int) -> Step | None:
        steps = self.index.steps
        return steps[position] if position < len(steps) else None

    def _mismatch(self, command: Any, step: Step, detail: str) -> NonDeterministicReplayError:
        return NonDeterministicReplayError(
            step.number, shape_of(command), step.event_types(), detail=detail
        )

    def _check(self, command: Any, step: Step) -> None:
        expected = _STEP_KINDS[type(command)]
        if step.kind is not expected:
            raise self._mismatch(
                command,
                step,
                f"workflow code yielded a {expected.value} "
                f"where history recorded a {step.kind.value}",
            )
        wanted = None
        if isinstance(command, ScheduleActivity):
            wanted, label = command.activity_type, "activity type"
        elif isinstance(command, StartChildWorkflow):
            wanted, label = command.workflow_type, "child workflow type"
        elif isinstance(command, RecordVersionMarker):
            wanted, label = command.change_id, "change id"
        if wanted is not None and step.recorded_type is not None and step.recorded_type != wanted:
            raise self._mismatch(
                command,
                step,
                f"history recorded {label} {step.recorded_type!r}, code yielded {wanted!r}",
            )

    def _step_value(self, step: Step) -> Any:
        event = step.resolved_by
        assert event is not None
        if step.resolution is Resolution.FAILURE:
            if step.kind is StepKind.ACTIVITY:
                raise _Throw(activity_failure(event, step.recorded_type), consumed=True)
            raise _Throw(child_failure(event), consumed=True)
        if step.kind is StepKind.ACTIVITY:
            return self.scope.value(
                event,
                ("result",),
                receiver_kind="activity_result",
                receiver_name=step.recorded_type,
            )
        if step.kind is StepKind.CHILD:
            # Upstream reads `result`; the snapshot server records `output`.
            return self.scope.value(
                event,
                ("result", "output"),
                receiver_kind="child_result",
                receiver_name=step.recorded_type,
            )
        if step.kind is StepKind.SIDE_EFFECT:
            return self.scope.value(event, ("result",), receiver_kind="side_effect")
        return None

    def _emit(self, command: Command) -> None:
        self._emitted.append(command)
        if isinstance(command, _IMMEDIATE):
            self._unrecorded.append(command)

    def _resolve(self, command: Any, position: int) -> tuple[Any, bool]:
        """Value for one yielded command at ``position`` and whether it consumed a step.

        Raises ``_Blocked`` (cannot proceed) or ``_Throw`` (failure to throw in).
        """
        if type(command) not in _STEP_KINDS:
            raise _Throw(
                TypeError(
                    f"workflow yielded unsupported command: {command!r}; {FORGOT_YIELD} "
                    "Yield only what ctx methods return: "
                    "`result = yield ctx.schedule_activity(...)`"
                ),
                consumed=False,
            )
        self.receivers.deliver_up_to(position)
        step = self._step_at(position)
        if isinstance(command, WaitCondition):
            return self._resolve_wait(command, step)
        if isinstance(command, RecordVersionMarker):
            return self._resolve_marker(command, step)
        if step is None:
            return self._resolve_new(command), False
        self._check(command, step)
        if not step.resolved:
            raise _Blocked(on_recorded_step=True)
        self._advance_clock(step)
        if step.kind is StepKind.TIMER:
            return None, True
        value = self._step_value(step)
        hint = getattr(command, "result_type", None)
        if hint is not None:
            try:
                value = from_plain(value, hint, f"{shape_of(command)} result")
            except PayloadConversionError as exc:
                raise _Throw(exc, consumed=True) from exc
        return value, True

    def _advance_clock(self, step: Step) -> None:
        """Workflow time moves to when a step the code moves past was resolved (a timer's
        fire time, an activity's completion): read from history, so replays agree."""
        if step.resolved_by is not None:
            self.ctx._advance_to(step.resolved_by.recorded_at)

    def _resolve_new(self, command: Any) -> Any:
        if isinstance(command, RecordSideEffect):
            if command._compute is not None:
                try:
                    command.result = command._compute()
                except Exception as exc:
                    raise _Throw(exc, consumed=False) from exc
            self._emit(command)
            return command.result
        self._emit(command)
        if isinstance(command, UpsertSearchAttributes):
            return None
        raise _Blocked()

    def _resolve_marker(self, command: RecordVersionMarker, step: Step | None) -> tuple[Any, bool]:
        if step is None:
            self._emit(command)
            return self._marker_result(command, command.version), False
        matches = step.kind is StepKind.VERSION_MARKER and step.recorded_type in (
            None,
            command.change_id,
        )
        if not matches and command.result_kind == "patched":
            return False, False  # a run recorded before the patch existed
        self._check(command, step)
        assert step.resolved_by is not None
        version = step.resolved_by.payload.get("version")
        return self._marker_result(command, version), True

    @staticmethod
    def _marker_result(command: RecordVersionMarker, version: Any) -> Any:
        if command.result_kind == "patched":
            return True
        if command.result_kind == "deprecated":
            return None
        return version

    def _resolve_wait(self, command: WaitCondition, step: Step | None) -> tuple[Any, bool]:
        if step is not None and step.kind is StepKind.CONDITION_WAIT:
            if self._recorded_wait_differs(command, step) and self._predicate(command):
                # Already true when first reached: that run recorded no wait here,
                # the recorded one belongs to a later wait_condition.
                return True, False
            for recorded, yielded, label in (
                (step.condition_key, command.condition_key, "key"),
                (
                    step.fingerprint,
                    command.condition_definition_fingerprint,
                    "predicate fingerprint",
                ),
            ):
                if recorded is not None and recorded != yielded:
                    short = "fingerprint" if label == "predicate fingerprint" else label
                    raise _WaitMismatch(
                        f"wait_condition {label} changed during replay: wait at step "
                        f"{step.number}: history recorded condition {short} {recorded!r}, "
                        f"workflow code yielded {yielded!r}"
                    )
            if step.resolution is Resolution.SATISFIED:
                self._advance_clock(step)
                return True, True
            if step.resolution is Resolution.TIMED_OUT:
                self._advance_clock(step)
                return False, True
            if self._predicate(command):
                return True, True
            # Still blocked: re-open, or the server would mark the wait satisfied.
            self._emit(command)
            raise _Blocked()
        if self._predicate(command):
            return True, False
        if step is not None:
            self._check(command, step)
        self._emit(command)
        raise _Blocked()

    @staticmethod
    def _recorded_wait_differs(command: WaitCondition, step: Step) -> bool:
        return (step.condition_key is not None and step.condition_key != command.condition_key) or (
            step.fingerprint is not None
            and step.fingerprint != command.condition_definition_fingerprint
        )

    @staticmethod
    def _predicate(command: WaitCondition) -> bool:
        try:
            return bool(command.predicate())
        except Exception as exc:
            raise WorkflowCodeError(exc) from exc

    def _resolve_group(self, commands: list[Any]) -> list[Any]:
        """Resolve a yielded list; all elements must be resolved for the group to resume."""
        values: list[Any] = []
        failure: _Throw | None = None
        blocked: _Blocked | None = None
        position = self._cursor
        for command in commands:
            try:
                value, consumed = self._resolve(command, position)
            except _Blocked as stop:
                blocked = blocked or stop
                value, consumed = None, stop.on_recorded_step
            except _Throw as thrown:
                failure = failure or thrown
                value, consumed = None, thrown.consumed
            values.append(value)
            position += 1 if consumed else 0
            self._last_consumed = consumed
        if blocked:
            raise blocked
        self._cursor = position
        if failure is not None:
            raise failure
        return values

    # -- the run loop -----------------------------------------------------
    def run(self) -> ReplayOutcome:
        """Replay the whole history and return what the workflow does next."""
        self.ctx.is_replaying = bool(self.index.steps)
        try:
            run = self.instance.run
            result = run(self.ctx, *call_arguments(run, self.arguments, skip=1))
        except NonDeterministicReplayError:
            raise
        except Exception as exc:
            return self._terminal(_fail_command(exc))
        if inspect.iscoroutine(result):
            result.close()
            return self._terminal(
                _fail_command(TypeError("workflow run() must be a generator function, not async"))
            )
        if not inspect.isgenerator(result):
            return self._terminal(self._completion(result))
        return self._drive(result)

    def _drive(
        self, generator: Generator[Any, Any, Any], pending: Any = _NO_YIELD
    ) -> ReplayOutcome:
        send: Any = None
        throw: BaseException | None = None
        while True:
            self.ctx.is_replaying = self._cursor < len(self.index.steps)
            if pending is not _NO_YIELD:
                yielded, pending = pending, _NO_YIELD
            else:
                try:
                    yielded = generator.throw(throw) if throw is not None else generator.send(send)
                except StopIteration as stop:
                    return self._terminal(self._completion(stop.value))
                except NonDeterministicReplayError:
                    raise
                except Exception as exc:
                    return self._terminal(_fail_command(exc))
            send, throw = None, None
            if isinstance(yielded, ContinueAsNew):
                return self._terminal(yielded)
            recorded_before = len(self._unrecorded)
            cursor_before = self._cursor
            try:
                if isinstance(yielded, (list, tuple)):
                    self._last_consumed = True
                    send = self._resolve_group(list(yielded))
                else:
                    send, consumed = self._resolve(yielded, self._cursor)
                    self._cursor += 1 if consumed else 0
                    self._last_consumed = consumed
            except _Blocked as stop:
                # The blocked yield is resolved again on resume: its own
                # immediates will be matched against history then.
                del self._unrecorded[recorded_before:]
                self._generator, self._pending = generator, yielded
                return ReplayOutcome(
                    list(self._emitted), waiting_on_recorded_step=stop.on_recorded_step
                )
            except _Throw as thrown:
                if not isinstance(yielded, (list, tuple)):
                    self._cursor += 1 if thrown.consumed else 0
                    self._last_consumed = thrown.consumed
                throw = thrown.error
            except WorkflowCodeError as failed:
                return self._terminal(_fail_command(failed.error))
            except _WaitMismatch as mismatch:
                failure = FailWorkflow(
                    str(mismatch), exception_type="NonDeterministicWaitCondition"
                )
                return ReplayOutcome([*self._emitted, failure])
            if self._cursor != cursor_before:
                self._delivered_at_cursor = False
            if not self._last_consumed:
                self._delivered_at_cursor = True

    # -- sticky resume ----------------------------------------------------
    def resume(self, new_events: Any) -> ReplayOutcome:
        """Continue the suspended instance with the events appended since the last call.

        Returns the same outcome a full replay of the whole history would.
        Raises :class:`ResumeNotPossible` (the instance is then unusable) when
        that cannot be guaranteed; raises ``NonDeterministicReplayError`` like
        :meth:`run` does.
        """
        generator, pending = self._generator, self._pending
        if generator is None:
            raise ResumeNotPossible("the instance is not suspended on a yield")
        self._generator, self._pending = None, _NO_YIELD
        start_time = self.index.start_time
        events = normalize_events(new_events, start=len(self.events))
        self._builder.reset_touched()
        self._builder.add_all(events)
        self.events.extend(events)
        if self.index.start_time != start_time:
            raise ResumeNotPossible("the run's start time changed")
        touched = self._builder.touched_min
        if touched is not None and touched < self._cursor:
            raise ResumeNotPossible(f"new events changed step {touched + 1}, already consumed")
        target = self._cursor
        for command in self._unrecorded:
            step = self._step_at(target)
            if step is None or not self._recorded_as(command, step):
                raise ResumeNotPossible(f"step {target + 1} is not the command emitted before")
            target += 1
        waiting = self.receivers.next_pending_position()
        if waiting is not None and (
            waiting < target or (waiting == target and self._delivered_at_cursor)
        ):
            raise ResumeNotPossible("a new message would reach the workflow earlier")
        if target != self._cursor:
            self._cursor = target
            self._delivered_at_cursor = False
        self._unrecorded = []
        self._emitted = []
        return self._drive(generator, pending)

    def _recorded_as(self, command: Command, step: Step) -> bool:
        """Whether ``step`` is what history recorded for an immediate emitted earlier."""
        if isinstance(command, UpsertSearchAttributes):
            return step.kind is StepKind.SEARCH_ATTRIBUTES
        if isinstance(command, RecordVersionMarker):
            if step.kind is not StepKind.VERSION_MARKER or step.resolved_by is None:
                return False
            recorded = step.resolved_by.payload.get("version")
            return step.recorded_type in (None, command.change_id) and recorded == command.version
        if isinstance(command, RecordSideEffect) and step.kind is StepKind.SIDE_EFFECT:
            try:
                return bool(self._step_value(step) == command.result)
            except Exception:
                return False
        return False

    @staticmethod
    def _completion(value: Any) -> Command:
        if isinstance(value, ContinueAsNew):
            return value
        returned = _returned_command(value)
        if returned is not None:
            return _fail_command(
                TypeError(
                    f"workflow returned {shape_of(returned)} instead of yielding it: "
                    f"{FORGOT_YIELD} Write `result = yield ctx.{_CTX_METHODS[type(returned)]}"
                    "(...)` and return the result."
                )
            )
        return CompleteWorkflow(value)

    def _terminal(self, command: Command) -> ReplayOutcome:
        leftover = self._step_at(self._cursor)
        if leftover is not None:
            raise NonDeterministicReplayError(
                leftover.number,
                shape_of(command),
                leftover.event_types(),
                detail="history has steps the workflow code no longer reaches",
            )
        return ReplayOutcome([*self._emitted, command])
