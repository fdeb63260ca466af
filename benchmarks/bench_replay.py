"""Full replay throughput: events per second for N sequential activities."""

from __future__ import annotations

import time

from durable_workflow import workflow

from ._histories import Sequential, sequential_history

SIZES = (100, 1_000, 10_000)


def measure(n: int, *, min_seconds: float = 0.5) -> tuple[int, float]:
    """(events, best seconds per full replay) for a run of ``n`` activities."""
    history = sequential_history(n)
    outcome = workflow.replay(Sequential, history, [n], run_id="bench")
    assert outcome.commands == [workflow.CompleteWorkflow(n * (n - 1) // 2)]
    best, spent = float("inf"), 0.0
    while spent < min_seconds or best == float("inf"):
        started = time.perf_counter()
        workflow.replay(Sequential, history, [n], run_id="bench")
        elapsed = time.perf_counter() - started
        best, spent = min(best, elapsed), spent + elapsed
    return len(history), best


def main() -> None:
    print(f"{'activities':>10}  {'events':>7}  {'replay ms':>10}  {'events/s':>12}")
    for n in SIZES:
        events, seconds = measure(n)
        print(f"{n:>10}  {events:>7}  {seconds * 1000:>10.2f}  {events / seconds:>12,.0f}")
