"""Every program in samples/ runs as a user runs it, and prints what it promises.

Each sample starts its own dev server (no ``DURABLE_WORKFLOW_*`` variables are
passed on), so this is exactly ``python samples/<name>.py`` on a fresh clone.
The expected output is a list of regular expressions, one per printed line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"

PARALLEL = 4

EXPECTED: dict[str, list[str]] = {
    "hello_activity.py": [r"Hello, Ada!"],
    "activity_retry.py": [
        r"4111-1111: charged 42 on attempt 3",
        r"0000-0000: gave up: InvalidCard: card 0000-0000 is not valid",
    ],
    "durable_timer.py": [r"reminder sent: stand up and stretch", r"waited at least 2s: True"],
    "signal_workflow.py": [r"\['Ada', 'Grace', 'Linus'\]"],
    "query_workflow.py": [r"progress: \{'chunks': '3/3', 'KiB': 6\}", r"downloaded bytes: 6144"],
    "update_validator.py": [
        r"add pen x2: cart holds 2 items",
        r"add ink x1: cart holds 3 items",
        r"add pad x0: rejected: quantity must be at least 1, got 0",
        r"checked out: \{'pen': 2, 'ink': 1\}",
    ],
    "typed_workflow.py": [
        r"quote: Quote\(subtotal=Decimal\('47.35'\), discount=Decimal\('0'\)\)",
        r"discounted: Quote\(subtotal=Decimal\('47.35'\), discount=Decimal\('5.00'\)\)",
        r"invoice: Invoice\(order_id=UUID\('0b7e4f52-1c2d-4e5f-8a9b-0c1d2e3f4a5b'\), "
        r"due=datetime.date\(2026, 3, 31\), total=Decimal\('42.35'\)\)",
    ],
    "child_workflow.py": [r"\{'order': 'A-17', 'parcels': \['A-17/book', 'A-17/lamp'\]\}"],
    "continue_as_new.py": [r"\{'batches': 5, 'records': 150\}", r"runs: 3"],
    "side_effect_version.py": [
        r"v1 run: (?P<design>\w+) card for Ada",
        r"v1 history replayed on v2: \[CompleteWorkflow\(result=\{'design': '(?P=design)', "
        r"'card': '(?P=design) card for Ada'\}\)\]",
        r"v2 run: gift-wrapped \w+ card for Grace",
    ],
    "cancellation.py": [
        r"result: WorkflowCancelled .*user pressed stop",
        r"activity: cancelled: removed partial output",
        r"status: cancelled",
    ],
    "schedule_workflow.py": [
        r"triggered run: cleaned tmp-files",
        r"the schedule started 3 runs, then was deleted: \[('cleaned tmp-files'(, )?){3}\]",
    ],
    "search_attributes.py": [
        r"search attributes: \{'CustomerTier': 'gold', 'OrderStatus': 'shipped', "
        r"'Tracking': 'tracking-A-42'\}",
        r"memo: \{'notes': 'leave at the back door'\}",
    ],
    "order_saga.py": [
        r"order A1 completed: parcel-A1; steps: reserved kettle, charged 30, shipped to 1 Main St",
        r"order B2 failed: order B2 rolled back: no shipping address; steps: reserved toaster, "
        r"charged 45, refunded payment-B2, released reservation-B2",
    ],
    "human_approval.py": [
        r"EXP-1 is pending",
        r"\{'expense': 'EXP-1', 'status': 'approved', 'by': 'grace'\}",
        r"\{'expense': 'EXP-2', 'status': 'escalated'\}",
    ],
    "batch_fan_out.py": [
        r"\{'pages': 10, 'words': 47, 'top': \[\['the', 6\], \['state', 2\], \['workflows', 2\]\]\}"
    ],
    "large_payload_s3.py": [
        r"result: \{'lines': 100000, 'bytes': 3400000\}",
        r"history holds a reference: True",
        r"objects in the bucket: 2, ciphertext only: True",
    ],
    "opentelemetry_tracing.py": [
        r"log: reserving a seat on DW123 \[trace [0-9a-f]{8}… workflow booking-[0-9a-f]{8}\]",
        r"result: ticket for DW123/12A",
        r"StartWorkflow:book-flight \(client\)",
        r"  RunWorkflow:book-flight \(server\)",
        r"    StartActivity:reserve-seat \(internal\)",
        r"  RunActivity:reserve-seat \(server\)",
        r"  RunWorkflow:book-flight \(server\)",
        r"    StartActivity:send-ticket \(internal\)",
        r"  RunActivity:send-ticket \(server\)",
        r"  RunWorkflow:book-flight \(server\)",
        r"    CompleteWorkflow \(internal\)",
    ],
    "fastapi_app.py": [
        r"POST /reports: 202",
        r"streamed a change of status: True last: completed",
        r"result: \{'title': 'Q3', 'words': 600\}",
    ],
    "web_app.py": [
        r"POST /signups \{\}: 422 \{'error': 'email is required'\}",
        r"POST /signups: 202",
        r"GET /signups/<id>: \{'status': 'completed', 'result': \{'user_id': 'user-ada'\}\}",
    ],
}


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_WORKFLOW_")}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


class SampleRuns:
    """Sample processes, started a few at a time: most of their time is spent waiting."""

    def __init__(self, prefetch: list[str]) -> None:
        self.pool = ThreadPoolExecutor(max_workers=PARALLEL)
        self.started: dict[str, Future[subprocess.CompletedProcess[str]]] = {}
        for name in prefetch:
            self.start(name)

    def start(self, name: str) -> Future[subprocess.CompletedProcess[str]]:
        if name not in self.started:
            self.started[name] = self.pool.submit(_run, str(SAMPLES / name))
        return self.started[name]

    def result(self, name: str) -> subprocess.CompletedProcess[str]:
        return self.start(name).result()


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> SampleRuns:
    selected = [
        item.callspec.params["name"]
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_sample_prints_its_result"
    ]
    # Under xdist each worker sees every item but runs only some: start on demand there.
    distributed = hasattr(request.config, "workerinput")
    sample_runs = SampleRuns([] if distributed else selected)
    request.addfinalizer(sample_runs.pool.shutdown)
    return sample_runs


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_prints_its_result(name: str, runs: SampleRuns) -> None:
    result = runs.result(name)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    lines = result.stdout.splitlines()
    assert len(lines) == len(EXPECTED[name]), f"{name} printed:\n{result.stdout}"
    pattern = "\n".join(EXPECTED[name])
    assert re.fullmatch(pattern, "\n".join(lines)), f"{name} printed:\n{result.stdout}"


def test_the_pytest_sample_passes() -> None:
    result = _run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(SAMPLES / "pytest_testing"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^5 passed", result.stdout, re.MULTILINE), result.stdout


def test_every_sample_is_run_here_and_none_shadows_the_standard_library() -> None:
    programs = {p.name for p in SAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert programs == set(EXPECTED)
    assert (SAMPLES / "pytest_testing" / "test_loan.py").is_file()
    shadowing = {p.stem for p in SAMPLES.glob("*.py")} & set(sys.stdlib_module_names)
    assert not shadowing, f"these sample names hide standard modules: {shadowing}"
