"""Start our dev server as a subprocess and run the upstream-SDK scenarios against it.

``python run_interop.py SERVER_PYTHON SCENARIO_PYTHON [SCENARIO_NAME...]``: the server
runs on the project's interpreter, the scenarios (all, or the named ones) on the interop
venv's (upstream SDK).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(server_python: str, scenario_python: str, only: list[str]) -> int:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="dw-interop-") as tmp:
        server = subprocess.Popen(
            [server_python, "-m", "durable_workflow.cli", "server", "start-dev",
             "--port", str(port), "--db", str(Path(tmp) / "interop.sqlite"),
             "--poll-timeout", "5"],
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(url + "/api/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print("dev server did not start", file=sys.stderr)
                        return 1
                    time.sleep(0.2)
            # The scenarios must import upstream's installed package, never a source
            # tree that PYTHONPATH puts first (as in a developer's worktree).
            upstream_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            return subprocess.call(
                [scenario_python, str(HERE / "scenarios.py"), url, *only], env=upstream_env
            )
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
