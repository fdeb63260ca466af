"""A 5 MiB activity result end to end through the dev server, offloaded to external storage.

The namespace's storage policy and the worker share one local directory; the
worker offloads every payload above 64 KiB and the server verifies each
reference before use. The run completes, the client reads the result through
its own driver, and the history holds ``{codec, external_storage}`` references,
never the bytes (payloads.md §4-5).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import activity, workflow
from durable_workflow.client import Client
from durable_workflow.external_storage import LocalFilesystemExternalStorage
from durable_workflow.testing import DevServerHandle, async_dev_server
from durable_workflow.worker import Worker

QUEUE = "it-external-storage"
THRESHOLD = 64 * 1024
FIVE_MIB = 5 * 1024 * 1024


def big_text(seed: str) -> str:
    """Exactly 5 MiB of text that differs per seed (so two runs never share an object)."""
    unit = hashlib.sha256(seed.encode()).hexdigest()
    return (unit * (FIVE_MIB // len(unit) + 1))[:FIVE_MIB]


def digest(text: str) -> dict[str, Any]:
    return {"length": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}


@activity.defn(name="it-big-text")
def make_big_text(seed: str) -> str:
    return big_text(seed)


@workflow.defn(name="it-big-digest")
class BigDigest:
    """Reads the 5 MiB activity result back from history; returns a small digest of it."""

    def run(self, ctx: Any, seed: str) -> Any:
        text = yield ctx.schedule_activity("it-big-text", [seed])
        return digest(text)


@activity.defn(name="it-digest")
def digest_activity(text: str) -> dict[str, Any]:
    return digest(text)


@workflow.defn(name="it-big-echo")
class BigEcho:
    """Hands the 5 MiB value to a second activity, then returns the value itself.

    Both the ``schedule_activity`` arguments and the ``complete_workflow``
    result are above the threshold, so the workflow-task commands carry
    references too.
    """

    def run(self, ctx: Any, seed: str) -> Any:
        text = yield ctx.schedule_activity("it-big-text", [seed])
        checked = yield ctx.schedule_activity("it-digest", [text])
        if checked != digest(text):
            raise ValueError(f"the second activity saw other bytes: {checked}")
        return text


@pytest.fixture
async def server() -> AsyncIterator[DevServerHandle]:
    async with async_dev_server(poll_timeout=2.0) as handle:
        yield handle


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "payloads"


@pytest.fixture
async def client(server: DevServerHandle, root: Path) -> AsyncIterator[Client]:
    # The client only reads references (no threshold): results, descriptions.
    store = LocalFilesystemExternalStorage(root)
    async with Client(server.url, token=server.token, external_storage=store) as c:
        await c.set_namespace_external_storage(
            "default", driver="local", config={"uri": root.as_uri()}
        )
        yield c


def make_worker(client: Client, root: Path) -> Worker:
    return Worker(
        client,
        task_queue=QUEUE,
        workflows=[BigDigest, BigEcho],
        activities=[make_big_text, digest_activity],
        external_storage=LocalFilesystemExternalStorage(root),
        external_storage_threshold_bytes=THRESHOLD,
        poll_timeout=10.0,
        shutdown_timeout=5.0,
    )


async def history_events(client: Client, workflow_id: str) -> tuple[list[dict[str, Any]], int]:
    """The run's events and the size of the whole history JSON the server sent."""
    execution = await client.describe_workflow(workflow_id)
    assert execution.run_id
    history = await client.get_history(workflow_id, execution.run_id)
    events = history.get("events") or []
    return events, len(json.dumps(history))


def is_big_reference(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"codec", "external_storage"}
        and value["external_storage"]["codec"] == value["codec"]
        and value["external_storage"]["size_bytes"] > FIVE_MIB
    )


def event_payload(events: list[dict[str, Any]], event_type: str) -> dict[str, Any]:
    (event,) = [e for e in events if e.get("event_type") == event_type]
    payload = event.get("payload")
    assert isinstance(payload, dict)
    return payload


async def test_five_mib_activity_result_is_offloaded_and_the_run_completes(
    client: Client, root: Path
) -> None:
    seed = uuid.uuid4().hex
    handle = await client.start_workflow(
        workflow_type="it-big-digest",
        task_queue=QUEUE,
        workflow_id=f"big-digest-{seed[:10]}",
        input=[seed],
    )
    execution = await make_worker(client, root).run_until(
        workflow_id=handle.workflow_id, timeout=90
    )
    assert execution.status == "completed"
    expected = digest(big_text(seed))
    assert await handle.result(timeout=20) == expected

    events, history_size = await history_events(client, handle.workflow_id)
    result = event_payload(events, "ActivityCompleted")["result"]
    assert is_big_reference(result)
    assert history_size < THRESHOLD  # the history holds the reference, not the bytes
    stored = LocalFilesystemExternalStorage(root).get(result["external_storage"]["uri"])
    assert hashlib.sha256(stored).hexdigest() == result["external_storage"]["sha256"]


async def test_a_workflow_returning_the_five_mib_value_offloads_its_commands(
    client: Client, root: Path
) -> None:
    seed = uuid.uuid4().hex
    handle = await client.start_workflow(
        workflow_type="it-big-echo",
        task_queue=QUEUE,
        workflow_id=f"big-echo-{seed[:10]}",
        input=[seed],
    )
    execution = await make_worker(client, root).run_until(
        workflow_id=handle.workflow_id, timeout=90
    )
    assert execution.status == "completed"
    assert await client.get_result(handle, timeout=20) == big_text(seed)

    events, history_size = await history_events(client, handle.workflow_id)
    assert history_size < THRESHOLD
    completed = [e["payload"] for e in events if e.get("event_type") == "ActivityCompleted"]
    assert [is_big_reference(p["result"]) for p in completed] == [True, False]
    assert is_big_reference(event_payload(events, "WorkflowCompleted")["output"])
