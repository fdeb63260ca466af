"""A dev server in a child process for fuzzing, with every wait cut short.

A child process keeps the fuzzer and the server off one GIL; the short poll, query
and update waits keep a generated long poll from parking a request for seconds.
``python tests/fuzz/fuzz_server.py PORT DB`` runs it in the foreground.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(port: int, db: Path) -> None:
    from durable_workflow.server.config import ServerConfig
    from durable_workflow.server.runner import build_server

    config = ServerConfig(
        db_path=db,
        poll_timeout=0.05,
        query_timeout=0.05,
        update_wait_seconds=0.05,
        update_wait_max_seconds=0.05,
    )
    build_server(config, port=port).run()


@contextlib.contextmanager
def fuzz_server(db: Path) -> Iterator[str]:
    """Start the child server on a free port, yield its URL, stop it (SIGTERM) after."""
    port = _free_port()
    src = str(HERE.parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "fuzz_server.py"), str(port), str(db)], env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/api/health").status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("fuzz server did not start")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]))
