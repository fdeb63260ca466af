"""What every sample shares: finding a server, and a worker running in the background.

A sample talks to the server named by ``DURABLE_WORKFLOW_SERVER_URL`` (token from
``DURABLE_WORKFLOW_AUTH_TOKEN``, namespace from ``DURABLE_WORKFLOW_NAMESPACE``);
without it, it starts the built-in development server in-process (SQLite in a
temporary directory, real HTTP on 127.0.0.1) and stops it at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from durable_workflow import Client, Worker
from durable_workflow.errors import DurableWorkflowError

Main = Callable[[Client], Awaitable[None]]


def run(main: Main) -> None:
    """Run ``main(client)`` against the configured server, or a fresh dev server."""
    url = os.environ.get("DURABLE_WORKFLOW_SERVER_URL")
    if url:
        asyncio.run(_connected(main, url))
        return
    from durable_workflow.testing import dev_server

    with dev_server() as server:
        asyncio.run(_connected(main, server.url))


async def _connected(main: Main, url: str) -> None:
    async with Client.from_env(server_url=url) as client:
        await main(client)


@contextlib.asynccontextmanager
async def serving(worker: Worker) -> AsyncIterator[Worker]:
    """Run ``worker`` in the background for the block; stop it gracefully after.

    The block starts once the server knows the worker: a query sent before any
    worker of the run's queue has registered is refused (``query_not_found``).
    """
    task = asyncio.create_task(worker.run())
    try:
        while not task.done():
            try:
                await worker.client.describe_worker(worker.worker_id)
                break
            except DurableWorkflowError:
                await asyncio.sleep(0.05)
        yield worker
    finally:
        await worker.stop()
        await task


def unique(prefix: str) -> str:
    """A fresh workflow id, so a sample can run again against a server that keeps state."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
