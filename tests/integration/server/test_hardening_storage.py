"""Storage faults: writes refused with a typed 503, reads served, recovery, no corruption;
and one dev server per database file.

A full disk is real (a small tmpfs filled up; root only, skipped elsewhere) and, on
every machine, SQLite's own page limit (``max_page_count``), which fails writes with
the same SQLITE_FULL. A read-only database is SQLite's ``query_only`` (SQLITE_READONLY,
as a read-only file gives).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hardening_server import running as running_with
from server_http_helpers import CONTROL

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.app import DevServer
from durable_workflow.server.store.owner_lock import DatabaseInUse
from durable_workflow.testing import dev_server


def running(db: Path) -> contextlib.AbstractContextManager[tuple[httpx.Client, DevServer]]:
    return running_with(ServerConfig(db_path=db, poll_timeout=0.2))


def _pragma(dev: DevServer, statement: str) -> None:
    with dev.store._lock:
        dev.store._conn.execute(statement)


def _start(http: httpx.Client, workflow_id: str) -> httpx.Response:
    body = {"workflow_id": workflow_id, "workflow_type": "t", "task_queue": "q",
            "input": ["x" * 2000]}  # fmt: skip
    return http.post("/api/workflows", json=body, headers=CONTROL)


def _refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["reason"] == reason and body["retryable"] is True
    assert body["retry_after_seconds"] >= 1 and response.headers["Retry-After"] == "1"
    assert "Storage refused" in body["message"]


def _reads_served(http: httpx.Client, workflow_id: str) -> None:
    assert http.get("/api/health").status_code == 200
    assert http.get(f"/api/workflows/{workflow_id}", headers=CONTROL).status_code == 200
    assert http.get("/api/workflows", headers=CONTROL).status_code == 200


def _intact(db: Path, acknowledged: list[str]) -> None:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = {r[0] for r in conn.execute("SELECT workflow_id FROM workflow_runs")}
    assert set(acknowledged) <= ids


def test_read_only_database_refuses_writes_serves_reads_and_recovers(tmp_path: Path) -> None:
    db = tmp_path / "ro.sqlite"
    with running(db) as (http, dev):
        assert _start(http, "before").status_code == 201
        _pragma(dev, "PRAGMA query_only=ON")
        _refused(_start(http, "during"), "storage_admission_unavailable")
        signal = http.post("/api/workflows/before/signal/s", json={}, headers=CONTROL)
        _refused(signal, "storage_admission_unavailable")
        _reads_served(http, "before")
        _pragma(dev, "PRAGMA query_only=OFF")
        assert _start(http, "after").status_code == 201
        assert http.get("/api/workflows/during", headers=CONTROL).status_code == 404
    _intact(db, ["before", "after"])


def test_full_database_refuses_writes_serves_reads_and_recovers(tmp_path: Path) -> None:
    db = tmp_path / "full.sqlite"
    acknowledged = []
    with running(db) as (http, dev):
        assert _start(http, "first").status_code == 201
        acknowledged.append("first")
        with dev.store._lock:
            pages = dev.store._conn.execute("PRAGMA page_count").fetchone()[0]
        _pragma(dev, f"PRAGMA max_page_count={pages + 2}")
        refusals = 0
        for i in range(50):
            response = _start(http, f"fill-{i}")
            if response.status_code == 201:
                acknowledged.append(f"fill-{i}")
                continue
            _refused(response, "storage_pressure")
            refusals += 1
        assert refusals > 0
        _reads_served(http, "first")
        _pragma(dev, "PRAGMA max_page_count=1073741823")
        assert _start(http, "after").status_code == 201
        acknowledged.append("after")
    _intact(db, acknowledged)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_real_disk_full_is_refused_and_recovers_when_space_returns(tiny_disk: Path) -> None:
    db = tiny_disk / "dev.sqlite"
    filler = tiny_disk / "filler"
    acknowledged: list[str] = []
    with running(db) as (http, _dev):
        assert _start(http, "first").status_code == 201
        acknowledged.append("first")
        with open(filler, "wb") as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        statuses = []
        for _ in range(20):
            response = _start(http, f"w-{uuid.uuid4().hex[:8]}")
            statuses.append(response.status_code)
            if response.status_code == 201:
                acknowledged.append(response.json()["workflow_id"])
            else:
                _refused(response, "storage_pressure")
        assert 503 in statuses, statuses
        _reads_served(http, "first")
        filler.unlink()
        assert _start(http, "after-space").status_code == 201
        acknowledged.append("after-space")
    _intact(db, acknowledged)


def test_a_second_server_on_the_same_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite"
    with dev_server(db_path=db, poll_timeout=0.2) as first:
        with pytest.raises(DatabaseInUse, match=r"in use by another dev server \(pid \d+\)"):
            DevServer(ServerConfig(db_path=db))
        cli = subprocess.run(
            [sys.executable, "-m", "durable_workflow.cli", "server", "start-dev",
             "--db", str(db), "--port", "0"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert cli.returncode == 2, cli.stderr
        assert "in use by another dev server" in cli.stderr and "Traceback" not in cli.stderr
        assert httpx.get(first.url + "/api/health").status_code == 200
    with dev_server(db_path=db, poll_timeout=0.2) as again:  # released on stop
        assert httpx.get(again.url + "/api/health").status_code == 200
