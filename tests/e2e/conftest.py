"""Helpers for tests that drive the installed console scripts as a user would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"dev server at {url} did not become healthy")


class DevServerProcess:
    """A `durable-workflow server start-dev` subprocess on a free port."""

    def __init__(self, db: Path, token: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db
        self.token = token
        args = [str(BIN / "durable-workflow"), "server", "start-dev", "--port", str(self.port)]
        args += ["--db", str(db)]
        if token:
            args += ["--token", token]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_healthy(self.url)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out.decode(errors="replace")


@pytest.fixture
def dev_server_process(tmp_path: Path) -> Iterator[DevServerProcess]:
    server = DevServerProcess(tmp_path / "dev.sqlite", token="e2e-token")
    try:
        yield server
    finally:
        server.stop()


def run_python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_WORKFLOW_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=120
    )
