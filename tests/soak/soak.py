"""Soak: SIGKILL the dev server again and again under load, with workers running.

Starters send ``POST /api/workflows`` with fresh ids without pause; a start counts as
acknowledged only when its 201 arrived. Every ``--kill-every`` seconds the server is
SIGKILLed and restarted on the same database; every ``--worker-kill-every`` seconds
one worker process is SIGKILLed and restarted (its leased tasks come back after the
lease, 3 s here). After the last cycle the starters stop and the workers drain.

Reported, from the database: acknowledged starts, lost (acknowledged but absent),
duplicated (a workflow id with more than one run, or a run with more than one
``ActivityCompleted`` or ``WorkflowCompleted`` event), completed, and
``PRAGMA integrity_check``. Exit 1 unless lost = duplicated = 0, every acknowledged
workflow completed with the right result and the file is intact.

``python tests/soak/soak.py --cycles 20`` (``nox -s soak``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
CONTROL = {"X-Durable-Workflow-Control-Plane-Version": "2"}
LEASE_SECONDS = 3


@dataclass
class SoakReport:
    server_kills: int = 0
    worker_kills: int = 0
    acknowledged: set[str] = field(default_factory=set)
    unknown_outcome: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    wrong_result: list[str] = field(default_factory=list)
    integrity: str = "not checked"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.incomplete or self.wrong_result) and (
            self.integrity == "ok"
        )

    def summary(self) -> str:
        return (
            f"soak: {self.server_kills} server SIGKILLs, {self.worker_kills} worker SIGKILLs in "
            f"{self.seconds:.0f}s; acknowledged {len(self.acknowledged)}, lost {len(self.lost)}, "
            f"duplicated {len(self.duplicated)}, incomplete {len(self.incomplete)}, wrong "
            f"result {len(self.wrong_result)}, unacknowledged attempts {self.unknown_outcome}; "
            f"integrity_check {self.integrity}"
        )


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "durable_workflow.cli", "server", "start-dev", "--port",
               str(port), "--db", str(db), "--poll-timeout", "1",
               "--lease-seconds", str(LEASE_SECONDS)]  # fmt: skip
    proc = subprocess.Popen(
        command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return proc
        if proc.poll() is not None:
            raise RuntimeError(f"dev server exited with {proc.returncode} during start")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("dev server did not become healthy")


def spawn_worker(url: str, activity_sleep: float = 0.0) -> subprocess.Popen[bytes]:
    env = {**_env(), "SOAK_ACTIVITY_SLEEP": str(activity_sleep)}
    return subprocess.Popen(
        [sys.executable, str(HERE / "soak_worker.py"), url], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


async def _starter(
    url: str, ids: itertools.count[int], stop: asyncio.Event, report: SoakReport
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        while not stop.is_set():
            n = next(ids)
            body = {"workflow_id": f"soak-{n}", "workflow_type": "soak-workflow",
                    "task_queue": "soak", "input": [n]}  # fmt: skip
            try:
                response = await http.post("/api/workflows", json=body, headers=CONTROL)
            except httpx.TransportError:
                report.unknown_outcome += 1
                await asyncio.sleep(0.05)
                continue
            if response.status_code == 201:
                report.acknowledged.add(body["workflow_id"])
            else:
                report.unknown_outcome += 1


def _completed(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM workflow_runs WHERE workflow_type = 'soak-workflow'"
            " AND status = 'completed'"
        ).fetchone()
    return int(row[0])


def verify(db: Path, report: SoakReport) -> None:
    from durable_workflow.server.engine.payload_codec import decode_avro

    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        report.integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        runs: dict[str, list[tuple[str, str, bytes | str | None]]] = {}
        for workflow_id, run_id, status, output in conn.execute(
            "SELECT workflow_id, run_id, status, output FROM workflow_runs"
            " WHERE workflow_type = 'soak-workflow'"
        ):
            runs.setdefault(workflow_id, []).append((run_id, status, output))
        events = conn.execute(
            "SELECT run_id, event_type, COUNT(*) FROM history_events WHERE event_type IN"
            " ('ActivityCompleted', 'WorkflowCompleted') GROUP BY run_id, event_type"
        ).fetchall()
    counts = {(run_id, kind): n for run_id, kind, n in events}
    for workflow_id in sorted(report.acknowledged):
        found = runs.get(workflow_id, [])
        if not found:
            report.lost.append(workflow_id)
            continue
        if len(found) > 1:
            report.duplicated.append(f"{workflow_id}: {len(found)} runs")
        run_id, status, output = found[0]
        for kind in ("ActivityCompleted", "WorkflowCompleted"):
            if counts.get((run_id, kind), 0) > 1:
                report.duplicated.append(f"{workflow_id}: {counts[(run_id, kind)]} x {kind}")
        if status != "completed":
            report.incomplete.append(f"{workflow_id}: {status}")
            continue
        value = int(workflow_id.removeprefix("soak-"))
        if decode_avro(output) != value * value + 1:
            report.wrong_result.append(workflow_id)


async def soak(
    db: Path, *, cycles: int, kill_every: float, worker_kill_every: float, starters: int,
    workers: int, drain_timeout: float,
) -> SoakReport:  # fmt: skip
    report = SoakReport()
    began = time.monotonic()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = spawn_server(db, port)
    worker_procs = [spawn_worker(url) for _ in range(workers)]
    stop = asyncio.Event()
    ids = itertools.count()
    tasks = [asyncio.create_task(_starter(url, ids, stop, report)) for _ in range(starters)]
    next_worker_kill = time.monotonic() + worker_kill_every
    try:
        for _ in range(cycles):
            await asyncio.sleep(kill_every)
            if worker_kill_every and time.monotonic() >= next_worker_kill:
                victim = report.worker_kills % len(worker_procs)
                _kill(worker_procs[victim])
                worker_procs[victim] = spawn_worker(url)
                report.worker_kills += 1
                next_worker_kill = time.monotonic() + worker_kill_every
            _kill(server)
            report.server_kills += 1
            server = await asyncio.to_thread(spawn_server, db, port)
        stop.set()
        await asyncio.gather(*tasks)
        deadline = time.monotonic() + drain_timeout
        while time.monotonic() < deadline and _completed(db) < len(report.acknowledged):
            await asyncio.sleep(0.5)
    finally:
        stop.set()
        for proc in worker_procs:
            _kill(proc)
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _kill(server)
    verify(db, report)
    report.seconds = time.monotonic() - began
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20, help="server SIGKILLs")
    parser.add_argument("--kill-every", type=float, default=3.0, help="seconds between kills")
    parser.add_argument("--worker-kill-every", type=float, default=10.0,
                        help="seconds between worker SIGKILLs (0: never)")  # fmt: skip
    parser.add_argument("--starters", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--db", type=Path, default=None, help="keep the database here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dw-soak-") as tmp:
        db = args.db or Path(tmp) / "soak.sqlite"
        report = asyncio.run(
            soak(db, cycles=args.cycles, kill_every=args.kill_every,
                 worker_kill_every=args.worker_kill_every, starters=args.starters,
                 workers=args.workers, drain_timeout=args.drain_timeout)
        )  # fmt: skip
    print(report.summary())
    problems = {
        "lost": report.lost,
        "duplicated": report.duplicated,
        "incomplete": report.incomplete,
        "wrong result": report.wrong_result,
    }
    for label, items in problems.items():
        for item in items[:20]:
            print(f"  {label}: {item}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
