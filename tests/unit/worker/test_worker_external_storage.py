"""External payload storage in the worker and the replayer (payloads.md §4-5).

Offload thresholds in command serialization and activity results, references
in tasks and history resolved through the driver with verification, and an
integrity failure that fails the task naming the reference (never silent).
Local filesystem driver on ``tmp_path``; worker-plane HTTP on MockTransport.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import activity, errors, serializer, workflow
from durable_workflow.client import Client
from durable_workflow.converter import DataConverter
from durable_workflow.external_storage import (
    ExternalPayloadCache,
    LocalFilesystemExternalStorage,
    external_storage_envelope,
)
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow.worker import Worker
from durable_workflow.worker._activities import ActivityTaskRunner
from durable_workflow.worker._queries import QueryTaskRunner
from durable_workflow.worker._workflow_tasks import WorkflowTaskRunner
from durable_workflow.workflow import (
    CompleteUpdate,
    CompleteWorkflow,
    ContinueAsNew,
    RecordSideEffect,
    Replayer,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    commands_to_server_commands,
)
from durable_workflow.workflow._replay.sticky import WorkflowCache

BIG = "payload-" * 100  # an 800-character string: far above the 64-byte thresholds below


class Recorder:
    """Worker-plane fake: records each request body by path and answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Any]] = []

    def calls(self, suffix: str) -> list[Any]:
        return [body for path, body in self.requests if path.endswith(suffix)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.url.path, body))
        return httpx.Response(200, json={"outcome": "ok", "recorded": True})


class CountingStore(LocalFilesystemExternalStorage):
    """Local driver that counts reads, to see the verified-bytes cache at work."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.gets = 0

    def get(self, uri: str) -> bytes:
        self.gets += 1
        return super().get(uri)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "payloads")


def make_client(server: Recorder, **kwargs: Any) -> Client:
    return Client(
        "http://dw.test",
        retry_policy=TransportRetryPolicy(max_attempts=1),
        transport=httpx.MockTransport(server),
        **kwargs,
    )


def reference(value: Any, store: LocalFilesystemExternalStorage, codec: str = "avro") -> Any:
    """``value`` stored externally, as the server puts it in tasks and history."""
    envelope = external_storage_envelope(
        value, external_storage=store, threshold_bytes=1, codec=codec
    )
    assert set(envelope) == {"codec", "external_storage"}
    return envelope


def tamper(store: LocalFilesystemExternalStorage, envelope: Any) -> str:
    """Flip the stored bytes (same length): only the SHA-256 check can notice."""
    uri = str(envelope["external_storage"]["uri"])
    path = store.path_for(uri)
    data = path.read_bytes()
    path.write_bytes(data[:-2] + (b"==" if data[-2:] != b"==" else b"AA"))
    return uri


def stored_files(store: LocalFilesystemExternalStorage) -> list[Path]:
    return [path for path in store.root.rglob("*") if path.is_file()]


# -- command serialization -----------------------------------------------------------


def test_command_payload_is_offloaded_only_when_strictly_above_the_threshold(
    store: CountingStore,
) -> None:
    blob = serializer.encode(BIG)
    size = len(blob.encode("utf-8"))

    (at_threshold,) = commands_to_server_commands(
        [CompleteWorkflow(BIG)], "q", external_storage=store, external_storage_threshold_bytes=size
    )
    assert at_threshold["result"] == {"codec": "avro", "blob": blob}
    assert stored_files(store) == []

    (above,) = commands_to_server_commands(
        [CompleteWorkflow(BIG)],
        "q",
        external_storage=store,
        external_storage_threshold_bytes=size - 1,
    )
    envelope = above["result"]
    assert set(envelope) == {"codec", "external_storage"}
    ref = envelope["external_storage"]
    assert (ref["codec"], ref["size_bytes"]) == ("avro", size)
    assert store.get(ref["uri"]) == blob.encode("utf-8")
    assert serializer.decode_envelope(envelope, external_storage=store) == BIG


def test_every_argument_and_result_payload_of_a_command_can_be_offloaded(
    store: CountingStore,
) -> None:
    commands = [
        ScheduleActivity("act", [BIG]),
        StartChildWorkflow("child", [BIG]),
        CompleteUpdate("upd-1", BIG),
        ContinueAsNew(arguments=[BIG]),
        CompleteWorkflow(BIG),
    ]
    wire = commands_to_server_commands(
        commands,
        "q",
        payload_codec="json",
        external_storage=store,
        external_storage_threshold_bytes=64,
    )
    payloads = [command.get("arguments", command.get("result")) for command in wire]
    for payload in payloads:
        assert set(payload) == {"codec", "external_storage"}
        assert payload["codec"] == payload["external_storage"]["codec"] == "json"
    decoded = [serializer.decode_envelope(p, external_storage=store) for p in payloads]
    assert decoded == [[BIG], [BIG], BIG, [BIG], BIG]


def test_side_effect_values_stay_bare_blobs_even_above_the_threshold(
    store: CountingStore,
) -> None:
    # The server accepts only a bare blob for record_side_effect.result (payloads.md §4.2).
    wire = commands_to_server_commands(
        [RecordSideEffect(BIG), StartTimer(5)],
        "q",
        external_storage=store,
        external_storage_threshold_bytes=1,
    )
    assert wire == [
        {"type": "record_side_effect", "result": serializer.encode(BIG)},
        {"type": "start_timer", "delay_seconds": 5},
    ]
    assert stored_files(store) == []


def test_offloading_needs_both_a_driver_and_a_threshold(store: CountingStore) -> None:
    for options in ({"external_storage": store}, {"external_storage_threshold_bytes": 1}):
        (command,) = commands_to_server_commands([CompleteWorkflow(BIG)], "q", **options)
        assert set(command["result"]) == {"codec", "blob"}
    assert stored_files(store) == []


@pytest.mark.parametrize(
    ("threshold", "error"),
    [(0, ValueError), (-5, ValueError), (True, TypeError), ("64", TypeError)],
)
def test_a_bad_threshold_is_refused_naming_the_option(threshold: Any, error: type) -> None:
    with pytest.raises(error, match="external_storage_threshold_bytes"):
        commands_to_server_commands(
            [StartTimer(1)], "q", external_storage_threshold_bytes=threshold
        )


def test_size_warning_is_logged_for_inline_payloads_only(
    store: CountingStore, caplog: pytest.LogCaptureFixture
) -> None:
    near = serializer.PayloadSizeWarningConfig(limit_bytes=200, threshold_percent=50)
    context = serializer.PayloadSizeWarningContext("workflow_result", workflow_id="wf-1")
    with caplog.at_level("WARNING", logger="durable_workflow.serializer"):
        for threshold in (64, 10_000):  # offloaded, then inline
            commands_to_server_commands(
                [CompleteWorkflow(BIG)],
                "q",
                size_warning=near,
                warning_context=context,
                external_storage=store,
                external_storage_threshold_bytes=threshold,
            )
    (record,) = caplog.records
    details = record.durable_workflow_payload  # type: ignore[attr-defined]
    assert (details["kind"], details["workflow_id"]) == ("workflow_result", "wf-1")
    assert details["payload_size"] == len(serializer.encode(BIG))


# -- Worker options ------------------------------------------------------------------


def test_worker_storage_defaults_to_the_clients_and_can_be_overridden(
    store: CountingStore, tmp_path: Path
) -> None:
    client = make_client(Recorder(), external_storage=store, external_storage_threshold_bytes=10)
    inherited = Worker(client, task_queue="q")
    assert inherited.external_storage is store
    assert inherited.external_storage_threshold_bytes == 10
    assert inherited.external_storage_cache is client.external_storage_cache

    other = LocalFilesystemExternalStorage(tmp_path / "other")
    cache = ExternalPayloadCache(max_entries=4)
    own = Worker(
        client,
        task_queue="q",
        external_storage=other,
        external_storage_threshold_bytes=99,
        external_storage_cache=cache,
    )
    assert (own.external_storage, own.external_storage_threshold_bytes) == (other, 99)
    assert own.external_storage_cache is cache

    plain = Worker(make_client(Recorder()), task_queue="q")
    assert (plain.external_storage, plain.external_storage_threshold_bytes) == (None, None)
    assert isinstance(plain.external_storage_cache, ExternalPayloadCache)


@pytest.mark.parametrize("threshold", [0, -1])
def test_worker_refuses_a_threshold_below_one(threshold: int) -> None:
    with pytest.raises(ValueError, match="external_storage_threshold_bytes must be >= 1"):
        Worker(make_client(Recorder()), task_queue="q", external_storage_threshold_bytes=threshold)


# -- activity tasks --------------------------------------------------------------------


@activity.defn(name="ext-echo")
def echo(value: Any) -> Any:
    return value


@activity.defn(name="ext-length")
def length(value: str) -> int:
    return len(value)


def activity_task(activity_type: str, arguments: Any) -> dict[str, Any]:
    return {
        "task_id": "at-1",
        "activity_attempt_id": "aa-1",
        "lease_owner": "w-1",
        "activity_type": activity_type,
        "payload_codec": "avro",
        "arguments": arguments,
    }


async def run_activity(
    store: CountingStore, task: dict[str, Any], *, threshold: int | None = 64
) -> Recorder:
    server = Recorder()
    storage = DataConverter(
        external_storage=store, threshold_bytes=threshold, storage_cache=ExternalPayloadCache()
    )
    activities = {"ext-echo": echo, "ext-length": length}
    with ThreadPoolExecutor(1) as pool:
        async with make_client(server) as client:
            runner = ActivityTaskRunner(client, "q", "w-1", activities, pool, converter=storage)
            await runner.handle(task)
    return server


async def test_large_activity_result_is_offloaded_and_a_small_one_stays_inline(
    store: CountingStore,
) -> None:
    server = await run_activity(store, activity_task("ext-echo", serializer.envelope([BIG])))
    (body,) = server.calls("/activity-tasks/at-1/complete")
    assert set(body["result"]) == {"codec", "external_storage"}
    assert serializer.decode_envelope(body["result"], external_storage=store) == BIG

    server = await run_activity(store, activity_task("ext-echo", serializer.envelope(["tiny"])))
    (body,) = server.calls("/activity-tasks/at-1/complete")
    assert body["result"] == serializer.envelope("tiny")


async def test_activity_arguments_given_as_a_reference_are_fetched_and_verified(
    store: CountingStore,
) -> None:
    server = await run_activity(store, activity_task("ext-length", reference([BIG], store)))
    (body,) = server.calls("/activity-tasks/at-1/complete")
    assert serializer.decode_envelope(body["result"]) == len(BIG)
    assert store.gets == 1


async def test_tampered_activity_arguments_fail_the_attempt_naming_the_reference(
    store: CountingStore,
) -> None:
    arguments = reference([BIG], store)
    uri = tamper(store, arguments)
    server = await run_activity(store, activity_task("ext-length", arguments))
    assert server.calls("/complete") == []
    (body,) = server.calls("/activity-tasks/at-1/fail")
    assert body["failure"]["type"] == "ExternalPayloadIntegrityError"
    assert uri in body["failure"]["message"] and "sha256" in body["failure"]["message"]
    assert body["failure"]["non_retryable"] is True


class BrokenStore(CountingStore):
    def put(self, data: bytes, *, sha256: str, codec: str) -> str:
        raise OSError(28, "No space left on device")


async def test_a_result_that_cannot_be_stored_fails_the_attempt_as_retryable(
    tmp_path: Path,
) -> None:
    broken = BrokenStore(tmp_path / "full")
    server = await run_activity(broken, activity_task("ext-echo", serializer.envelope([BIG])))
    assert server.calls("/complete") == []
    (body,) = server.calls("/activity-tasks/at-1/fail")
    assert "could not be stored externally" in body["failure"]["message"]
    assert "No space left on device" in body["failure"]["message"]
    assert body["failure"]["non_retryable"] is False


async def test_activity_failure_details_are_offloaded_like_a_result(store: CountingStore) -> None:
    server = Recorder()
    async with make_client(
        server, external_storage=store, external_storage_threshold_bytes=64
    ) as client:
        for details in ({"why": BIG}, {"why": "short"}):
            await client.fail_activity_task(
                task_id="at-1",
                activity_attempt_id="aa-1",
                lease_owner="w-1",
                message="boom",
                details=details,
            )
    large, small = (body["failure"]["details"] for body in server.calls("/fail"))
    assert set(large) == {"codec", "external_storage"}
    assert serializer.decode_envelope(large, external_storage=store) == {"why": BIG}
    assert small == serializer.envelope({"why": "short"})


# -- workflow tasks --------------------------------------------------------------------


@workflow.defn(name="ext-relay")
class Relay:
    """Passes its input to an activity, then that activity's result to a second one."""

    def run(self, ctx: Any, value: str) -> Any:
        first = yield ctx.schedule_activity("ext-echo", [value])
        second = yield ctx.schedule_activity("ext-length", [first])
        return second


def event(number: int, event_type: str, **payload: Any) -> dict[str, Any]:
    return {"sequence": number, "event_type": event_type, "payload": payload}


def history_with_result(result: Any) -> list[dict[str, Any]]:
    ids = {"activity_type": "ext-echo", "sequence": 2, "activity_execution_id": "ae-1"}
    return [
        event(1, "WorkflowStarted", workflow_type="ext-relay"),
        event(2, "ActivityScheduled", **ids),
        event(3, "ActivityCompleted", **ids, result=result, payload_codec="avro"),
    ]


def workflow_task(events: list[dict[str, Any]], arguments: Any) -> dict[str, Any]:
    return {
        "task_id": "wt-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_task_attempt": 1,
        "workflow_type": "ext-relay",
        "payload_codec": "avro",
        "arguments": arguments,
        "history_events": events,
        "next_history_page_token": None,
        "lease_owner": "w-1",
        "workflow_update_id": None,
    }


async def run_workflow_task(
    task: dict[str, Any], storage: DataConverter | None, cache: WorkflowCache | None = None
) -> Recorder:
    server = Recorder()
    async with make_client(server) as client:
        runner = WorkflowTaskRunner(
            client, "q", {"ext-relay": Relay}, worker_id="w-1", cache=cache, converter=storage
        )
        await runner.handle(task)
    return server


@pytest.mark.parametrize("sticky", [False, True])
async def test_references_in_start_arguments_and_history_are_resolved(
    store: CountingStore, sticky: bool
) -> None:
    task = workflow_task(history_with_result(reference(BIG, store)), reference([BIG], store))
    storage = DataConverter(
        external_storage=store, threshold_bytes=None, storage_cache=ExternalPayloadCache()
    )
    server = await run_workflow_task(task, storage, WorkflowCache() if sticky else None)
    assert server.calls("/fail") == []
    (body,) = server.calls("/workflow-tasks/wt-1/complete")
    (command,) = body["commands"]
    assert command["type"] == "schedule_activity"
    assert command["activity_type"] == "ext-length"
    assert serializer.decode_envelope(command["arguments"]) == [BIG]


async def test_tampered_history_reference_fails_the_workflow_task_naming_it(
    store: CountingStore,
) -> None:
    result = reference(BIG, store)
    uri = tamper(store, result)
    task = workflow_task(history_with_result(result), serializer.envelope([BIG]))
    server = await run_workflow_task(
        task,
        DataConverter(
            external_storage=store, threshold_bytes=64, storage_cache=ExternalPayloadCache()
        ),
    )
    assert server.calls("/complete") == []
    (body,) = server.calls("/workflow-tasks/wt-1/fail")
    message = json.dumps(body)
    assert uri in message and "sha256" in message and "ActivityCompleted" in message


async def test_a_reference_without_a_driver_fails_the_task_with_a_clear_message(
    store: CountingStore,
) -> None:
    result = reference(BIG, store)
    task = workflow_task(history_with_result(result), serializer.envelope([BIG]))
    server = await run_workflow_task(task, None)
    (body,) = server.calls("/workflow-tasks/wt-1/fail")
    message = json.dumps(body)
    assert result["external_storage"]["uri"] in message
    assert "configure an external storage driver" in message


@workflow.defn(name="ext-big-result")
class BigResult:
    def run(self, ctx: Any) -> Any:
        return BIG
        yield  # a generator workflow with no steps


async def test_a_large_workflow_result_is_offloaded_in_the_completion(
    store: CountingStore,
) -> None:
    task = workflow_task([event(1, "WorkflowStarted")], serializer.envelope([]))
    task["workflow_type"] = "ext-big-result"
    server = Recorder()
    async with make_client(server) as client:
        runner = WorkflowTaskRunner(
            client,
            "q",
            {"ext-big-result": BigResult},
            converter=DataConverter(
                external_storage=store, threshold_bytes=64, storage_cache=ExternalPayloadCache()
            ),
        )
        await runner.handle(task)
    (body,) = server.calls("/workflow-tasks/wt-1/complete")
    (command,) = body["commands"]
    assert command["type"] == "complete_workflow"
    assert set(command["result"]) == {"codec", "external_storage"}
    assert serializer.decode_envelope(command["result"], external_storage=store) == BIG


# -- query tasks -----------------------------------------------------------------------


@workflow.defn(name="ext-keeper")
class Keeper:
    def __init__(self) -> None:
        self.value: Any = None

    def run(self, ctx: Any) -> Any:
        self.value = yield ctx.schedule_activity("ext-echo", [])
        yield ctx.start_timer(60)
        return None

    @workflow.query("value-length")
    def value_length(self, suffix: str) -> int:
        return len(self.value + suffix)

    @workflow.query("value")
    def current_value(self) -> Any:
        return self.value


async def test_query_over_a_history_reference_with_referenced_arguments(
    store: CountingStore,
) -> None:
    ids = {"activity_type": "ext-echo", "sequence": 2, "activity_execution_id": "ae-1"}
    task = {
        "query_task_id": "qt-1",
        "query_task_attempt": 1,
        "lease_owner": "w-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_type": "ext-keeper",
        "payload_codec": "avro",
        "workflow_arguments": serializer.envelope([]),
        "query_name": "value-length",
        "query_arguments": reference(["!" * 200], store),
        "history_events": [
            event(1, "WorkflowStarted", workflow_type="ext-keeper"),
            event(2, "ActivityScheduled", **ids),
            event(3, "ActivityCompleted", **ids, result=reference(BIG, store)),
        ],
    }
    server = Recorder()
    storage = DataConverter(
        external_storage=store, threshold_bytes=None, storage_cache=ExternalPayloadCache()
    )
    async with make_client(server) as client:
        await QueryTaskRunner(client, {"ext-keeper": Keeper}, converter=storage).handle(task)
    (body,) = server.calls("/query-tasks/qt-1/complete")
    assert body["result"] == len(BIG) + 200


async def test_a_large_query_result_is_offloaded(store: CountingStore) -> None:
    ids = {"activity_type": "ext-echo", "sequence": 2, "activity_execution_id": "ae-1"}
    task = {
        "query_task_id": "qt-1",
        "query_task_attempt": 1,
        "lease_owner": "w-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_type": "ext-keeper",
        "payload_codec": "avro",
        "workflow_arguments": None,
        "query_name": "value",
        "query_arguments": None,
        "history_events": [
            event(1, "WorkflowStarted", workflow_type="ext-keeper"),
            event(2, "ActivityScheduled", **ids),
            event(3, "ActivityCompleted", **ids, result=serializer.encode(BIG)),
        ],
    }
    server = Recorder()
    storage = DataConverter(
        external_storage=store, threshold_bytes=64, storage_cache=ExternalPayloadCache()
    )
    async with make_client(server) as client:
        await QueryTaskRunner(client, {"ext-keeper": Keeper}, converter=storage).handle(task)
    (body,) = server.calls("/query-tasks/qt-1/complete")
    assert body["result"] == BIG
    assert set(body["result_envelope"]) == {"codec", "external_storage"}
    assert serializer.decode_envelope(body["result_envelope"], external_storage=store) == BIG


@pytest.mark.parametrize("where", ["query_arguments", "history"])
async def test_tampered_query_input_or_history_fails_the_query_naming_the_reference(
    store: CountingStore, where: str
) -> None:
    ids = {"activity_type": "ext-echo", "sequence": 2, "activity_execution_id": "ae-1"}
    arguments = reference(["!"], store)
    result = reference(BIG, store)
    uri = tamper(store, arguments if where == "query_arguments" else result)
    task = {
        "query_task_id": "qt-1",
        "query_task_attempt": 1,
        "lease_owner": "w-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_type": "ext-keeper",
        "payload_codec": "avro",
        "workflow_arguments": None,
        "query_name": "value-length",
        "query_arguments": arguments,
        "history_events": [
            event(1, "WorkflowStarted", workflow_type="ext-keeper"),
            event(2, "ActivityScheduled", **ids),
            event(3, "ActivityCompleted", **ids, result=result),
        ],
    }
    server = Recorder()
    storage = DataConverter(
        external_storage=store, threshold_bytes=None, storage_cache=ExternalPayloadCache()
    )
    async with make_client(server) as client:
        await QueryTaskRunner(client, {"ext-keeper": Keeper}, converter=storage).handle(task)
    assert server.calls("/complete") == []
    (body,) = server.calls("/query-tasks/qt-1/fail")
    assert body["failure"]["reason"] == "query_payload_decode_failed"
    assert uri in body["failure"]["message"] and "sha256" in body["failure"]["message"]


# -- Replayer and replay() -------------------------------------------------------------


def test_replayer_reads_references_and_reuses_verified_bytes(store: CountingStore) -> None:
    history = history_with_result(reference(BIG, store))
    cache = ExternalPayloadCache()
    replayer = Replayer(workflows=[Relay])
    for _ in range(2):
        outcome = replayer.replay(
            {"events": history}, [BIG], external_storage=store, external_storage_cache=cache
        )
        assert outcome.commands == [ScheduleActivity("ext-length", [BIG])]
    assert store.gets == 1  # the second replay was served by the verified-bytes cache

    outcome = workflow.replay(
        Relay, history, [BIG], external_storage=store, external_storage_cache=cache
    )
    assert outcome.commands == [ScheduleActivity("ext-length", [BIG])]


def test_replay_of_a_reference_without_a_driver_or_with_bad_bytes_names_it(
    store: CountingStore,
) -> None:
    result = reference(BIG, store)
    history = history_with_result(result)
    uri = result["external_storage"]["uri"]
    with pytest.raises(
        errors.WorkflowPayloadDecodeError, match="configure an external"
    ) as no_driver:
        Replayer(workflows=[Relay]).replay(history, [BIG])
    assert uri in str(no_driver.value)

    tamper(store, result)
    with pytest.raises(errors.WorkflowPayloadDecodeError, match="sha256") as bad:
        workflow.replay(Relay, history, [BIG], external_storage=store)
    assert uri in str(bad.value)
    assert bad.value.event_id is not None and bad.value.receiver_kind == "activity_result"
