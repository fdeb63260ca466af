"""``WorkflowEnvironment``: run workflow code to completion in-process, without a server.

Unit tests of workflow logic should not need a server, a worker or real
activities. The environment plays the server's part: it replays the
workflow, answers every command it emits from registered mocks, appends the
events the server would have recorded (the same shapes the replay engine
reads from a real history), and replays again until the run ends. Time is
skipped: a timer fires at once, but its events are stamped with the time it
would have fired, so ``ctx.now()`` reads the skipped time (a day's sleep ends
a day after the start, in no time). Side effects, version markers and
search-attribute upserts are recorded at once. ``ctx.workflow_id`` and
``ctx.run_id`` are the ids given to :meth:`WorkflowEnvironment.execute_workflow`.
Because each link's history is a real replayable history,
``runs[i].history`` can be fed back to :func:`replay_history` (or saved as a
regression fixture).

Queued signals and updates are delivered one at a time, in the order queued,
whenever the workflow blocks on ``wait_condition`` (an update runs its
validator and handler as a worker would; :meth:`WorkflowEnvironment.update_result`
returns its result); :meth:`WorkflowEnvironment.query` answers a query from a
run's recorded history; a wait that no queued signal satisfies times out if it
has a timeout, and otherwise is reported as a deadlock (``RuntimeError``).
Child workflows resolve to a registered canned result, or run in full when
their class was registered with :meth:`WorkflowEnvironment.register_workflow`.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from durable_workflow.converter import DataConverter
from durable_workflow.errors import UpdateRejected, WorkflowFailed
from durable_workflow.workflow import Replayer, apply_update, query_state, replay
from durable_workflow.workflow._replay.commands import (
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
)
from durable_workflow.workflow._replay.driver import ReplayOutcome
from durable_workflow.workflow._replay.history import history_list
from durable_workflow.workflow._replay.names import workflow_type_name
from durable_workflow.workflow._replay.sticky import WorkflowCache

__all__ = [
    "WorkflowEnvironment",
    "WorkflowRunRecord",
    "replay_history",
    "replay_history_file",
]

_MISSING = object()


@dataclass(frozen=True)
class _Message:
    """A queued signal or update."""

    kind: str
    name: str
    args: list[Any]
    update_id: str | None = None


@dataclass
class WorkflowRunRecord:
    """One link of a (possibly continued-as-new) execution."""

    workflow_type: str
    input: list[Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    terminal: Command | None = None


class _Link:
    """Builds one run's history the way the server would record it."""

    def __init__(
        self, record: WorkflowRunRecord, started_at: _dt.datetime, converter: DataConverter
    ) -> None:
        self.record = record
        #: The link's clock: every event is stamped with it; timers move it forward.
        self.clock = started_at
        self.converter = converter
        self.steps = 0
        self.ids = 0
        self.add("WorkflowStarted", workflow_type=record.workflow_type, timestamp=self.stamp())

    def stamp(self) -> str:
        return self.clock.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def skip(self, seconds: float) -> None:
        """Move the clock forward, as the server's timer would after ``seconds``."""
        self.clock += _dt.timedelta(seconds=seconds)

    def add(self, event_type: str, **payload: Any) -> None:
        history = self.record.history
        number = len(history) + 1
        history.append(
            {
                "id": f"evt-{number}",
                "sequence": number,
                "event_type": event_type,
                "payload": payload,
                "recorded_at": self.stamp(),
            }
        )

    def envelope(self, value: Any) -> dict[str, Any]:
        """A recorded value as the server stores it (through the codec chain and storage)."""
        return self.converter.encode(value)

    def step(self) -> int:
        self.steps += 1
        return self.steps

    def new_id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}-{self.ids}"


class WorkflowEnvironment:
    """In-process harness: mocks for activities and children, limits against runaway loops."""

    def __init__(
        self,
        *,
        iteration_limit: int = 1000,
        continue_as_new_limit: int = 50,
        converter: DataConverter | None = None,
    ) -> None:
        """``converter`` (beyond upstream) writes every recorded value and reads it back.

        Values are recorded in the ``json`` codec unless ``converter`` says
        otherwise; a codec chain or offloading storage on it is exercised by
        every replay, as on a worker.
        """
        if iteration_limit < 1 or continue_as_new_limit < 0:
            raise ValueError("iteration_limit must be >= 1 and continue_as_new_limit >= 0")
        self.iteration_limit = iteration_limit
        self.continue_as_new_limit = continue_as_new_limit
        self.converter = converter if converter is not None else DataConverter()
        self._activities: dict[str, Callable[..., Any]] = {}
        self._children: dict[str, Any] = {}
        self._workflows: dict[str, type] = {}
        # Queued messages per link: ("signal" | "update", name, args, update id).
        self._signals: dict[int | None, list[_Message]] = {}
        self._runs: list[WorkflowRunRecord] = []
        self._update_outcomes: dict[str, CompleteUpdate | FailUpdate] = {}
        self._update_count = 0
        self._workflow_id = "test-workflow"
        self._run_ids: list[str] = []
        self._classes: list[type] = []

    # -- registration ------------------------------------------------------------
    def register_activity_result(self, name: str, result: Any) -> None:
        """Every call of activity ``name`` returns ``result``."""
        self._activities[name] = lambda *_args: result

    def register_activity(self, name: str, fn: Callable[..., Any]) -> None:
        """Activity ``name`` runs ``fn(*arguments)``; an exception fails the activity."""
        if not callable(fn):
            raise TypeError("register_activity needs a callable")
        self._activities[name] = fn

    def register_child_workflow_result(self, workflow_type: str, result: Any) -> None:
        """Child workflows of ``workflow_type`` complete with ``result``."""
        self._children[workflow_type] = result

    def register_workflow(self, workflow_cls: type) -> None:
        """Make a class resolvable for ``continue_as_new(workflow_type=...)`` and children."""
        self._workflows[workflow_type_name(workflow_cls)] = workflow_cls

    def signal(self, name: str, args: list[Any] | None = None, *, run: int | None = None) -> None:
        """Queue signal ``name`` for the current front run, or for link number ``run`` (1-based)."""
        if run is not None and run < 1:
            raise ValueError("run is a 1-based link number")
        self._signals.setdefault(run, []).append(_Message("signal", name, list(args or [])))

    def update(
        self,
        name: str,
        args: list[Any] | None = None,
        *,
        run: int | None = None,
        update_id: str | None = None,
    ) -> str:
        """Queue update ``name`` like a signal; returns its id for :meth:`update_result`.

        The validator and handler run when the workflow next blocks, as on a
        worker; a rejection or handler error fails only the update.
        """
        if run is not None and run < 1:
            raise ValueError("run is a 1-based link number")
        self._update_count += 1
        update_id = update_id or f"update-{self._update_count}"
        self._signals.setdefault(run, []).append(
            _Message("update", name, list(args or []), update_id)
        )
        return update_id

    def update_result(self, update_id: str) -> Any:
        """The result of an update applied by the last execution.

        Raises ``UpdateRejected`` when its validator or handler failed, ``KeyError``
        when it was never delivered (the run ended before blocking again).
        """
        outcome = self._update_outcomes.get(update_id)
        if outcome is None:
            raise KeyError(f"update {update_id!r} was not delivered to the workflow")
        if isinstance(outcome, FailUpdate):
            raise UpdateRejected(f"update {update_id!r} failed: {outcome.message}")
        return outcome.result

    def query(self, name: str, args: list[Any] | None = None, *, run: int | None = None) -> Any:
        """Answer query ``name`` from the state of link ``run`` (default: the last) at its end.

        Raises ``QueryFailed`` for an unknown query or a handler error.
        """
        if not self._runs:
            raise RuntimeError("query() needs a workflow executed first")
        index = (run or len(self._runs)) - 1
        if not 0 <= index < len(self._runs):
            raise ValueError(f"run {run} does not exist (the execution has {len(self._runs)})")
        record = self._runs[index]
        return query_state(
            self._classes[index],
            record.history,
            record.input,
            name,
            args,
            workflow_id=self._workflow_id,
            run_id=self._run_ids[index],
            converter=self.converter,
        )

    # -- results -----------------------------------------------------------------
    @property
    def runs(self) -> list[WorkflowRunRecord]:
        """Every link of the last executed workflow, in order."""
        return list(self._runs)

    @property
    def run_count(self) -> int:
        return len(self._runs)

    # -- execution ---------------------------------------------------------------
    def execute_workflow(
        self,
        workflow_cls: type,
        *args: Any,
        run_id: str = "test-run",
        workflow_id: str = "test-workflow",
        start_time: _dt.datetime | None = None,
    ) -> Any:
        """Run to completion (following continue-as-new) and return the result.

        ``ctx.workflow_id`` / ``ctx.run_id`` are ``workflow_id`` and ``run_id``
        (later links: ``run_id-2``, ...); ``start_time`` (default: now, UTC) is
        ``ctx.now()`` at the start.

        Raises ``WorkflowFailed`` when the run fails, ``KeyError`` for an
        activity or child with no mock, ``RuntimeError`` when a limit is hit
        or the workflow waits for something that can never happen.
        """
        self._workflows.setdefault(workflow_type_name(workflow_cls), workflow_cls)
        self._runs, self._run_ids, self._classes = [], [], []
        self._update_outcomes = {}
        self._workflow_id = workflow_id
        clock = start_time or _dt.datetime.now(_dt.timezone.utc)
        if clock.tzinfo is None:
            raise ValueError("start_time must be timezone-aware (e.g. tzinfo=timezone.utc)")
        cls, arguments = workflow_cls, list(args)
        while True:
            link_number = len(self._runs) + 1
            record = WorkflowRunRecord(workflow_type_name(cls), arguments)
            self._runs.append(record)
            self._classes.append(cls)
            link_run_id = run_id if link_number == 1 else f"{run_id}-{link_number}"
            self._run_ids.append(link_run_id)
            link = _Link(record, clock, self.converter)
            terminal = self._run_link(cls, link, link_run_id, link_number)
            clock = link.clock  # a continued run starts when its predecessor ended
            record.terminal = terminal
            if isinstance(terminal, CompleteWorkflow):
                return terminal.result
            if isinstance(terminal, FailWorkflow):
                raise WorkflowFailed(terminal.message, terminal.exception_type)
            assert isinstance(terminal, ContinueAsNew)
            if len(self._runs) > self.continue_as_new_limit:
                raise RuntimeError(
                    f"workflow chained continue-as-new past the {self.continue_as_new_limit} "
                    f"link limit (continue-as-new limit of {self.continue_as_new_limit} exceeded)"
                )
            cls = self._continued_class(cls, terminal.workflow_type)
            arguments = list(terminal.arguments)

    def _continued_class(self, current: type, workflow_type: str | None) -> type:
        if workflow_type is None or workflow_type == workflow_type_name(current):
            return current
        try:
            return self._workflows[workflow_type]
        except KeyError:
            raise KeyError(
                f"continue_as_new to unregistered workflow type {workflow_type!r}; "
                "call register_workflow() first"
            ) from None

    def _queued_signals(self, link_number: int) -> list[_Message]:
        queue = self._signals.pop(link_number, [])
        queue.extend(self._signals.pop(None, []))  # "current front" = the link now running
        return queue

    def _run_link(self, cls: type, link: _Link, run_id: str, link_number: int) -> Command:
        record = link.record
        signals = self._queued_signals(link_number)
        # Signals queued ahead of any update reach the link before its first step, as
        # upstream's harness delivers them; the rest wait for the workflow to block.
        while signals and signals[0].kind == "signal":
            message = signals.pop(0)
            link.add("SignalReceived", signal_name=message.name, value=link.envelope(message.args))
        cache = WorkflowCache(max_entries=1)
        for _ in range(self.iteration_limit):
            outcome = cache.get_or_replay(
                run_id,
                cls,
                record.history,
                record.input,
                workflow_id=self._workflow_id,
                converter=self.converter,
            )
            for index, command in enumerate(outcome.commands):
                if isinstance(command, (CompleteWorkflow, FailWorkflow, ContinueAsNew)):
                    # What the code recorded on its way out belongs to this link's history.
                    self._record_immediates(link, outcome.commands[:index])
                    if isinstance(command, ContinueAsNew):
                        link.add(
                            "WorkflowContinuedAsNew",
                            workflow_type=command.workflow_type or record.workflow_type,
                            payload_codec=self.converter.codec,
                            arguments=link.envelope(list(command.arguments)),
                        )
                    return command
            if self._apply(link, outcome, signals):
                # An update ran on a separate replay; the cached instance never saw it.
                cache.evict(run_id)
                self._deliver_update(cls, link, run_id, signals.pop(0))
        raise RuntimeError(
            f"workflow did not terminate within {self.iteration_limit} iterations "
            f"(iteration limit of {self.iteration_limit} replays exceeded)"
        )

    def _record_immediates(self, link: _Link, commands: list[Command]) -> None:
        """Record side effects, version markers and upserts (commands needing no answer)."""
        for command in commands:
            if isinstance(command, (RecordSideEffect, RecordVersionMarker, UpsertSearchAttributes)):
                self._record_immediate(link, command)

    @staticmethod
    def _record_immediate(
        link: _Link, command: RecordSideEffect | RecordVersionMarker | UpsertSearchAttributes
    ) -> None:
        if isinstance(command, RecordSideEffect):
            link.add(
                "SideEffectRecorded", sequence=link.step(), result=link.envelope(command.result)
            )
        elif isinstance(command, RecordVersionMarker):
            link.add(
                "VersionMarkerRecorded",
                sequence=link.step(),
                change_id=command.change_id,
                version=command.version,
                min_supported=command.min_supported,
                max_supported=command.max_supported,
            )
        else:
            link.add(
                "SearchAttributesUpserted",
                sequence=link.step(),
                attributes=dict(command.attributes),
            )

    def _apply(self, link: _Link, outcome: ReplayOutcome, signals: list[_Message]) -> bool:
        """Record what the server would for ``outcome``; True when an update is due next."""
        if not outcome.commands:
            raise RuntimeError("workflow is blocked but emitted no command")
        resolutions: list[tuple[str, dict[str, Any]]] = []
        timers: list[tuple[int, dict[str, Any]]] = []
        waits: list[WaitCondition] = []
        for command in outcome.commands:
            if isinstance(command, ScheduleActivity):
                resolutions.append(self._activity(link, command))
            elif isinstance(command, StartTimer):
                timer_id = link.new_id("timer")
                sequence = link.step()
                link.add(
                    "TimerScheduled",
                    timer_id=timer_id,
                    sequence=sequence,
                    delay_seconds=command.delay_seconds,
                )
                timers.append((command.delay_seconds, {"timer_id": timer_id, "sequence": sequence}))
            elif isinstance(command, StartChildWorkflow):
                resolutions.append(self._child(link, command))
            elif isinstance(
                command, (RecordSideEffect, RecordVersionMarker, UpsertSearchAttributes)
            ):
                self._record_immediate(link, command)
            elif isinstance(command, WaitCondition):
                waits.append(command)
        for event_type, payload in resolutions:
            link.add(event_type, **payload)
        # Time skipping: timers fire in order of their delay, each at its own time.
        scheduled_at = link.clock
        for delay, payload in sorted(timers, key=lambda timer: timer[0]):
            link.clock = max(link.clock, scheduled_at + _dt.timedelta(seconds=delay))
            link.add("TimerFired", **payload)
        if waits and not resolutions and not timers:
            if signals and signals[0].kind == "update":
                return True
            self._unblock_wait(link, waits[0], signals)
        return False

    def _deliver_update(self, cls: type, link: _Link, run_id: str, message: _Message) -> None:
        """Accept, validate and apply one update as a worker would, recording its events."""
        update_id = str(message.update_id)
        arguments = link.envelope(message.args)
        link.add(
            "UpdateAccepted", update_id=update_id, update_name=message.name, arguments=arguments
        )
        outcome = apply_update(
            cls,
            link.record.history,
            link.record.input,
            update_id,
            workflow_id=self._workflow_id,
            run_id=run_id,
            converter=self.converter,
        )
        self._update_outcomes[update_id] = outcome
        if isinstance(outcome, CompleteUpdate):
            link.add(
                "UpdateApplied",
                update_id=update_id,
                update_name=message.name,
                arguments=arguments,
            )
            link.add(
                "UpdateCompleted",
                update_id=update_id,
                update_name=message.name,
                result=link.envelope(outcome.result),
            )
        else:
            link.add(
                "UpdateCompleted",
                update_id=update_id,
                update_name=message.name,
                message=outcome.message,
                exception_type=outcome.exception_type,
            )

    def _activity(self, link: _Link, command: ScheduleActivity) -> tuple[str, dict[str, Any]]:
        name = command.activity_type
        if name not in self._activities:
            raise KeyError(f"no mock registered for activity {name!r}")
        exec_id, sequence = link.new_id("activity"), link.step()
        common = {"activity_execution_id": exec_id, "activity_type": name, "sequence": sequence}
        link.add("ActivityScheduled", **common)
        try:
            result = self._activities[name](*command.arguments)
        except Exception as exc:
            return (
                "ActivityFailed",
                {
                    **common,
                    "message": str(exc) or type(exc).__name__,
                    "exception_type": type(exc).__name__,
                    "non_retryable": True,
                    "exception": {"type": type(exc).__name__, "message": str(exc)},
                },
            )
        return ("ActivityCompleted", {**common, "result": link.envelope(result)})

    def _child(self, link: _Link, command: StartChildWorkflow) -> tuple[str, dict[str, Any]]:
        child_type = command.workflow_type
        call_id, sequence = link.new_id("child"), link.step()
        common = {"child_call_id": call_id, "child_workflow_type": child_type, "sequence": sequence}
        link.add("ChildWorkflowScheduled", **common)
        result = self._children.get(child_type, _MISSING)
        if result is _MISSING:
            cls = self._workflows.get(child_type)
            if cls is None:
                raise KeyError(f"no result or workflow registered for child {child_type!r}")
            nested = WorkflowEnvironment(
                iteration_limit=self.iteration_limit,
                continue_as_new_limit=self.continue_as_new_limit,
                converter=self.converter,
            )
            nested._activities, nested._children = self._activities, self._children
            nested._workflows = self._workflows
            try:
                result = nested.execute_workflow(cls, *command.arguments, run_id=call_id)
            except WorkflowFailed as exc:
                return (
                    "ChildRunFailed",
                    {**common, "message": str(exc), "exception_type": exc.exception_class},
                )
        return ("ChildRunCompleted", {**common, "result": link.envelope(result)})

    @staticmethod
    def _unblock_wait(link: _Link, wait: WaitCondition, signals: list[_Message]) -> None:
        if signals:
            message = signals.pop(0)
            link.add("SignalReceived", signal_name=message.name, value=link.envelope(message.args))
            return
        if wait.timeout_seconds is None:
            raise RuntimeError(
                f"workflow waits on condition {wait.condition_key or '(no key)'} with no "
                "timeout and no queued signal left: it would wait forever"
            )
        wait_id = link.new_id("wait")
        link.add(
            "ConditionWaitOpened",
            condition_wait_id=wait_id,
            condition_key=wait.condition_key,
            condition_definition_fingerprint=wait.condition_definition_fingerprint,
            timeout_seconds=wait.timeout_seconds,
            sequence=link.step(),
        )
        # What the server records for an external workflow's wait timeout.
        timer = {
            "timer_id": link.new_id("timer"),
            "timer_kind": "condition_timeout",
            "condition_wait_id": wait_id,
            "delay_seconds": wait.timeout_seconds,
        }
        link.add("TimerScheduled", **timer)
        link.skip(wait.timeout_seconds)
        link.add("TimerFired", **timer)


def replay_history(
    workflow_cls: type,
    history_events: Any,
    start_input: Any = None,
    *,
    run_id: str = "",
    payload_codec: str | None = None,
    converter: DataConverter | None = None,
) -> ReplayOutcome:
    """Regression-replay a stored history; start input is inferred when not given.

    ``converter`` (beyond upstream) reads externally stored or codec-chained values.
    """
    if start_input is None:
        start_input = Replayer._start_input(history_list(history_events))
    return replay(
        workflow_cls,
        history_events,
        start_input,
        run_id=run_id,
        payload_codec=payload_codec,
        converter=converter,
    )


def replay_history_file(
    workflow_cls: type,
    path: str | Path,
    start_input: Any = None,
    *,
    run_id: str = "",
    payload_codec: str | None = None,
    converter: DataConverter | None = None,
) -> ReplayOutcome:
    """:func:`replay_history` of a JSON file holding a list or a dict with ``events``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, (list, Mapping)):
        raise ValueError(f"{path}: expected a JSON list of events or an object with 'events'")
    return replay_history(
        workflow_cls,
        data,
        start_input,
        run_id=run_id,
        payload_codec=payload_codec,
        converter=converter,
    )
