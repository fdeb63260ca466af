"""``durable-workflow server start-dev`` as a real subprocess: serves, then stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from durable_workflow.cli import build_parser, default_db_path
from durable_workflow.server.runner import bind_socket


def _free_port() -> int:
    sock = bind_socket("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_default_db_lives_in_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "durable-workflow" / "dev.sqlite"
    args = build_parser().parse_args(["server", "start-dev"])
    assert (args.host, args.port, args.db, args.token, args.durability) == (
        "127.0.0.1", 8080, None, None, "normal",
    )  # fmt: skip
    assert (args.worker_token, args.operator_token, args.admin_token) == (None, None, None)
    assert args.log_level == "warning"


def test_start_dev_serves_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "nested" / "dev.sqlite"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "durable_workflow.cli", "server", "start-dev",
         "--port", str(port), "--db", str(db), "--durability", "full",
         "--operator-token", "op-secret", "--log-level", "info"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        healthy = False
        while time.monotonic() < deadline and not healthy:
            try:
                healthy = httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
            except httpx.TransportError:
                time.sleep(0.1)
        assert healthy
        assert db.exists()
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert f"http://127.0.0.1:{port}" in output
    assert str(db) in output and "operator token: set" in output
    assert "op-secret" not in output  # tokens are never printed or logged
    assert '"path": "/api/health"' in output and '"status": 200' in output
    assert '"request_id": "' in output
    assert "Traceback" not in output


def test_start_dev_generation_2_serves_the_2x_profile(tmp_path: Path) -> None:
    args = build_parser().parse_args(["server", "start-dev"])
    assert (args.generation, args.check_responses) == (1, False)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "durable_workflow.cli", "server", "start-dev",
         "--port", str(port), "--db", str(tmp_path / "dev.sqlite"), "--generation", "2",
         "--check-responses"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        info = None
        while time.monotonic() < deadline and info is None:
            try:
                info = httpx.get(f"http://127.0.0.1:{port}/api/cluster/info").json()
            except httpx.TransportError:
                time.sleep(0.1)
        assert info is not None
        assert info["worker_protocol"]["version"] == "1.20"
        assert info["capabilities"]["payload_codecs"] == ["avro"]
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "generation 2" in output
    assert "SPEC MISMATCH" not in output and "Traceback" not in output
