"""Start our dev server as a subprocess and run the interop scenarios against it.

``python run_interop.py SERVER_PYTHON SCENARIO_PYTHON [--generation N] [--source SRC]
[SCENARIO_NAME...]``: the server runs on the project's interpreter, the scenarios
(all, or the named ones) on ``SCENARIO_PYTHON``. Without ``--source`` that is an
interop venv and the scenarios import its installed (upstream) SDK, never a source
tree; with ``--source src`` they import ours from that folder. A generation-2
server checks every response it sends against the vendored specs
(``--check-responses``); a mismatch fails the run like a failed scenario.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MISMATCH = "SPEC MISMATCH"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, server: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                return False
            time.sleep(0.2)


def main(
    server_python: str, scenario_python: str, generation: int, source: str | None, only: list[str]
) -> int:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="dw-interop-") as tmp:
        server_log = Path(tmp) / "server.log"
        command = [server_python, "-m", "durable_workflow.cli", "server", "start-dev",
                   "--port", str(port), "--db", str(Path(tmp) / "interop.sqlite"),
                   "--poll-timeout", "5", "--generation", str(generation)]  # fmt: skip
        if generation == 2:
            command.append("--check-responses")
        with server_log.open("wb") as log:
            server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            try:
                if not _wait_healthy(url, server):
                    print("dev server did not start", file=sys.stderr)
                    print(server_log.read_text(errors="replace"), file=sys.stderr)
                    return 1
                env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
                if source is not None:
                    env["PYTHONPATH"] = str(Path(source).resolve())
                failures = subprocess.call(
                    [scenario_python, str(HERE / "scenarios.py"), url, *only], env=env
                )
            finally:
                server.terminate()
                server.wait(timeout=15)
        mismatches = [
            line for line in server_log.read_text(errors="replace").splitlines() if MISMATCH in line
        ]
    for line in mismatches:
        print(line, file=sys.stderr)
    if mismatches:
        print(f"{len(mismatches)} responses did not match the vendored specs", flush=True)
    return failures + len(mismatches)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("server_python")
    parser.add_argument("scenario_python")
    parser.add_argument("--generation", type=int, choices=(1, 2), default=1)
    parser.add_argument("--source", default=None, help="import our SDK from this folder")
    parser.add_argument("scenarios", nargs="*")
    args = parser.parse_intermixed_args()
    sys.exit(
        main(args.server_python, args.scenario_python, args.generation, args.source, args.scenarios)
    )
