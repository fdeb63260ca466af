"""The web UI's workflow list over a namespace of 10,000 workflows: time per page.

A ``start-dev`` subprocess gets ``BENCH_UI_WORKFLOWS`` (default 10,000) workflows
over the API (four types, three queues, a search attribute), then each UI page
is fetched ``BENCH_UI_REPEAT`` times (default 20) on loopback; printed are the
median and 95th-percentile times per page, against the 300 ms target of
issue 18 (printed, never asserted). Loopback adds well under a millisecond, so
the figures are the server's time to build and send each page.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from ._devserver import CONTROL, dev_server_process

TARGET_MS = 300.0
STARTERS = 8
TYPES = ("checkout", "refund", "report", "sync")
QUEUES = ("orders", "billing", "reports")


async def _seed(url: str, count: int) -> float:
    numbers = iter(range(count))
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=CONTROL) as http:

        async def starter() -> None:
            for n in numbers:
                body = {
                    "workflow_id": f"wf-{n:06d}",
                    "workflow_type": TYPES[n % len(TYPES)],
                    "task_queue": QUEUES[n % len(QUEUES)],
                    "business_key": f"customer-{n % 997}",
                    "input": [n, {"sku": f"sku-{n % 50}"}],
                    "search_attributes": {"Region": ("eu", "us", "apac")[n % 3]},
                }
                response = await http.post("/api/workflows", json=body)
                assert response.status_code < 300, response.text

        await asyncio.gather(*(starter() for _ in range(STARTERS)))
    return count / (time.perf_counter() - started)


def _measure(http: httpx.Client, path: str, repeat: int) -> tuple[float, float, int]:
    http.get(path)  # warm: templates compiled, pages of the database cached
    times = []
    size = 0
    for _ in range(repeat):
        response = http.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        times.append(response.elapsed.total_seconds() * 1000)
        size = len(response.content)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, size


def main() -> None:
    count = int(os.environ.get("BENCH_UI_WORKFLOWS", "10000"))
    repeat = int(os.environ.get("BENCH_UI_REPEAT", "20"))
    with tempfile.TemporaryDirectory() as directory, dev_server_process(Path(directory)) as server:
        rate = asyncio.run(_seed(server.url, count))
        print(f"  seeded {count:,} workflows over the API ({rate:,.0f} starts/s)")
        middle = count // 2 // 50 + 1
        pages = {
            "list, page 1": "/ui/workflows",
            f"list, page {middle}": f"/ui/workflows?page={middle}",
            "list, status filter": "/ui/workflows?status=pending",
            "list, type + queue": "/ui/workflows?type=refund&queue=billing",
            "list, id prefix": "/ui/workflows?prefix=wf-0042",
            "list, search attribute": "/ui/workflows?sa=Region%3Dapac",
            "run page": "/ui/workflow?id=wf-000007",
            "namespaces": "/ui/namespaces",
        }
        print(f"  {'page':<26} {'median ms':>10} {'p95 ms':>8} {'KiB':>6}  target < 300 ms")
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for label, path in pages.items():
                median, p95, size = _measure(http, path, repeat)
                verdict = "met" if p95 < TARGET_MS else "MISSED"
                print(f"  {label:<26} {median:>10.1f} {p95:>8.1f} {size / 1024:>6.1f}  {verdict}")
