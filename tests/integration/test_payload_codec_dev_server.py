"""The payload codec chain (gzip, then AES-GCM) end to end through the dev server.

Client and Worker share the chain: start input, activity argument and result,
side effect, signal, query, update and the workflow result all round-trip,
while the history the server keeps holds only ciphertext. A worker without
the chain fails the workflow task with ``PayloadCodecError`` and keeps
running; the Replayer replays the sealed history given the chain; with
external storage the stored object is ciphertext too.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from durable_workflow import activity, errors, workflow
from durable_workflow.client import Client
from durable_workflow.codecs import AesGcmCodec, CodecChain, GzipCodec, framed_codec_name
from durable_workflow.external_storage import LocalFilesystemExternalStorage
from durable_workflow.testing import DevServerHandle, async_dev_server
from durable_workflow.worker import Worker

QUEUE = "it-payload-codec"
KEY = bytes(range(32))


def chain() -> CodecChain:
    return CodecChain([GzipCodec(min_bytes=16), AesGcmCodec({"k1": KEY}, key_id="k1")])


@activity.defn(name="cw-it-echo")
def echo(text: str) -> dict[str, Any]:
    return {"echo": text}


@workflow.defn(name="cw-it-sealed")
class Sealed:
    def __init__(self) -> None:
        self.echoed: Any = None
        self.notes: list[str] = []
        self.done = False

    def run(self, ctx: Any, secret: str) -> Any:
        self.echoed = yield ctx.schedule_activity("cw-it-echo", [secret])
        stamp = yield ctx.side_effect(lambda: secret + "-side")
        yield ctx.wait_condition(lambda: self.done)
        return {"echoed": self.echoed, "stamp": stamp, "notes": self.notes}

    @workflow.signal("note")
    def note(self, text: str) -> None:
        self.notes.append(text)

    @workflow.signal("finish")
    def finish(self) -> None:
        self.done = True

    @workflow.query("state")
    def state(self) -> dict[str, Any]:
        return {"echoed": self.echoed, "notes": self.notes}

    @workflow.update("add")
    def add(self, text: str) -> int:
        self.notes.append(text)
        return len(self.notes)


class FailureRecorder(httpx.AsyncBaseTransport):
    """Real HTTP, plus a copy of every workflow-task failure the worker sends."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.failures: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/api/worker/workflow-tasks/") and path.endswith("/fail"):
            self.failures.append(json.loads(request.content))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
async def server() -> AsyncIterator[DevServerHandle]:
    async with async_dev_server(poll_timeout=2.0) as handle:
        yield handle


@pytest.fixture
async def client(server: DevServerHandle) -> AsyncIterator[Client]:
    async with Client(server.url, token=server.token, payload_codec=chain()) as c:
        yield c


def make_worker(client: Client, **options: Any) -> Worker:
    return Worker(
        client,
        task_queue=QUEUE,
        workflows=[Sealed],
        activities=[echo],
        poll_timeout=5.0,
        shutdown_timeout=5.0,
        **options,
    )


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def event_types(client: Client, workflow_id: str, run_id: str | None) -> list[Any]:
    history = await client.get_history(workflow_id, run_id or "")
    return [e.get("event_type") for e in history.get("events", [])]


def blobs(node: Any) -> list[str]:
    """Every ``blob`` string and bare payload string under a history's event payloads."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("blob", "output", "result", "input", "arguments") and isinstance(value, str):
                found.append(value)
            found.extend(blobs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(blobs(item))
    return found


async def test_every_payload_round_trips_and_the_history_holds_only_ciphertext(
    client: Client,
) -> None:
    marker = f"codec-marker-{uuid.uuid4().hex}"
    handle = await client.start_workflow(
        workflow_type="cw-it-sealed",
        task_queue=QUEUE,
        workflow_id=f"sealed-{marker[-10:]}",
        input=[marker],
    )
    worker = make_worker(client)
    assert worker.payload_codec is client.payload_codec
    task = asyncio.create_task(worker.run())
    try:

        async def waiting() -> bool:
            types = await event_types(client, handle.workflow_id, handle.run_id)
            return "SideEffectRecorded" in types and types[-1] != "SideEffectRecorded"

        await wait_for(waiting, "the run to wait for its signals")
        answer = await client.query_workflow(handle.workflow_id, "state")
        assert answer["result"] == {"echoed": {"echo": marker}, "notes": []}
        await client.signal_workflow(handle.workflow_id, "note", args=[marker + "-signal"])
        update = await client.update_workflow(
            handle.workflow_id,
            "add",
            args=[marker + "-update"],
            wait_for="completed",
            wait_timeout_seconds=30,
        )
        assert (update["update_status"], update["result"]) == ("completed", 2)
        await client.signal_workflow(handle.workflow_id, "finish")
        result = await client.get_result(handle, timeout=60)
    finally:
        await worker.stop()
        await task
    assert result == {
        "echoed": {"echo": marker},
        "stamp": marker + "-side",
        "notes": [marker + "-signal", marker + "-update"],
    }
    execution = await client.describe_workflow(handle.workflow_id)
    assert execution.input == [marker]
    assert execution.output == result

    history = await client.get_history(handle.workflow_id, execution.run_id or "")
    text = json.dumps(history)
    assert marker not in text
    sealed = [b for b in blobs(history.get("events")) if framed_codec_name(b) == "aes-gcm"]
    assert len(sealed) >= 6  # input, activity args + result, side effect, signal, update, output

    # The Replayer replays the sealed history given the chain (its own keyword;
    # payload_codec stays the run's codec name).
    outcome = workflow.Replayer(workflows=[Sealed]).replay(
        history, payload_codec="avro", payload_codec_chain=chain()
    )
    assert [type(c).__name__ for c in outcome.commands] == ["CompleteWorkflow"]
    assert outcome.commands[0].result == result  # type: ignore[attr-defined]
    with pytest.raises(errors.WorkflowPayloadDecodeError, match="'aes-gcm'"):
        workflow.Replayer(workflows=[Sealed]).replay(history, payload_codec="avro")


async def test_a_worker_without_the_chain_fails_the_task_and_keeps_running(
    client: Client, server: DevServerHandle
) -> None:
    marker = f"codec-marker-{uuid.uuid4().hex}"
    handle = await client.start_workflow(
        workflow_type="cw-it-sealed",
        task_queue=QUEUE,
        workflow_id=f"blind-{marker[-10:]}",
        input=[marker],
    )
    recorder = FailureRecorder()
    async with Client(server.url, token=server.token, transport=recorder) as plain:
        worker = make_worker(plain)
        assert worker.payload_codec is None
        task = asyncio.create_task(worker.run())
        try:

            async def failed() -> bool:
                return bool(recorder.failures)

            await wait_for(failed, "the blind worker to fail the workflow task")
            assert not task.done()  # the worker loop survived the failure
        finally:
            await worker.stop()
            await task
    failure = recorder.failures[0]["failure"]
    assert "PayloadCodecError" in json.dumps(failure)
    assert "'aes-gcm'" in failure["message"]
    assert "ActivityScheduled" not in await event_types(client, handle.workflow_id, handle.run_id)


async def test_offloaded_payloads_are_stored_as_ciphertext(client: Client, tmp_path: Path) -> None:
    root = tmp_path / "payloads"
    await client.set_namespace_external_storage(
        "default", driver="local", config={"uri": root.as_uri()}
    )
    store = LocalFilesystemExternalStorage(root)
    client.external_storage = store
    client.external_storage_threshold_bytes = 64
    marker = f"codec-marker-{uuid.uuid4().hex}"
    secret = marker * 20  # far above the threshold even after gzip and AES-GCM
    handle = await client.start_workflow(
        workflow_type="cw-it-sealed",
        task_queue=QUEUE,
        workflow_id=f"stored-{marker[-10:]}",
        input=[secret],
    )
    worker = make_worker(client)
    task = asyncio.create_task(worker.run())
    try:

        async def waiting() -> bool:
            types = await event_types(client, handle.workflow_id, handle.run_id)
            return "SideEffectRecorded" in types and types[-1] != "SideEffectRecorded"

        await wait_for(waiting, "the run to wait for its signals")
        await client.signal_workflow(handle.workflow_id, "finish")
        result = await client.get_result(handle, timeout=60)
    finally:
        await worker.stop()
        await task
    assert result == {"echoed": {"echo": secret}, "stamp": secret + "-side", "notes": []}
    objects = [path for path in root.rglob("*") if path.is_file()]
    assert objects, "nothing was offloaded"
    for path in objects:
        data = path.read_bytes().decode("utf-8")
        assert framed_codec_name(data) == "aes-gcm"
        assert marker not in data
    history = await client.get_history(handle.workflow_id, handle.run_id or "")
    assert marker not in json.dumps(history)
    assert "external_storage" in json.dumps(history)


def test_the_wiring_example_in_the_docs_runs(tmp_path: Path) -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "payload-codecs.md"
    wiring = doc.read_text(encoding="utf-8").split("## Wiring", 1)[1]
    code = wiring.split("```python\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "wiring_example.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "DW_PAYLOAD_KEY_2026_01": KEY.hex()}
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "{'receipt': 'charged 1111'}"
