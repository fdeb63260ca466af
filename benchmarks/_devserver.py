"""The dev server as a measured subprocess: launch, readiness, RSS, database size.

Shared by the server benchmarks so each measures the server process alone
(the driver's own memory and CPU stay out of the figures). With
``BENCH_SERVER_PROFILE=DIR`` the server runs under cProfile and writes
``DIR/server-<port>.prof`` when it stops (for finding hot spots, not for figures).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from durable_workflow._generated import manifest

CONTROL = {manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION}
WORKER = {manifest.WORKER_PROTOCOL_HEADER: manifest.WORKER_PROTOCOL_VERSION}


@dataclass
class ServerProcess:
    url: str
    db: Path
    proc: subprocess.Popen[bytes]

    def rss_mib(self) -> float:
        """Resident set size of the server process, MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def checkpointed_size(self) -> int:
        """Main database file size once the WAL is folded in."""
        with contextlib.closing(sqlite3.connect(self.db, timeout=30)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.db.stat().st_size


# CPU time, not wall time: on a shared machine waiting for a core is not a hot spot.
_PROFILED = """
import cProfile, sys, time
from durable_workflow.cli import main
profiler = cProfile.Profile(time.process_time)
try:
    profiler.runcall(main, sys.argv[1:])
finally:
    profiler.dump_stats({target!r})
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def dev_server_process(directory: Path, *, poll_timeout: float = 2.0) -> Iterator[ServerProcess]:
    """``durable-workflow server start-dev`` on a free port, terminated on exit."""
    db = directory / "bench.sqlite"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "durable_workflow.cli", "server", "start-dev", "--port",
               str(port), "--db", str(db), "--poll-timeout", str(poll_timeout)]  # fmt: skip
    profile_dir = os.environ.get("BENCH_SERVER_PROFILE")
    if profile_dir:
        target = Path(profile_dir) / f"server-{port}.prof"
        command[1:3] = ["-c", _PROFILED.format(target=str(target))]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/api/health").status_code == 200:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"dev server on {url} did not become healthy")
        yield ServerProcess(url, db, proc)
    finally:
        # SIGINT is uvicorn's graceful stop, so a profiled server still writes its profile.
        proc.send_signal(signal.SIGINT if profile_dir else signal.SIGTERM)
        proc.wait(timeout=30)
