"""The built-in dev server in-process, for tests over real HTTP.

``dev_server()`` starts uvicorn on 127.0.0.1 with a free port in a
background thread, waits until ``/api/health`` answers, and stops it on
exit. Real HTTP, real SQLite file -- nothing mocked.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

__all__ = ["DevServerHandle", "async_dev_server", "dev_server"]


@dataclass(frozen=True)
class DevServerHandle:
    """What a running dev server exposes to a test."""

    url: str
    db_path: Path
    token: str | None
    generation: Literal[1, 2] = 1


class _Running:
    def __init__(
        self,
        db_path: Path,
        token: str | None,
        poll_timeout: float,
        durability: Literal["normal", "full"],
        host: str,
        port: int,
        role_tokens: dict[str, str | None],
        generation: Literal[1, 2] = 1,
        long_poll_capacity: int | None = None,
    ) -> None:
        from durable_workflow.server.extra import require_server_extra

        require_server_extra("durable_workflow.testing.dev_server()")
        from durable_workflow.server.config import ServerConfig
        from durable_workflow.server.runner import bind_socket, build_server

        config = ServerConfig(
            db_path=db_path,
            token=token,
            poll_timeout=poll_timeout,
            durability=durability,
            worker_token=role_tokens.get("worker"),
            operator_token=role_tokens.get("operator"),
            admin_token=role_tokens.get("admin"),
            generation=generation,
            long_poll_capacity=long_poll_capacity,
        )
        self._sock = bind_socket(host, port)
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        self._server = build_server(config, host=host, port=port)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self._thread.is_alive():
                    raise RuntimeError("dev server thread exited during start-up")
                try:
                    if client.get(self.url + "/api/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"dev server at {self.url} did not become healthy in {timeout}s")

    def stop(self) -> None:
        self._server.request_exit()
        self._thread.join(timeout=10)
        self._sock.close()


@contextmanager
def dev_server(
    *,
    db_path: str | Path | None = None,
    token: str | None = None,
    poll_timeout: float = 30.0,
    durability: Literal["normal", "full"] = "normal",
    host: str = "127.0.0.1",
    port: int = 0,
    worker_token: str | None = None,
    operator_token: str | None = None,
    admin_token: str | None = None,
    generation: Literal[1, 2] = 1,
    long_poll_capacity: int | None = None,
) -> Iterator[DevServerHandle]:
    """Start a dev server (fresh temp database unless ``db_path``) and yield its handle.

    ``token`` is the legacy full-access token; the role tokens restrict each caller to
    its role (control-plane.md §1.4). ``generation=2`` serves the 2.x profile (the
    server's published specs, Avro Value payloads) instead of the 0.x line;
    ``long_poll_capacity`` (generation 2) bounds the long polls held per wait pool.
    """
    temp_dir = None
    if db_path is None:
        temp_dir = tempfile.mkdtemp(prefix="durable-workflow-dev-")
        db_path = Path(temp_dir) / "dev.sqlite"
    path = Path(db_path)
    roles = {"worker": worker_token, "operator": operator_token, "admin": admin_token}
    running = _Running(
        path, token, poll_timeout, durability, host, port, roles, generation, long_poll_capacity
    )
    running.start()
    try:
        yield DevServerHandle(url=running.url, db_path=path, token=token, generation=generation)
    finally:
        running.stop()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


@asynccontextmanager
async def async_dev_server(
    *,
    db_path: str | Path | None = None,
    token: str | None = None,
    poll_timeout: float = 30.0,
    durability: Literal["normal", "full"] = "normal",
    generation: Literal[1, 2] = 1,
) -> AsyncIterator[DevServerHandle]:
    """The same as :func:`dev_server` for async tests (start/stop run off the loop)."""
    manager = dev_server(
        db_path=db_path,
        token=token,
        poll_timeout=poll_timeout,
        durability=durability,
        generation=generation,
    )
    handle = await asyncio.to_thread(manager.__enter__)
    try:
        yield handle
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)
