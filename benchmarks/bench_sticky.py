"""Lifetime replay cost of a run of N sequential activities, one workflow task per activity.

With the sticky cache each task resumes the cached instance with the two new
events, so the lifetime cost grows linearly with N; without it each task
replays the whole history (quadratic). Reported: total seconds over the
run's N + 1 tasks, and the N=1000 / N=100 ratio (linear growth gives ~10,
the target is <= 15).
"""

from __future__ import annotations

import time

from durable_workflow import workflow
from durable_workflow.workflow import WorkflowCache

from ._histories import Sequential, append_activity, started


def lifetime(n: int, *, sticky: bool) -> float:
    """Seconds spent replaying across all N + 1 workflow tasks of one run."""
    cache = WorkflowCache()
    history = started()
    spent = 0.0
    for step in range(n + 1):
        begin = time.perf_counter()
        if sticky:
            outcome = cache.get_or_replay("run", Sequential, history, [n])
        else:
            outcome = workflow.replay(Sequential, history, [n], run_id="run")
        spent += time.perf_counter() - begin
        if step < n:
            (command,) = outcome.commands
            assert isinstance(command, workflow.ScheduleActivity), command
            append_activity(history, step)
    assert outcome.commands == [workflow.CompleteWorkflow(n * (n - 1) // 2)]
    if sticky:
        assert cache.stats.misses == 1 and cache.stats.fallbacks == 0, cache.stats
    return spent


def best_of(n: int, *, sticky: bool, repeats: int = 3) -> float:
    return min(lifetime(n, sticky=sticky) for _ in range(repeats))


def main() -> None:
    print(f"{'activities':>10}  {'sticky s':>9}  {'no cache s':>10}")
    results: dict[int, float] = {}
    for n in (100, 1_000):
        results[n] = best_of(n, sticky=True)
        uncached = best_of(n, sticky=False, repeats=1)
        print(f"{n:>10}  {results[n]:>9.4f}  {uncached:>10.4f}")
    ratio = results[1_000] / results[100]
    verdict = "linear" if ratio <= 15 else "NOT LINEAR"
    print(f"sticky cost(N=1000) / cost(N=100) = {ratio:.1f} (target <= 15: {verdict})")
