"""End to end, ours vs upstream 0.4.53 in one run against one dev server.

- start -> result latency (p50 / p99) of an idle one-activity workflow, the client
  and one worker in one process (``get_result`` as a user calls it);
- 200 one-activity workflows started at once and their results gathered, with one
  worker process (ours and upstream), then ours with 1, 2 and 4 worker processes;
- CPU per workflow in those runs: the worker processes', the server's and the
  starting client's (on a 2-core machine the three share the cores, so the total
  bounds the rate);
- the CPU of a process running the worker (and its client) for one workflow of
  1000 vs 100 sequential activities, both SDKs: replay cost growth with history.

Each throughput figure is the median of ``BENCH_E2E_ROUNDS`` (3) gathers against the
same worker processes: one 200-workflow gather lasts ~2 s, and a shared machine's
noise moves a single one by ±20%.

Each SDK runs ``_e2e_driver.py`` in its own interpreter: ours from the source tree,
upstream 0.4.53 from the venv ``nox -s interop`` builds (``UPSTREAM_04_PYTHON`` names
another); without it only our figures are printed. ``BENCH_E2E_WORKFLOWS`` (200) and
``BENCH_E2E_LATENCY`` (50) size the runs. Numbers are printed, never asserted.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ._devserver import ServerProcess, dev_server_process

DRIVER = Path(__file__).with_name("_e2e_driver.py")
SOURCE = Path(__file__).resolve().parents[1] / "src"


@dataclass(frozen=True)
class Sdk:
    name: str
    python: str
    env: dict[str, str]

    def command(self, *args: str) -> list[str]:
        return [self.python, str(DRIVER), *args]


def _sdks() -> list[Sdk]:
    ours = Sdk("ours", sys.executable, {**os.environ, "PYTHONPATH": str(SOURCE)})
    upstream = os.environ.get("UPSTREAM_04_PYTHON")
    if not upstream or not os.path.exists(upstream):
        print("   (upstream 0.4.53 not measured: run `nox -s interop` or set UPSTREAM_04_PYTHON)")
        return [ours]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return [ours, Sdk("upstream 0.4.53", upstream, env)]


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _json_line(sdk: Sdk, *args: str) -> dict[str, object]:
    done = subprocess.run(sdk.command(*args), env=sdk.env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{sdk.name} driver failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _latency(sdk: Sdk, url: str, count: int) -> None:
    queue = f"lat-{uuid.uuid4().hex[:8]}"
    samples = sorted(
        float(s) for s in _json_line(sdk, "latency", url, queue, str(count))["samples"]
    )  # type: ignore[attr-defined]
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"   {sdk.name:<16} start -> result, 1 activity, idle: p50 {p50 * 1000:6.1f} ms, "
          f"p99 {p99 * 1000:6.1f} ms ({count} runs)", flush=True)  # fmt: skip


def _chain(sdk: Sdk, url: str) -> None:
    """Worker CPU for one workflow of 1000 vs 100 sequential activities (replay growth)."""
    cpu = {}
    for steps in (100, 1000):
        queue = f"chain-{uuid.uuid4().hex[:8]}"
        cpu[steps] = float(_json_line(sdk, "chain", url, queue, str(steps))["cpu"])  # type: ignore[arg-type]
    print(f"   {sdk.name:<16} one workflow of 1000 vs 100 sequential activities: worker CPU "
          f"{cpu[1000]:.2f} s vs {cpu[100]:.2f} s (ratio {cpu[1000] / cpu[100]:.1f}; "
          f"10 = linear)", flush=True)  # fmt: skip


def _gather(sdk: Sdk, server: ServerProcess, count: int, workers: int, rounds: int) -> float:
    """``rounds`` gathers of ``count`` against the same workers: the median rate, and the
    CPU per workflow of the workers, the server and the starting client over all rounds."""
    queue = f"tp-{uuid.uuid4().hex[:8]}"
    procs = [
        subprocess.Popen(
            sdk.command("worker", server.url, queue), env=sdk.env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(workers)
    ]
    rates: list[float] = []
    client_cpu = 0.0
    try:
        for proc in procs:
            assert proc.stdout is not None
            proc.stdout.readline()  # ready
        time.sleep(0.5)  # first polls parked
        worker_cpu = sum(_cpu(p.pid) for p in procs)
        server_cpu = server.cpu_seconds()
        for _ in range(rounds):
            done = _json_line(sdk, "gather", server.url, queue, str(count))
            rates.append(count / float(done["seconds"]))  # type: ignore[arg-type]
            client_cpu += float(done["cpu"])  # type: ignore[arg-type]
        worker_cpu = sum(_cpu(p.pid) for p in procs) - worker_cpu
        server_cpu = server.cpu_seconds() - server_cpu
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    rate = statistics.median(rates)
    total = count * rounds
    per = {k: v / total * 1000 for k, v in
           (("worker", worker_cpu), ("server", server_cpu), ("client", client_cpu))}  # fmt: skip
    plural = "es" if workers > 1 else ""
    print(f"   {sdk.name:<16} {count} at once, {workers} worker process{plural}: "
          f"{rate:6.1f} wf/s (median of {rounds}: "
          f"{', '.join(f'{r:.1f}' for r in rates)}); CPU ms/wf: worker {per['worker']:5.2f}, "
          f"server {per['server']:5.2f} (incl. result waits), client {per['client']:5.2f}, "
          f"total {sum(per.values()):5.2f}", flush=True)  # fmt: skip
    return rate


def main() -> None:
    count = int(os.environ.get("BENCH_E2E_WORKFLOWS", "200"))
    latency_runs = int(os.environ.get("BENCH_E2E_LATENCY", "50"))
    rounds = int(os.environ.get("BENCH_E2E_ROUNDS", "3"))
    sdks = _sdks()
    with (
        tempfile.TemporaryDirectory(prefix="dw-bench-e2e-") as tmp,
        dev_server_process(Path(tmp), poll_timeout=10.0) as server,
    ):
        for sdk in sdks:
            _latency(sdk, server.url, latency_runs if sdk.name == "ours" else min(latency_runs, 20))
        rates = {sdk.name: _gather(sdk, server, count, 1, rounds) for sdk in sdks}
        if len(rates) == 2:
            ours, upstream = rates.values()
            print(f"   throughput ours / upstream, one worker process: {ours / upstream:.1f}x")
        for workers in (2, 4):
            _gather(sdks[0], server, count, workers, rounds)
        for sdk in sdks:
            _chain(sdk, server.url)


if __name__ == "__main__":
    main()
