"""The payload codec chain wired into Client, Worker runners, commands and the Replayer.

Every outgoing payload is transformed before inline/offload, every decode path
undoes it, a blob framed by a codec the reader lacks fails naming that codec,
and without a chain the wire is unchanged. HTTP on MockTransport; the local
storage driver on ``tmp_path``.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import activity, errors, serializer, sync, workflow
from durable_workflow.client import Client, ScheduleAction, ScheduleSpec
from durable_workflow.codecs import (
    AesGcmCodec,
    CodecChain,
    GzipCodec,
    PayloadCodecError,
    framed_codec_name,
)
from durable_workflow.converter import DataConverter
from durable_workflow.external_storage import (
    ExternalPayloadCache,
    LocalFilesystemExternalStorage,
    decode_payload,
)
from durable_workflow.retry_policy import TransportRetryPolicy
from durable_workflow.worker import Worker
from durable_workflow.worker._activities import ActivityTaskRunner
from durable_workflow.worker._queries import QueryTaskRunner
from durable_workflow.worker._workflow_tasks import WorkflowTaskRunner
from durable_workflow.workflow._replay.sticky import WorkflowCache

KEY = bytes(range(32))
MARKER = "codec-wiring-marker"


def chain() -> CodecChain:
    return CodecChain([GzipCodec(), AesGcmCodec({"k1": KEY}, key_id="k1")])


CHAIN = chain()


def framed(envelope: Any) -> bool:
    """An inline envelope whose blob the chain transformed (outermost codec: AES-GCM)."""
    return isinstance(envelope, dict) and framed_codec_name(envelope.get("blob")) == "aes-gcm"


class Recorder:
    """Fake server: records each request body by path; answers with ``answers[suffix]``."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.requests: list[tuple[str, Any]] = []
        self.answers = answers or {}

    def calls(self, suffix: str) -> list[Any]:
        return [body for path, body in self.requests if path.endswith(suffix)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.path) == ("GET", "/api/workers"):
            # The client's read of the queue's workers after a start: no payloads in it.
            return httpx.Response(200, json={"workers": []})
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.url.path, body))
        for suffix, answer in self.answers.items():
            if request.url.path.endswith(suffix):
                return httpx.Response(200, json=answer)
        return httpx.Response(
            200, json={"workflow_id": "wf-1", "run_id": "r1", "outcome": "ok", "recorded": True}
        )


def make_client(server: Recorder, **kwargs: Any) -> Client:
    return Client(
        "http://dw.test",
        retry_policy=TransportRetryPolicy(max_attempts=1),
        transport=httpx.MockTransport(server),
        **kwargs,
    )


# -- client: outgoing -----------------------------------------------------------------


async def test_client_inputs_go_through_the_chain() -> None:
    server = Recorder()
    async with make_client(server, payload_codec=CHAIN) as client:
        await client.start_workflow(
            workflow_type="t", task_queue="q", workflow_id="wf-1", input=[MARKER]
        )
        await client.signal_workflow("wf-1", "sig", args=[MARKER])
        await client.query_workflow("wf-1", "q", args=[MARKER])
        await client.update_workflow("wf-1", "u", args=[MARKER])
    sent = [body["input"] for _, body in server.requests]
    assert len(sent) == 4
    for envelope in sent:
        assert framed(envelope), envelope
        assert envelope["codec"] == "avro"
        assert decode_payload(envelope, payload_codec=CHAIN) == [MARKER]
    assert MARKER not in json.dumps(server.requests)


async def test_schedule_and_standalone_activity_inputs_go_through_the_chain() -> None:
    server = Recorder({"/api/schedules": {"schedule_id": "s-1"}})
    async with make_client(server, payload_codec=CHAIN) as client:
        await client.create_schedule(
            schedule_id="s-1",
            spec=ScheduleSpec(cron_expressions=["* * * * *"]),
            action=ScheduleAction(workflow_type="t", task_queue="q", input=[MARKER]),
        )
        await client.start_activity(activity_type="a", task_queue="q", input=[MARKER])
    (_, schedule), (_, started) = server.requests
    for envelope in (schedule["action"]["input"], started["input"]):
        assert framed(envelope), envelope
        assert decode_payload(envelope, payload_codec=CHAIN) == [MARKER]


async def test_without_a_chain_the_wire_is_unchanged() -> None:
    server = Recorder()
    async with make_client(server) as client:
        await client.start_workflow(
            workflow_type="t", task_queue="q", workflow_id="wf-1", input=[MARKER]
        )
    ((_, body),) = server.requests
    assert body["input"] == serializer.envelope([MARKER])


async def test_activity_result_and_failure_details_go_through_the_chain() -> None:
    server = Recorder()
    async with make_client(server, payload_codec=CHAIN) as client:
        await client.complete_activity_task(
            task_id="at-1", activity_attempt_id="aa-1", lease_owner="w", result=MARKER
        )
        await client.fail_activity_task(
            task_id="at-1",
            activity_attempt_id="aa-1",
            lease_owner="w",
            message="boom",
            details={"why": MARKER},
        )
    (done,) = server.calls("/complete")
    (failed,) = server.calls("/fail")
    assert framed(done["result"])
    assert framed(failed["failure"]["details"])
    assert decode_payload(failed["failure"]["details"], payload_codec=CHAIN) == {"why": MARKER}


async def test_query_result_with_a_chain_sends_no_plaintext_result() -> None:
    server = Recorder()
    async with make_client(server, payload_codec=CHAIN) as client:
        await client.complete_query_task(
            query_task_id="qt-1", lease_owner="w", query_task_attempt=1, result={"m": MARKER}
        )
    (body,) = server.calls("/complete")
    assert body["result"] is None
    assert framed(body["result_envelope"])
    assert decode_payload(body["result_envelope"], payload_codec=CHAIN) == {"m": MARKER}


# -- client: incoming -----------------------------------------------------------------


async def test_query_and_update_answers_are_decoded_from_the_envelope() -> None:
    envelope = {"codec": "avro", "blob": CHAIN.encode(serializer.encode({"m": MARKER}))}
    answer = {"workflow_id": "wf-1", "result": None, "result_envelope": envelope}
    server = Recorder({"/query/q": answer, "/update/u": answer})
    async with make_client(server, payload_codec=chain()) as client:
        assert (await client.query_workflow("wf-1", "q"))["result"] == {"m": MARKER}
        assert (await client.update_workflow("wf-1", "u"))["result"] == {"m": MARKER}
    async with make_client(server) as plain:  # no chain: the answer as the server sent it
        assert (await plain.query_workflow("wf-1", "q"))["result"] is None


async def test_results_and_descriptions_undo_the_chain() -> None:
    blob = CHAIN.encode(serializer.encode([MARKER]))
    out = CHAIN.encode(serializer.encode({"done": MARKER}))
    described = {
        "workflow_id": "wf-1",
        "run_id": "r1",
        "status": "completed",
        "payload_codec": "avro",
        "input_envelope": {"codec": "avro", "blob": blob},
        "output_envelope": {"codec": "avro", "blob": out},
    }
    history = {
        "events": [
            {"sequence": 1, "event_type": "WorkflowStarted", "payload": {}},
            {
                "sequence": 2,
                "event_type": "WorkflowCompleted",
                "payload": {"output": out, "payload_codec": "avro"},
            },
        ]
    }
    server = Recorder(
        {"/api/workflows/wf-1": described, "/runs/r1": described, "/history": history}
    )
    async with make_client(server, payload_codec=CHAIN) as client:
        execution = await client.describe_workflow("wf-1")
        assert execution.input == [MARKER]
        assert execution.output == {"done": MARKER}
        handle = client.get_workflow_handle("wf-1", run_id="r1")
        assert await client.get_result(handle, timeout=5) == {"done": MARKER}
    async with make_client(server) as plain:
        with pytest.raises(PayloadCodecError, match="aes-gcm"):
            await plain.get_result(plain.get_workflow_handle("wf-1", run_id="r1"), timeout=5)


def test_sync_client_and_worker_take_the_option() -> None:
    with sync.Client("http://dw.test", payload_codec=CHAIN) as client:
        assert client.async_client.payload_codec is CHAIN
    server = Recorder()
    async_client = make_client(server, payload_codec=CHAIN)
    assert Worker(async_client, task_queue="q").payload_codec is CHAIN
    other = chain()
    assert Worker(async_client, task_queue="q", payload_codec=other).payload_codec is other
    assert Worker(make_client(server), task_queue="q").payload_codec is None


def test_from_env_passes_the_chain_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DURABLE_WORKFLOW_SERVER_URL", "http://dw.test")
    assert Client.from_env(payload_codec=CHAIN).payload_codec is CHAIN


# -- commands and storage ---------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> LocalFilesystemExternalStorage:
    return LocalFilesystemExternalStorage(tmp_path / "payloads")


def test_commands_apply_the_chain_before_offloading(
    store: LocalFilesystemExternalStorage,
) -> None:
    big = MARKER * 400
    small, side_effect, large = workflow.commands_to_server_commands(
        [
            workflow.ScheduleActivity("a", [MARKER]),
            workflow.RecordSideEffect(MARKER),
            workflow.CompleteWorkflow(big),
        ],
        "q",
        payload_codec="avro",
        size_warning=None,
        external_storage=store,
        external_storage_threshold_bytes=200,
        payload_codec_chain=CHAIN,
    )
    assert framed(small["arguments"])
    assert framed_codec_name(side_effect["result"]) == "aes-gcm"
    reference = large["result"]
    assert set(reference) == {"codec", "external_storage"}
    stored = store.get(reference["external_storage"]["uri"]).decode()
    assert framed_codec_name(stored) == "aes-gcm"  # the object is the transformed blob
    assert MARKER not in stored
    assert decode_payload(reference, external_storage=store, payload_codec=CHAIN) == big
    # Without a chain the same commands carry plain blobs.
    (plain,) = workflow.commands_to_server_commands(
        [workflow.ScheduleActivity("a", [MARKER])], "q", size_warning=None
    )
    assert plain["arguments"] == serializer.envelope([MARKER])


def test_decode_arguments_refuses_a_frame_it_cannot_undo() -> None:
    envelope = {"codec": "avro", "blob": CHAIN.encode(serializer.encode([MARKER]))}
    assert DataConverter(codec_chain=CHAIN).decode_arguments(envelope, "avro") == [MARKER]
    with pytest.raises(PayloadCodecError, match="'aes-gcm'"):
        DataConverter().decode_arguments(envelope, "avro")


# -- worker runners ---------------------------------------------------------------------


@activity.defn(name="cw-echo")
def echo(value: Any) -> Any:
    return {"echo": value}


@workflow.defn(name="cw-relay")
class Relay:
    def __init__(self) -> None:
        self.seen: Any = None

    def run(self, ctx: Any, value: str) -> Any:
        self.seen = yield ctx.schedule_activity("cw-echo", [value])
        return self.seen

    @workflow.query("seen")
    def query_seen(self) -> Any:
        return self.seen


def sealed(value: Any) -> str:
    return CHAIN.encode(serializer.encode(value))


def relay_history() -> list[dict[str, Any]]:
    ids = {"activity_type": "cw-echo", "sequence": 2, "activity_execution_id": "ae-1"}
    return [
        {"sequence": 1, "event_type": "WorkflowStarted", "payload": {"workflow_type": "cw-relay"}},
        {"sequence": 2, "event_type": "ActivityScheduled", "payload": ids},
        {
            "sequence": 3,
            "event_type": "ActivityCompleted",
            "payload": {**ids, "result": sealed({"echo": MARKER}), "payload_codec": "avro"},
        },
    ]


def workflow_task() -> dict[str, Any]:
    return {
        "task_id": "wt-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_task_attempt": 1,
        "workflow_type": "cw-relay",
        "payload_codec": "avro",
        "arguments": {"codec": "avro", "blob": sealed([MARKER])},
        "history_events": relay_history(),
        "next_history_page_token": None,
        "lease_owner": "w-1",
        "workflow_update_id": None,
    }


@pytest.mark.parametrize("sticky", [False, True])
async def test_workflow_task_decodes_and_encodes_through_the_chain(sticky: bool) -> None:
    server = Recorder()
    async with make_client(server) as client:
        runner = WorkflowTaskRunner(
            client,
            "q",
            {"cw-relay": Relay},
            worker_id="w-1",
            cache=WorkflowCache() if sticky else None,
            converter=DataConverter(codec_chain=CHAIN),
        )
        await runner.handle(workflow_task())
    assert server.calls("/fail") == []
    (body,) = server.calls("/workflow-tasks/wt-1/complete")
    (command,) = body["commands"]
    assert command["type"] == "complete_workflow"
    assert framed(command["result"])
    assert decode_payload(command["result"], payload_codec=CHAIN) == {"echo": MARKER}


async def test_workflow_task_without_the_chain_fails_naming_the_codec() -> None:
    server = Recorder()
    async with make_client(server) as client:
        runner = WorkflowTaskRunner(
            client, "q", {"cw-relay": Relay}, worker_id="w-1", converter=DataConverter()
        )
        await runner.handle(workflow_task())
    assert server.calls("/complete") == []
    (body,) = server.calls("/workflow-tasks/wt-1/fail")
    assert "PayloadCodecError" in json.dumps(body)
    assert "'aes-gcm'" in body["failure"]["message"]


async def test_a_sealed_history_value_fails_the_task_naming_the_codec_error() -> None:
    task = workflow_task()
    task["arguments"] = serializer.envelope([MARKER])  # plain start input, sealed history
    server = Recorder()
    async with make_client(server) as client:
        runner = WorkflowTaskRunner(
            client, "q", {"cw-relay": Relay}, worker_id="w-1", converter=DataConverter()
        )
        await runner.handle(task)
    (body,) = server.calls("/workflow-tasks/wt-1/fail")
    assert "PayloadCodecError" in body["failure"]["message"]
    assert "'aes-gcm'" in body["failure"]["message"]


async def test_activity_task_round_trips_through_the_chain() -> None:
    server = Recorder()
    task = {
        "task_id": "at-1",
        "activity_attempt_id": "aa-1",
        "lease_owner": "w-1",
        "activity_type": "cw-echo",
        "payload_codec": "avro",
        "arguments": {"codec": "avro", "blob": sealed([MARKER])},
    }
    with ThreadPoolExecutor(1) as pool:
        async with make_client(server) as client:
            storage = DataConverter(codec_chain=CHAIN)
            runner = ActivityTaskRunner(
                client, "q", "w-1", {"cw-echo": echo}, pool, converter=storage
            )
            await runner.handle(task)
            await ActivityTaskRunner(
                client, "q", "w-1", {"cw-echo": echo}, pool, converter=DataConverter()
            ).handle(task)
    (done,) = server.calls("/activity-tasks/at-1/complete")
    assert decode_payload(done["result"], payload_codec=CHAIN) == {"echo": MARKER}
    assert framed(done["result"])
    (failed,) = server.calls("/activity-tasks/at-1/fail")  # the worker without the chain
    assert failed["failure"]["type"] == "PayloadCodecError"
    assert "'aes-gcm'" in failed["failure"]["message"]


async def test_query_task_decodes_history_and_seals_the_answer() -> None:
    server = Recorder()
    task = {
        "query_task_id": "qt-1",
        "query_task_attempt": 1,
        "lease_owner": "w-1",
        "workflow_id": "wf-1",
        "run_id": "run-1",
        "workflow_type": "cw-relay",
        "query_name": "seen",
        "payload_codec": "avro",
        "workflow_arguments": {"codec": "avro", "blob": sealed([MARKER])},
        "query_arguments": None,
        "history_events": relay_history(),
    }
    async with make_client(server) as client:
        runner = QueryTaskRunner(
            client, {"cw-relay": Relay}, converter=DataConverter(codec_chain=CHAIN)
        )
        await runner.handle(task)
    (body,) = server.calls("/query-tasks/qt-1/complete")
    assert body["result"] is None
    assert decode_payload(body["result_envelope"], payload_codec=CHAIN) == {"echo": MARKER}
    assert MARKER not in json.dumps(server.requests)


# -- replay -----------------------------------------------------------------------------


def test_replayer_and_replay_take_the_chain_under_their_own_name() -> None:
    history = relay_history()
    start = {"codec": "avro", "blob": sealed([MARKER])}
    outcome = workflow.Replayer(workflows=[Relay]).replay(
        history, start, payload_codec="avro", payload_codec_chain=CHAIN
    )
    (completion,) = outcome.commands
    assert isinstance(completion, workflow.CompleteWorkflow)
    assert completion.result == {"echo": MARKER}
    outcome = workflow.replay(Relay, history, [MARKER], payload_codec_chain=CHAIN)
    assert outcome.commands[0].result == {"echo": MARKER}  # type: ignore[attr-defined]
    assert workflow.query_state(Relay, history, [MARKER], "seen", payload_codec_chain=CHAIN) == {
        "echo": MARKER
    }
    with pytest.raises(errors.WorkflowPayloadDecodeError, match="'aes-gcm'"):
        workflow.replay(Relay, history, [MARKER])


def test_the_sticky_cache_does_not_reuse_an_instance_across_chains() -> None:
    cache = WorkflowCache()
    history = relay_history()
    first = cache.get_or_replay("run-1", Relay, history, [MARKER], payload_codec_chain=CHAIN)
    assert first.commands[0].result == {"echo": MARKER}  # type: ignore[attr-defined]
    with pytest.raises(errors.WorkflowPayloadDecodeError):
        cache.get_or_replay("run-1", Relay, history, [MARKER])


def test_replay_with_a_chain_still_reads_storage_references(
    store: LocalFilesystemExternalStorage,
) -> None:
    (command,) = workflow.commands_to_server_commands(
        [workflow.CompleteWorkflow({"echo": MARKER * 50})],
        "q",
        size_warning=None,
        external_storage=store,
        external_storage_threshold_bytes=32,
        payload_codec_chain=CHAIN,
    )
    history = relay_history()
    history[2]["payload"]["result"] = command["result"]
    outcome = workflow.replay(
        Relay,
        history,
        [MARKER],
        external_storage=store,
        external_storage_cache=ExternalPayloadCache(),
        payload_codec_chain=CHAIN,
    )
    assert outcome.commands[0].result == {"echo": MARKER * 50}  # type: ignore[attr-defined]
