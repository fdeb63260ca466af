"""The pytest plugin (entry point ``pytest11``): a dev server, a client and workers for tests.

Installed with the package and loaded by every pytest run, so it lives outside the
``durable_workflow`` package: importing it costs pytest nothing until a test asks for a
fixture (the SDK, ~0.9 s to import, and the dev server load then). Its plugin name is
``durable_workflow.testing.pytest_plugin`` (``-p no:durable_workflow.testing.pytest_plugin``
turns it off); that module re-exports these names. Every fixture name starts with
``durable_workflow_`` so it never shadows a project's own fixtures.

- ``durable_workflow_server`` (session): the built-in dev server on a free
  127.0.0.1 port with a temporary SQLite database, removed afterwards.
  ``--durable-workflow-generation 2`` serves the 2.x profile.
- ``durable_workflow_client``: an async ``Client`` for that server, closed after the test.
- ``durable_workflow_worker``: a factory; ``async with durable_workflow_worker(
  workflows=[...], activities=[...]) as worker:`` runs a ``Worker`` on a fresh
  task queue (``worker.task_queue``) in the background and stops it after the block.

The async fixtures need pytest-asyncio (``asyncio_mode = "auto"`` or
``@pytest.mark.asyncio`` tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from durable_workflow.client import Client
    from durable_workflow.testing import DevServerHandle
    from durable_workflow.worker import Worker

F = TypeVar("F", bound=Callable[..., Any])


def _async_fixture(function: F) -> F:
    """pytest-asyncio's fixture decorator (works in strict mode too), else pytest's."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - without pytest-asyncio only the server works
        return pytest.fixture(function)  # type: ignore[return-value]
    return pytest_asyncio.fixture(function)  # type: ignore[return-value]


__all__ = [
    "durable_workflow_client",
    "durable_workflow_server",
    "durable_workflow_worker",
    "running_worker",
]

WorkerFactory = Callable[..., contextlib.AbstractAsyncContextManager["Worker"]]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("durable-workflow")
    group.addoption(
        "--durable-workflow-generation",
        type=int,
        choices=(1, 2),
        default=1,
        help="server generation of the durable_workflow_server fixture (default 1)",
    )


@pytest.fixture(scope="session")
def durable_workflow_server(request: pytest.FixtureRequest) -> Iterator[DevServerHandle]:
    """The dev server for the whole session: free port, temporary database."""
    from durable_workflow.testing import dev_server

    generation = request.config.getoption("--durable-workflow-generation", default=1)
    with dev_server(poll_timeout=2.0, generation=generation) as handle:
        yield handle


@_async_fixture
async def durable_workflow_client(
    durable_workflow_server: DevServerHandle,
) -> AsyncIterator[Client]:
    """A client of the session's dev server, closed after the test."""
    from durable_workflow.client import Client

    async with Client(durable_workflow_server.url, token=durable_workflow_server.token) as client:
        yield client


@contextlib.asynccontextmanager
async def running_worker(
    client: Client,
    *,
    workflows: Iterable[type] = (),
    activities: Iterable[Callable[..., Any]] = (),
    task_queue: str | None = None,
    **options: Any,
) -> AsyncIterator[Worker]:
    """Run a ``Worker`` in the background for the block (once it has registered)."""
    from durable_workflow import errors
    from durable_workflow.worker import Worker

    options.setdefault("poll_timeout", 5.0)
    options.setdefault("shutdown_timeout", 5.0)
    worker = Worker(
        client,
        task_queue=task_queue or f"pytest-{uuid.uuid4().hex[:10]}",
        workflows=workflows,
        activities=activities,
        **options,
    )
    running = asyncio.create_task(worker.run())
    try:
        while not running.done():
            try:
                await client.describe_worker(worker.worker_id)
                break
            except errors.DurableWorkflowError:
                await asyncio.sleep(0.02)
        if running.done():
            running.result()  # start-up failed: raise its error here
        yield worker
    finally:
        await worker.stop()
        await running


@pytest.fixture
def durable_workflow_worker(durable_workflow_client: Client) -> WorkerFactory:
    """``async with durable_workflow_worker(workflows=..., activities=...) as worker``."""

    def factory(**options: Any) -> contextlib.AbstractAsyncContextManager[Worker]:
        return running_worker(durable_workflow_client, **options)

    return factory
