"""The activity thread pool: daemon threads, so a worker stopped at once lets the process exit."""

from __future__ import annotations

import threading
import time

import pytest

from durable_workflow.worker._threads import DaemonThreadPool


def test_runs_work_on_at_most_max_workers_daemon_threads() -> None:
    pool = DaemonThreadPool(max_workers=2, thread_name_prefix="t")
    seen: set[tuple[str, bool]] = set()
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            seen.add((threading.current_thread().name, threading.current_thread().daemon))
        time.sleep(0.01)
        return n * 2

    futures = [pool.submit(work, n) for n in range(8)]
    assert [f.result(timeout=5) for f in futures] == [n * 2 for n in range(8)]
    pool.shutdown(wait=True)
    assert {daemon for _, daemon in seen} == {True}
    assert {name for name, _ in seen} <= {"t_0", "t_1"}


def test_exceptions_reach_the_future() -> None:
    pool = DaemonThreadPool(max_workers=1)

    def boom() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        pool.submit(boom).result(timeout=5)
    pool.shutdown()


def test_shutdown_without_waiting_leaves_a_stuck_call_and_cancels_queued_work() -> None:
    pool = DaemonThreadPool(max_workers=1)
    release = threading.Event()
    stuck = pool.submit(release.wait, 30)
    queued = pool.submit(lambda: "never")
    started = time.monotonic()
    pool.shutdown(wait=False, cancel_futures=True)
    assert time.monotonic() - started < 1
    assert queued.cancelled()
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(lambda: None)
    release.set()
    assert stuck.result(timeout=5) is True
