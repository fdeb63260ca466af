"""A worker run as a script stops gracefully on SIGINT/SIGTERM (subprocess, real dev server)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from durable_workflow.client import Client
from durable_workflow.testing import DevServerHandle

SCRIPT = textwrap.dedent(
    """
    import asyncio, signal, sys, time, logging
    from pathlib import Path
    from durable_workflow import activity, workflow
    from durable_workflow.client import Client
    from durable_workflow.worker import Worker

    # A shell's background job inherits SIGINT ignored (and a worker rightly leaves an
    # ignored signal alone); this child stands for a worker started in a terminal.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    logging.basicConfig(level=logging.WARNING)
    url, token, queue, marker = sys.argv[1:5]

    @activity.defn(name="sig-slow")
    def slow(value):
        Path(marker).write_text("started")
        time.sleep(1.0)
        Path(marker).write_text("finished")
        return value

    @workflow.defn(name="sig-wf")
    class Wf:
        def run(self, ctx, value):
            result = yield ctx.schedule_activity("sig-slow", [value])
            return result

    async def main():
        async with Client(url, token=token or None) as client:
            await Worker(client, task_queue=queue, workflows=[Wf], activities=[slow],
                         poll_timeout=5.0, shutdown_timeout=10.0).run()
        print("worker returned", flush=True)

    asyncio.run(main())
    """
)


@pytest.fixture
async def server(gen_server: DevServerHandle) -> AsyncIterator[DevServerHandle]:
    """The dev server of each generation (generations.py)."""
    yield gen_server


@pytest.mark.timeout(60)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_signal_stops_the_worker_after_its_in_flight_activity(
    server: DevServerHandle, tmp_path: Path, signum: signal.Signals
) -> None:
    queue = f"sig-{uuid.uuid4().hex[:8]}"
    marker = tmp_path / "marker"
    async with Client(server.url, token=server.token) as client:
        handle = await client.start_workflow(
            workflow_type="sig-wf",
            task_queue=queue,
            workflow_id=f"sig-{uuid.uuid4().hex}",
            input=["v"],
        )
        child = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, server.url, server.token or "", queue, str(marker)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            for _ in range(400):
                if marker.exists() or child.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            assert marker.exists(), "the worker never started the activity"
            child.send_signal(signum)
            out, err = await asyncio.to_thread(child.communicate, timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.communicate()  # reap and close the pipes
        assert child.returncode == 0, err
        assert "worker returned" in out
        assert f"{signum.name} received: stopping worker" in err
        assert marker.read_text() == "finished"
        history = await client.get_history(handle.workflow_id, handle.run_id)
        types = [e.get("event_type") for e in history.get("events", [])]
        assert "ActivityCompleted" in types
