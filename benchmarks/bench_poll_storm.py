"""Load: 1,000 concurrent long polls plus 50 clients starting workflows for 60 s.

Prints starts/s, p50/p99 of start latency (request to 201) and of poll wake-up (the
201 to the poller holding that workflow's task), errors, the polls held at the end,
and the server's resident memory (start, peak, end). Sizes from the environment:
``BENCH_LOAD_POLLERS`` (1000), ``BENCH_LOAD_STARTERS`` (50), ``BENCH_LOAD_SECONDS`` (60),
``BENCH_LOAD_QUEUES`` (100). Pollers run in a child process so that the starters, the
pollers and the server each have their own interpreter.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from ._devserver import CONTROL, WORKER, dev_server_process
from ._raw_http import RawJsonClient


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _raise_fd_limit() -> None:
    """1,000 held connections need more descriptors than the usual soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[q - 1]


# -- the pollers (child process) ------------------------------------------------------------


async def _poller(url: str, queue: str, until: float, out: list[Any]) -> None:
    client = RawJsonClient(url, WORKER)
    body = {"worker_id": f"load-{queue}", "task_queue": queue}
    while time.time() < until:
        try:
            status, payload = await client.post("/api/worker/workflow-tasks/poll", body)
        except (OSError, asyncio.IncompleteReadError) as exc:
            out.append(["error", repr(exc)])
            continue
        if status != 200:
            out.append(["error", status])
            continue
        if payload["task"] is not None:
            out.append(["task", payload["task"]["workflow_id"], time.time()])
    await client.close()


async def _run_pollers(url: str, pollers: int, queues: int, until: float) -> list[Any]:
    out: list[Any] = []
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        for q in range(queues):
            reg = {"worker_id": f"load-q{q}", "task_queue": f"q{q}", "runtime": "python"}
            (await http.post("/api/worker/register", json=reg, headers=WORKER)).raise_for_status()
    print("ready", flush=True)
    await asyncio.gather(*(_poller(url, f"q{i % queues}", until, out) for i in range(pollers)))
    return out


def poller_main(url: str, pollers: int, queues: int, until: float, result: str) -> None:
    _raise_fd_limit()
    out = asyncio.run(_run_pollers(url, pollers, queues, until))
    Path(result).write_text(json.dumps(out))


# -- the starters (this process) ------------------------------------------------------------


async def _starter(
    url: str, index: int, queues: int, until: float, acks: dict[str, float],
    latencies: list[float], errors: list[str],
) -> None:  # fmt: skip
    client = RawJsonClient(url, CONTROL)
    n = 0
    while time.time() < until:
        workflow_id = f"load-{index}-{n}"
        body = {"workflow_id": workflow_id, "workflow_type": "load", "task_queue": f"q{n % queues}"}
        n += 1
        sent = time.perf_counter()
        try:
            status, payload = await client.post("/api/workflows", body)
        except (OSError, asyncio.IncompleteReadError) as exc:
            errors.append(repr(exc))
            continue
        if status != 201:
            errors.append(f"{status} {str(payload)[:100]}")
            continue
        latencies.append(time.perf_counter() - sent)
        acks[workflow_id] = time.time()
    await client.close()


async def _run_starters(url: str, starters: int, queues: int, until: float) -> tuple[
    dict[str, float], list[float], list[str]
]:  # fmt: skip
    acks: dict[str, float] = {}
    latencies: list[float] = []
    errors: list[str] = []
    await asyncio.gather(
        *(_starter(url, i, queues, until, acks, latencies, errors) for i in range(starters))
    )
    return acks, latencies, errors


async def _sample_memory(server: Any, until: float, samples: list[float]) -> None:
    while time.time() < until:
        samples.append(server.rss_mib())
        await asyncio.sleep(1.0)


def main() -> None:
    pollers = _env_int("BENCH_LOAD_POLLERS", 1000)
    starters = _env_int("BENCH_LOAD_STARTERS", 50)
    seconds = _env_int("BENCH_LOAD_SECONDS", 60)
    queues = _env_int("BENCH_LOAD_QUEUES", 100)
    _raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="dw-bench-load-") as tmp, dev_server_process(
        Path(tmp), poll_timeout=20.0
    ) as server:  # fmt: skip
        result = Path(tmp) / "polls.json"
        until = time.time() + seconds + 5
        child = subprocess.Popen(
            [sys.executable, "-c",
             "import sys; from benchmarks.bench_poll_storm import poller_main; "
             "poller_main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]),"
             " sys.argv[5])",
             server.url, str(pollers), str(queues), str(until), str(result)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(3)  # let every poll park
        rss_start = server.rss_mib()
        cpu_start = server.cpu_seconds()
        start_until = time.time() + seconds
        memory: list[float] = []

        async def drive() -> tuple[dict[str, float], list[float], list[str]]:
            sampler = asyncio.create_task(_sample_memory(server, start_until, memory))
            outcome = await _run_starters(server.url, starters, queues, start_until)
            await sampler
            return outcome

        acks, latencies, errors = asyncio.run(drive())
        child.wait(timeout=seconds + 120)
        polled = json.loads(result.read_text())
        rss_end = server.rss_mib()
        cpu = server.cpu_seconds() - cpu_start
    deliveries = {item[1]: item[2] for item in polled if item[0] == "task"}
    poll_errors = [item[1] for item in polled if item[0] == "error"]
    wakeups = [max(0.0, deliveries[w] - acks[w]) for w in acks if w in deliveries]
    print(f"   {pollers} long polls on {queues} queues + {starters} starters for {seconds}s")
    print(f"   starts: {len(acks)} acknowledged ({len(acks) / seconds:.0f}/s), "
          f"p50 {_percentile(latencies, 50) * 1000:.1f} ms, "
          f"p99 {_percentile(latencies, 99) * 1000:.1f} ms")  # fmt: skip
    print(f"   poll wake-up (201 -> task at the poller): {len(wakeups)} tasks delivered, "
          f"p50 {_percentile(wakeups, 50) * 1000:.1f} ms, "
          f"p99 {_percentile(wakeups, 99) * 1000:.1f} ms")  # fmt: skip
    print(f"   errors: {len(errors)} start, {len(poll_errors)} poll "
          f"{(errors + [str(e) for e in poll_errors])[:3]}")  # fmt: skip
    print(f"   server RSS: {rss_start:.0f} MiB at start, {max(memory, default=rss_end):.0f} MiB "
          f"peak, {rss_end:.0f} MiB at end; server CPU {cpu:.1f}s")  # fmt: skip
