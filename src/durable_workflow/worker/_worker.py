"""The ``Worker``: registers with the server and runs workflow and activity tasks.

Shape (worker-protocol.md §13): check ``/api/cluster/info`` (fail closed, before
anything is registered, against the contracts of the server's generation) ->
register -> run the workflow-task poller, the activity-task poller, the worker
heartbeat and (when the server advertises ``query_tasks``) the query-task poller
concurrently until ``stop()``. On a 2.x server a worker whose workflows declare
update validators also receives update-validation tasks through the workflow-task
poll (``task_kinds``, ``_update_validation``); the server must offer them, or the
worker refuses to start.
``run_until()`` drives exactly the same loops and additionally watches one
workflow until it closes. Task handling lives in ``_workflow_tasks`` (workflow),
``_activities`` and ``_queries``.

Shutdown (``stop()``, SIGINT/SIGTERM under ``run()`` in the main thread, or
the end of ``run_until``): stop polling, give in-flight tasks
``shutdown_timeout`` seconds, hand what is left back to the server (an
activity attempt is failed as retryable, so it is retried at once rather than
after its lease), then deregister (which releases this worker's leased workflow
tasks). A second signal skips the grace period and ``run()`` returns without a
traceback; sync activities run on daemon threads (``_threads``), so the process
can exit while one is still running. A 2.x server that has
no room for another long poll says how long to wait; the poller waits that long.

Workflow instances are kept between tasks of a run in a sticky cache
(``max_cached_workflows`` instances, ``max_cached_workflow_bytes`` of history;
0 disables it), so a run of N steps costs O(N) replay work over its life; a
cached run's task downloads only the history after what the cache has seen
(``_history``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from durable_workflow import errors
from durable_workflow._compat import check_cluster_info
from durable_workflow._dev_extensions import EAGER_ACTIVITY_DISPATCH, EAGER_WORKFLOW_TASKS
from durable_workflow._transport import ServerProfile
from durable_workflow._transport._negotiation import profile_from_cluster_info
from durable_workflow.client import DEFAULT_SDK_VERSION, Client, WorkflowExecution
from durable_workflow.client._calls import require_plain_payloads
from durable_workflow.client._findings import timeout_message
from durable_workflow.client._worker_plane_v2 import TASK_KINDS
from durable_workflow.codecs import PayloadCodec
from durable_workflow.converter import ConverterAttribute, DataConverter
from durable_workflow.external_storage import ExternalPayloadCache, ExternalStorageDriver
from durable_workflow.metrics import MetricsRecorder
from durable_workflow.serializer import DEFAULT_PAYLOAD_SIZE_WARNING, PayloadSizeWarningConfig
from durable_workflow.worker._activities import ActivityTaskRunner
from durable_workflow.worker._eager import EagerActivities, EagerWorkflowTasks
from durable_workflow.worker._history import FIRST_PAGE_SIZE
from durable_workflow.worker._queries import QueryTaskRunner
from durable_workflow.worker._registration import (
    command_contracts,
    has_update_validators,
    install_signal_handlers,
    registered_capabilities,
    remove_signal_handlers,
)
from durable_workflow.worker._support import (
    Backoff,
    definition_fingerprint,
    is_fatal,
    is_transient,
    process_metrics,
    reason_of,
)
from durable_workflow.worker._telemetry import WorkerTelemetry
from durable_workflow.worker._threads import DaemonThreadPool
from durable_workflow.worker._update_validation import UpdateValidationRunner
from durable_workflow.worker._workflow_tasks import WorkflowTaskRunner
from durable_workflow.workflow._replay.names import workflow_type_name
from durable_workflow.workflow._replay.sticky import WorkflowCache

__all__ = ["Worker"]

logger = logging.getLogger("durable_workflow.worker")

# How long a poller yields after another one's capacity wait ends, so that one polls first.
_CAPACITY_HANDOVER_SECONDS = 0.05

# An empty poll answered faster than this was not a long poll.
_MIN_EMPTY_POLL_SECONDS = 1.0

# worker_id -> {workflow type -> fingerprint} for every Worker built in this process.
_FINGERPRINTS_BY_WORKER: dict[str, dict[str, str]] = {}


def _activity_name(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__activity_name__", None)
    return name if isinstance(name, str) and name else str(getattr(fn, "__name__", repr(fn)))


def _client_converter(client: Client) -> DataConverter:
    """The client's payload settings; for a client-like object, its upstream attributes.

    Upstream's worker read ``external_storage``, ``external_storage_threshold_bytes``,
    ``external_storage_cache`` and ``payload_size_warning_config`` off the client; an
    object that has those (with real values) but no ``DataConverter`` keeps working.
    """
    converter = getattr(client, "converter", None)
    if isinstance(converter, DataConverter):
        return converter
    storage = getattr(client, "external_storage", None)
    threshold = getattr(client, "external_storage_threshold_bytes", None)
    cache = getattr(client, "external_storage_cache", None)
    warning = getattr(client, "payload_size_warning_config", None)
    offloads = storage is not None and isinstance(threshold, int) and threshold >= 1
    return DataConverter(
        external_storage=storage if offloads else None,
        threshold_bytes=threshold if offloads else None,
        storage_cache=cache if isinstance(cache, ExternalPayloadCache) else None,
        size_warning=(
            warning
            if warning is None or isinstance(warning, PayloadSizeWarningConfig)
            else DEFAULT_PAYLOAD_SIZE_WARNING
        ),
    )


class Worker:
    """Polls one task queue and executes the registered workflows and activities."""

    # Upstream's payload attributes, views of ``self.converter``.
    external_storage = ConverterAttribute[ExternalStorageDriver | None]("external_storage")
    external_storage_threshold_bytes = ConverterAttribute[int | None]("threshold_bytes")
    external_storage_cache = ConverterAttribute[ExternalPayloadCache | None]("storage_cache")
    #: The payload codec chain (beyond upstream).
    payload_codec = ConverterAttribute[PayloadCodec | None]("codec_chain")

    def __init__(
        self,
        client: Client,
        *,
        task_queue: str,
        workflows: Iterable[type] = (),
        activities: Iterable[Callable[..., Any]] = (),
        worker_id: str | None = None,
        build_id: str | None = None,
        poll_timeout: float = 35.0,
        max_concurrent_workflow_tasks: int = 10,
        max_concurrent_activity_tasks: int = 10,
        shutdown_timeout: float = 30.0,
        heartbeat_interval: float = 60.0,
        metrics: MetricsRecorder | None = None,
        interceptors: Iterable[Any] = (),
        external_storage: ExternalStorageDriver | None = None,
        external_storage_threshold_bytes: int | None = None,
        external_storage_cache: ExternalPayloadCache | None = None,
        max_cached_workflows: int = 512,
        max_cached_workflow_bytes: int = 64 * 1024 * 1024,
        payload_codec: PayloadCodec | None = None,
        converter: DataConverter | None = None,
    ) -> None:
        if not isinstance(task_queue, str) or not task_queue:
            raise ValueError("task_queue must be a non-empty string")
        if build_id is not None and (not isinstance(build_id, str) or not build_id.strip()):
            raise ValueError("build_id must be a non-empty string or None")
        if max_concurrent_workflow_tasks < 1:
            raise ValueError("max_concurrent_workflow_tasks must be >= 1")
        if max_concurrent_activity_tasks < 1:
            raise ValueError("max_concurrent_activity_tasks must be >= 1")
        if heartbeat_interval <= 0:
            raise ValueError("heartbeat_interval must be > 0")
        if poll_timeout <= 0:
            raise ValueError("poll_timeout must be > 0")
        interceptors = tuple(interceptors)
        for interceptor in interceptors:
            hooks = ("execute_workflow_task", "execute_activity", "execute_query_task")
            if not any(callable(getattr(interceptor, hook, None)) for hook in hooks):
                raise TypeError(
                    f"{interceptor!r} is not a worker interceptor (it has none of {hooks})"
                )
        if max_cached_workflows < 0 or max_cached_workflow_bytes < 1:
            raise ValueError("max_cached_workflows must be >= 0 and max_cached_workflow_bytes >= 1")

        self.client = client
        self.task_queue = task_queue
        self.workflows: dict[str, type] = {workflow_type_name(cls): cls for cls in workflows}
        self.activities: dict[str, Callable[..., Any]] = {
            _activity_name(fn): fn for fn in activities
        }
        self.worker_id = worker_id or f"py-worker-{uuid.uuid4().hex[:8]}"
        self.build_id = build_id
        self.poll_timeout = poll_timeout
        self.max_concurrent_workflow_tasks = max_concurrent_workflow_tasks
        self.max_concurrent_activity_tasks = max_concurrent_activity_tasks
        self.shutdown_timeout = shutdown_timeout
        self.heartbeat_interval = heartbeat_interval
        # A client-like object (a test double of Client) may lack the payload and metric
        # settings; the worker then uses the defaults, as upstream's worker did.
        client_metrics = getattr(client, "metrics", None)
        self.metrics = metrics if metrics is not None else client_metrics
        self.interceptors = interceptors
        # Payload handling defaults to the client's converter (sdk-surface.md §7.1);
        # keywords given here override its storage and codec chain.
        self.converter = DataConverter.from_options(
            converter if converter is not None else _client_converter(client),
            external_storage=external_storage,
            threshold_bytes=external_storage_threshold_bytes,
            storage_cache=external_storage_cache,
            codec_chain=payload_codec,
        )
        if self.converter.storage_cache is None:
            self.converter = self.converter.replace(storage_cache=ExternalPayloadCache())
        # None when disabled: every workflow task then replays the whole history.
        self.workflow_cache: WorkflowCache | None = (
            WorkflowCache(max_entries=max_cached_workflows, max_bytes=max_cached_workflow_bytes)
            if max_cached_workflows > 0
            else None
        )
        self._telemetry = WorkerTelemetry(self.metrics, task_queue)
        self.workflow_definition_fingerprints = {
            name: definition_fingerprint(cls, name) for name, cls in self.workflows.items()
        }
        self._claim_fingerprints()

        # Set by stop() (and once the worker has stopped); a new run starts it cleared.
        self._stop = asyncio.Event()
        self._running = False
        self._in_flight: set[asyncio.Task[Any]] = set()
        # In-flight handler -> (task kind, the leased task), to hand back on shutdown.
        self._held: dict[asyncio.Task[Any], tuple[str, dict[str, Any]]] = {}
        self._stop_now: asyncio.Event | None = None
        self._shutting_down = False
        self._executor: DaemonThreadPool | None = None
        # One slot per concurrent task of each kind (upstream: _wf_semaphore/_act_semaphore);
        # each run starts with fresh ones.
        self._workflow_slots = asyncio.Semaphore(max_concurrent_workflow_tasks)
        self._activity_slots = asyncio.Semaphore(max_concurrent_activity_tasks)
        self._busy = {"workflow": 0, "activity": 0, "query": 0}
        self._query_tasks = False
        self._generation = 1
        self._validation_tasks = False
        self._eager_activities = False
        self._eager_workflow_tasks = False
        #: Eager activity dispatch while running against a server that offers it, else None.
        self.eager_activities: EagerActivities | None = None
        #: Eager workflow tasks while running against a server that offers them, else None.
        self.eager_workflow_tasks: EagerWorkflowTasks | None = None
        # Poll kind -> loop time until which it waits out a long-poll capacity refusal.
        self._capacity_waits: dict[str, float] = {}
        self._serve_task: asyncio.Task[Any] | None = None
        self._registered = False
        self._signals_received = 0

    def _claim_fingerprints(self) -> None:
        known = _FINGERPRINTS_BY_WORKER.setdefault(self.worker_id, {})
        for name, fingerprint in self.workflow_definition_fingerprints.items():
            previous = known.get(name)
            if previous is not None and previous != fingerprint:
                raise RuntimeError(
                    f"Workflow definition changed for worker {self.worker_id!r} and workflow "
                    f"type {name!r}: worker id {self.worker_id!r} already registered it with a "
                    "different definition in this process; use a new worker_id"
                )
        known.update(self.workflow_definition_fingerprints)

    # -- public API ------------------------------------------------------------------

    async def run(self) -> None:
        """Check the server, register, then serve tasks until ``stop()`` or cancellation.

        Run from the main thread (a script), SIGINT and SIGTERM request a graceful
        stop; a second signal cancels in-flight work at once.
        """
        installed = install_signal_handlers(self._on_signal)
        try:
            await self._serve(None)
        except asyncio.CancelledError:
            if self._signals_received < 2:
                raise
            # A second signal cut start-up short: a requested exit, not an error.
        finally:
            remove_signal_handlers(installed)

    async def run_until(
        self, *, workflow_id: str, timeout: float = 60.0, poll_interval: float = 0.5
    ) -> WorkflowExecution:
        """Serve tasks until ``workflow_id`` reaches a terminal status; return its description.

        Raises ``TimeoutError`` if it is still open after ``timeout`` seconds. The
        worker is always stopped on return.
        """
        execution = await self._serve(self._watch(workflow_id, timeout, poll_interval))
        if execution is None:
            raise RuntimeError(f"worker was stopped before workflow {workflow_id} finished")
        return execution

    async def stop(self) -> None:
        """Stop polling; in-flight tasks get ``shutdown_timeout`` seconds to finish.

        Returns once the request is made; ``run()`` returns when shutdown is done.
        """
        self._stop.set()
        if not self._running:
            await self._drain_in_flight()  # tasks started outside run() (upstream's hooks)

    # -- signals -----------------------------------------------------------------------

    def _on_signal(self, signum: signal.Signals) -> None:
        self._signals_received += 1
        if self._signals_received == 1:
            logger.warning(
                "%s received: stopping worker %s (waiting up to %gs for in-flight tasks; "
                "send again to stop at once)",
                signum.name,
                self.worker_id,
                self.shutdown_timeout,
            )
            self._stop.set()
        else:
            logger.warning(
                "%s received again: stopping worker %s now; %d in-flight task(s) go back to "
                "the server",
                signum.name,
                self.worker_id,
                len(self._in_flight),
            )
            if self._stop_now is not None:
                self._stop_now.set()
            self._stop.set()
            if not self._shutting_down and self._serve_task is not None:
                self._serve_task.cancel()  # still starting up: nothing to hand back yet

    # -- lifecycle -------------------------------------------------------------------

    async def _register(self) -> None:
        """Check the server (``/api/cluster/info``), negotiate, then register this worker."""
        try:
            info = await self.client.get_cluster_info()
        except errors.DurableWorkflowError:
            raise
        except Exception as exc:  # not an SDK error: a broken client (or its test double)
            raise RuntimeError(
                f"Server compatibility error: unable to read /api/cluster/info: {exc}"
            ) from exc
        profile = self.client._adopt_cluster_info(info)
        if not isinstance(profile, ServerProfile):  # a test double of Client negotiates nothing
            profile = profile_from_cluster_info(info)
        check_cluster_info(info, profile.generation)
        require_plain_payloads(profile, self.converter.codec_chain)
        self._generation = profile.generation
        # Payloads are written as this server reads them (both framings are read).
        self.converter = self.converter.with_framing(profile.framing)
        self._query_tasks = profile.supports("query_tasks")
        self._validation_tasks = profile.generation == 2 and has_update_validators(self.workflows)
        self._eager_activities = profile.dev_extension(EAGER_ACTIVITY_DISPATCH)
        self._eager_workflow_tasks = profile.dev_extension(EAGER_WORKFLOW_TASKS)
        if self._validation_tasks:
            # A 2.x server runs validators before accepting an update; without this
            # capability it would accept validated updates unchecked: refuse to start.
            profile.require("update_validation_tasks")
        await self._register_worker()
        self._registered = True

    async def _register_worker(self) -> None:
        generation_2 = self._generation == 2
        answer = await self.client.register_worker(
            worker_id=self.worker_id,
            task_queue=self.task_queue,
            supported_workflow_types=sorted(self.workflows),
            workflow_definition_fingerprints=self.workflow_definition_fingerprints,
            supported_activity_types=sorted(self.activities),
            max_concurrent_workflow_tasks=self.max_concurrent_workflow_tasks,
            max_concurrent_activity_tasks=self.max_concurrent_activity_tasks,
            runtime="python",
            sdk_version=DEFAULT_SDK_VERSION,
            build_id=self.build_id,
            capabilities=registered_capabilities(self._query_tasks, self._validation_tasks),
            task_slots=self._task_slots(),
            process_metrics=process_metrics(),
            heartbeat_interval_seconds=self.heartbeat_interval,
            workflow_command_contracts=command_contracts(self.workflows) if generation_2 else None,
        )
        self._adopt_heartbeat_interval(answer)

    def _adopt_heartbeat_interval(self, answer: Any) -> None:
        """Heartbeat at the cadence the server asks for (registration or heartbeat answer)."""
        interval = answer.get("heartbeat_interval_seconds") if isinstance(answer, dict) else None
        if isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval > 0:
            self.heartbeat_interval = float(interval)

    @property
    def _wf_semaphore(self) -> asyncio.Semaphore:
        """Upstream 0.4.53's name for the workflow-task slots."""
        return self._workflow_slots

    @property
    def _act_semaphore(self) -> asyncio.Semaphore:
        """Upstream 0.4.53's name for the activity-task slots."""
        return self._activity_slots

    @property
    def _heartbeat_interval(self) -> float:
        """Upstream 0.4.53's name for the cadence in use."""
        return self.heartbeat_interval

    def _task_slots(self) -> dict[str, int]:
        return {
            "workflow_available": self.max_concurrent_workflow_tasks - self._busy["workflow"],
            "activity_available": self.max_concurrent_activity_tasks - self._busy["activity"],
        }

    async def _serve(
        self, watch: Coroutine[Any, Any, WorkflowExecution] | None
    ) -> WorkflowExecution | None:
        if self._running:
            if watch is not None:
                watch.close()
            raise RuntimeError("this worker is already running")
        self._running = True
        self._signals_received = 0
        self._serve_task = asyncio.current_task()
        self._stop = asyncio.Event()
        self._stop_now = asyncio.Event()
        self._shutting_down = False
        self._workflow_slots = asyncio.Semaphore(self.max_concurrent_workflow_tasks)
        self._activity_slots = asyncio.Semaphore(self.max_concurrent_activity_tasks)
        loops: list[asyncio.Task[Any]] = []
        watcher: asyncio.Task[WorkflowExecution] | None = None
        try:
            try:
                await self._register()
            except BaseException:
                if watch is not None:
                    watch.close()
                raise

            async def workflow_work(task: dict[str, Any]) -> None:
                # One poll leases either kind (task_kinds); the task says which it is.
                if task.get("task_kind") == "update_validation":
                    await validation_runner.handle(task)
                else:
                    await workflow_runner.handle(task)

            # Both runners lend workflow slots (eager workflow tasks run as polled ones).
            self.eager_workflow_tasks = self._eager_workflow(workflow_work)
            activity_runner = self._activity_runner()
            self.eager_activities = self._eager(activity_runner)
            workflow_runner = self._workflow_runner()
            validation_runner = UpdateValidationRunner(
                self.client,
                self.workflows,
                worker_id=self.worker_id,
                task_queue=self.task_queue,
                telemetry=self._telemetry,
                converter=self.converter,
            )

            loops = [
                asyncio.create_task(
                    self._poll_loop(
                        "workflow",
                        self._workflow_slots,
                        self._poll_workflow,
                        workflow_work,
                    )
                ),
                asyncio.create_task(
                    self._poll_loop(
                        "activity",
                        self._activity_slots,
                        self._poll_activity,
                        activity_runner.handle,
                    )
                ),
                asyncio.create_task(self._heartbeat_loop()),
                asyncio.create_task(self._stop.wait()),
            ]
            if self._query_tasks:
                # Queries only read replayed state; they get their own slots so a
                # burst of queries never starves workflow tasks (and vice versa).
                query_runner = self._query_runner()
                loops.append(
                    asyncio.create_task(
                        self._poll_loop(
                            "query",
                            asyncio.Semaphore(self.max_concurrent_workflow_tasks),
                            self._poll_query,
                            query_runner.handle,
                        )
                    )
                )
            if watch is not None:
                watcher = asyncio.create_task(watch)
            waiting = set(loops) | ({watcher} if watcher is not None else set())
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = None if task is watcher or task.cancelled() else task.exception()
                if error is not None:
                    raise error
            if watcher is not None and watcher in done:
                return watcher.result()
            return None
        finally:
            await self._shutdown(loops, watcher)

    # -- one task of each kind (the poll loops' runners; also upstream's private hooks) --

    def _workflow_runner(self) -> WorkflowTaskRunner:
        return WorkflowTaskRunner(
            self.client,
            self.task_queue,
            self.workflows,
            worker_id=self.worker_id,
            cache=self.workflow_cache,
            interceptors=self.interceptors,
            telemetry=self._telemetry,
            converter=self.converter,
            validated_updates=self._validation_tasks,
            eager=self.eager_activities,
            eager_workflow=self.eager_workflow_tasks,
        )

    def _eager(self, activity_runner: ActivityTaskRunner) -> EagerActivities | None:
        """Eager activity dispatch where the server advertises it (``_eager``), else None."""
        slots = self._activity_slots
        if not self._eager_activities or slots is None:
            return None
        return EagerActivities(
            self.task_queue,
            frozenset(self.activities),
            slots,
            lambda task: self._start_task("activity", slots, activity_runner.handle(task), task),
            lambda: not self._shutting_down,
        )

    def _eager_workflow(
        self, work: Callable[[dict[str, Any]], Coroutine[Any, Any, Any]]
    ) -> EagerWorkflowTasks | None:
        """Eager workflow tasks where the server advertises them, else None."""
        if not self._eager_workflow_tasks:
            return None
        slots = self._workflow_slots
        return EagerWorkflowTasks(
            slots,
            lambda task: self._start_task("workflow", slots, work(task), task),
            lambda: not self._shutting_down,
            self._first_page_size(),
        )

    def _first_page_size(self) -> int | None:
        # With a cache, most tasks need only the tail of the history (_history),
        # so a small first page saves decoding events the cache has already seen.
        return FIRST_PAGE_SIZE if self.workflow_cache is not None else None

    def _activity_runner(self) -> ActivityTaskRunner:
        if self._executor is None:  # sync activities run here; shut down with the worker
            self._executor = DaemonThreadPool(
                max_workers=self.max_concurrent_activity_tasks,
                thread_name_prefix=f"{self.worker_id}-activity",
            )
        return ActivityTaskRunner(
            self.client,
            self.task_queue,
            self.worker_id,
            self.activities,
            self._executor,
            interceptors=self.interceptors,
            telemetry=self._telemetry,
            converter=self.converter,
            eager_workflow=self.eager_workflow_tasks,
        )

    def _query_runner(self) -> QueryTaskRunner:
        return QueryTaskRunner(
            self.client,
            self.workflows,
            worker_id=self.worker_id,
            task_queue=self.task_queue,
            interceptors=self.interceptors,
            telemetry=self._telemetry,
            converter=self.converter,
        )

    async def _run_workflow_task(self, task: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Handle one leased workflow task; the commands sent, or ``None`` if it failed."""
        return await self._workflow_runner().handle(task)

    async def _run_activity_task(self, task: dict[str, Any]) -> str:
        """Run and report one leased activity attempt; its outcome (``"completed"``, ...)."""
        return await self._activity_runner().handle(task)

    async def _run_query_task(self, task: dict[str, Any]) -> str:
        """Answer one leased query task; its outcome (``"completed"`` or ``"failed"``)."""
        return await self._query_runner().handle(task)

    async def _shutdown(
        self, loops: list[asyncio.Task[Any]], watcher: asyncio.Task[WorkflowExecution] | None
    ) -> None:
        self._shutting_down = True
        for task in loops:
            task.cancel()
        if watcher is not None and not watcher.done():
            watcher.cancel()
        await asyncio.gather(*loops, *([watcher] if watcher else []), return_exceptions=True)
        pending = await self._drain()
        if pending:
            await self._release_held(pending)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        if self._registered:
            self._registered = False
            await self._deregister()
        if self.workflow_cache is not None:
            self.workflow_cache.clear()
        self._serve_task = None
        self._running = False
        self._stop.set()

    async def _drain(self) -> set[asyncio.Task[Any]]:
        """Wait for in-flight tasks up to ``shutdown_timeout`` (or a second signal); the rest."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.shutdown_timeout
        stop_now = self._stop_now
        interrupt = asyncio.ensure_future(stop_now.wait()) if stop_now is not None else None
        try:
            while self._in_flight and not (stop_now is not None and stop_now.is_set()):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                waiting: set[asyncio.Future[Any]] = set(self._in_flight)
                if interrupt is not None:
                    waiting.add(interrupt)
                await asyncio.wait(waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if interrupt is not None:
                interrupt.cancel()
        return set(self._in_flight)

    async def _release_held(self, pending: set[asyncio.Task[Any]]) -> None:
        """Fail the activity attempts still running, as retryable: the server retries them now.

        Without this an attempt stays leased to this (gone) worker until its lease
        expires. Workflow tasks are released by deregistration.
        """
        reports = []
        for handler in pending:
            kind, task = self._held.get(handler, ("", {}))
            if kind != "activity":
                continue
            reports.append(
                self.client.fail_activity_task(
                    task_id=str(task.get("task_id")),
                    activity_attempt_id=str(task.get("activity_attempt_id")),
                    lease_owner=str(task.get("lease_owner") or self.worker_id),
                    message=f"worker {self.worker_id} stopped before the activity finished; "
                    "the attempt is handed back to be retried",
                    failure_type="WorkerShutdown",
                    codec=str(task.get("payload_codec") or "avro"),
                    activity_name=str(task.get("activity_type") or ""),
                )
            )
        if not reports:
            return
        results = await asyncio.gather(
            *(asyncio.wait_for(report, timeout=5.0) for report in reports), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                logger.info("handing an activity attempt back failed: %s", result)

    async def _drain_in_flight(self) -> None:
        """Give in-flight tasks ``shutdown_timeout`` seconds, then cancel the rest."""
        pending = await self._drain()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _deregister(self) -> None:
        """Tell the server this worker is gone (best effort: a dead server must not hang us).

        A 2.x server has graceful deregistration on the worker plane (it also hands
        this worker's leased workflow tasks to others); a 0.x server only the
        operator's route.
        """
        if self._generation == 2:
            leave = self.client.deregister_worker_registration(self.worker_id, timeout=5.0)
        else:
            leave = self.client.deregister_worker(self.worker_id)
        try:
            await asyncio.wait_for(leave, timeout=5.0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.info("deregistering worker %s failed: %s", self.worker_id, exc)

    # -- loops -------------------------------------------------------------------------

    async def _poll_workflow(self) -> dict[str, Any] | None:
        return await self.client.poll_workflow_task(
            worker_id=self.worker_id,
            task_queue=self.task_queue,
            timeout=self.poll_timeout,
            history_page_size=self._first_page_size(),
            task_kinds=TASK_KINDS if self._validation_tasks else None,
        )

    async def _poll_query(self) -> dict[str, Any] | None:
        return await self.client.poll_query_task(
            worker_id=self.worker_id, task_queue=self.task_queue, timeout=self.poll_timeout
        )

    async def _poll_activity(self) -> dict[str, Any] | None:
        return await self.client.poll_activity_task(
            worker_id=self.worker_id, task_queue=self.task_queue, timeout=self.poll_timeout
        )

    async def _poll_loop(
        self,
        kind: str,
        slots: asyncio.Semaphore,
        poll: Callable[[], Awaitable[dict[str, Any] | None]],
        handle: Callable[[dict[str, Any]], Coroutine[Any, Any, Any]],
    ) -> None:
        """Lease a slot, long-poll, hand the task off, repeat; back off on errors."""
        loop = asyncio.get_running_loop()
        backoff = Backoff()
        idle = Backoff(initial=0.05, maximum=1.0)
        while True:
            await slots.acquire()
            await self._let_refused_pollers_in(kind)
            started = loop.time()
            clock = time.perf_counter()
            try:
                task = await poll()
            except BaseException as exc:
                slots.release()
                if isinstance(exc, Exception):
                    self._telemetry.poll(kind, "error", time.perf_counter() - clock)
                if not isinstance(exc, Exception) or is_fatal(exc):
                    raise
                await self._recover_from_poll_error(kind, exc, backoff)
                continue
            backoff.reset()
            outcome = "empty" if task is None else "task"
            self._telemetry.poll(kind, outcome, time.perf_counter() - clock)
            if task is None:
                slots.release()
                if loop.time() - started < _MIN_EMPTY_POLL_SECONDS:
                    # A server that answers "no task" without holding the poll would
                    # otherwise make this loop spin; pace it instead.
                    await asyncio.sleep(idle.next_delay())
                else:
                    idle.reset()
                continue
            idle.reset()
            self._start_task(kind, slots, handle(task), task)
            await asyncio.sleep(0)

    async def _let_refused_pollers_in(self, kind: str) -> None:
        """Hold back while another of this worker's pollers waits out a capacity refusal.

        Without this the poller holding the server's last slot takes it again the
        moment its poll ends, and the refused one (say, activities) starves.
        """
        loop = asyncio.get_running_loop()
        waiting = [until for other, until in self._capacity_waits.items() if other != kind]
        if waiting:
            await asyncio.sleep(max(0.0, max(waiting) - loop.time()) + _CAPACITY_HANDOVER_SECONDS)

    async def _recover_from_poll_error(self, kind: str, exc: Exception, backoff: Backoff) -> None:
        if isinstance(exc, errors.LongPollCapacityExhausted):
            # The server says how long to wait before holding another poll: honour it.
            logger.info(
                "%s poll: server long-poll capacity exhausted; retrying in %gs",
                kind,
                exc.retry_after_seconds,
            )
            loop = asyncio.get_running_loop()
            self._capacity_waits[kind] = loop.time() + exc.retry_after_seconds
            try:
                await asyncio.sleep(exc.retry_after_seconds)
            finally:
                self._capacity_waits.pop(kind, None)
            return
        delay = backoff.next_delay()
        if reason_of(exc) == "worker_not_registered":
            logger.warning(
                "%s poll: worker %s not registered; registering again", kind, self.worker_id
            )
            with contextlib.suppress(Exception):
                await self._register_worker()
        elif is_transient(exc):
            logger.warning("%s poll failed (%s); retrying in %.2fs", kind, exc, delay)
        else:
            logger.error("%s poll rejected (%s); retrying in %.2fs", kind, exc, delay)
        await asyncio.sleep(delay)

    def _start_task(
        self,
        kind: str,
        slots: asyncio.Semaphore,
        work: Coroutine[Any, Any, Any],
        leased: dict[str, Any],
    ) -> None:
        self._busy[kind] += 1

        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s task handler crashed", kind)
            finally:
                self._busy[kind] -= 1
                slots.release()

        task = self._track(run())
        self._held[task] = (kind, leased)
        task.add_done_callback(lambda done: self._held.pop(done, None))

    def _track(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``work`` as an in-flight task: shutdown (and ``stop()``) waits for it."""
        task = asyncio.create_task(work)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def _dispatch_activity_task(self, task: dict[str, Any]) -> None:
        """Run one activity task on an activity slot the caller holds, then free the slot."""
        try:
            await self._run_activity_task(task)
        finally:
            self._activity_slots.release()

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                ack = await self.client.heartbeat_worker(
                    worker_id=self.worker_id,
                    task_slots=self._task_slots(),
                    process_metrics=process_metrics(),
                )
            except Exception as exc:
                if is_fatal(exc):
                    raise
                if reason_of(exc) == "worker_not_registered":
                    with contextlib.suppress(Exception):
                        await self._register_worker()
                else:
                    logger.warning("worker heartbeat failed: %s", exc)
                continue
            self._adopt_heartbeat_interval(ack)

    async def _watch(
        self, workflow_id: str, timeout: float, poll_interval: float
    ) -> WorkflowExecution:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        backoff = Backoff(initial=poll_interval, maximum=max(poll_interval, 5.0))
        while True:
            try:
                execution = await self.client.describe_workflow(workflow_id)
            except errors.WorkflowNotFound:
                raise
            except Exception as exc:
                if not is_transient(exc):
                    raise
                execution = None
                logger.warning("describe %s failed (%s)", workflow_id, exc)
            if execution is not None and execution.is_terminal:
                return execution
            remaining = deadline - loop.time()
            if remaining <= 0:
                status = execution.status if execution is not None else "unknown"
                raise TimeoutError(
                    await timeout_message(self.client, workflow_id, None, timeout, status)
                )
            delay = poll_interval if execution is not None else backoff.next_delay()
            await asyncio.sleep(min(delay, remaining))
