"""Security basics: request ids in responses and log lines, tokens never logged or printed,
constant-time token comparison, loopback by default with a warning elsewhere, CORS only
when configured."""

from __future__ import annotations

import hmac
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from hardening_server import running
from server_http_helpers import CONTROL

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http import auth
from durable_workflow.server.http.exposure import bind_warning
from durable_workflow.testing import dev_server

SECRET = "s3cret-token-value"


def test_every_response_has_a_request_id_that_is_in_its_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="durable_workflow.http")
    with dev_server(poll_timeout=0.2) as handle, httpx.Client(base_url=handle.url) as http:
        responses = [
            http.get("/api/health"),
            http.get("/api/workflows", headers=CONTROL),
            http.post(
                "/api/workflows",
                content=b"{nope",
                headers={**CONTROL, "Content-Type": "application/json"},
            ),
            http.get("/api/nowhere", headers=CONTROL),
            http.get("/api/openapi.json"),
            http.get("/api/health", headers={"X-Request-Id": "caller-chosen-1"}),
            http.get("/api/health", headers={"X-Request-Id": "bad id\twith spaces"}),
        ]
    ids = [r.headers["x-request-id"] for r in responses]
    assert all(re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids[5] == "caller-chosen-1" and ids[6] != "bad id\twith spaces"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for request_id, response in zip(ids, responses, strict=True):
        line = next(ln for ln in logged.splitlines() if request_id in ln)
        assert f'"status": {response.status_code}' in line


def test_tokens_are_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with dev_server(poll_timeout=0.2, token=SECRET) as handle, httpx.Client(
        base_url=handle.url
    ) as http:  # fmt: skip
        good = {**CONTROL, "Authorization": f"Bearer {SECRET}"}
        assert http.get("/api/workflows", headers=good).status_code == 200
        bad = {**CONTROL, "Authorization": f"Bearer {SECRET}-wrong"}
        assert http.get("/api/workflows", headers=bad).status_code == 401
        assert http.post("/api/workflows", json={}, headers=good).status_code == 422
    assert SECRET not in caplog.text


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    config = ServerConfig(db_path=Path("unused"), token="legacy", worker_token="w",
                          operator_token="o", admin_token="a")  # fmt: skip
    assert auth.authorize(config, "Bearer o", ("operator",)) is None
    # Every configured token is compared (which one matched takes the same time to learn).
    assert len(calls) == 4


def test_bind_warning_only_off_loopback_without_a_token() -> None:
    open_config = ServerConfig(db_path=Path("unused"))
    assert bind_warning("127.0.0.1", open_config) is None
    assert bind_warning("::1", open_config) is None
    assert bind_warning("localhost", open_config) is None
    warning = bind_warning("0.0.0.0", open_config)
    assert warning is not None and "without a token" in warning
    assert bind_warning("0.0.0.0", ServerConfig(db_path=Path("unused"), token="t")) is None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_start_dev_binds_loopback_by_default_and_warns_elsewhere(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for extra, expect_warning in (([], False), (["--host", "0.0.0.0"], True)):
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "durable_workflow.cli", "server", "start-dev", "--port",
             str(port), "--db", str(tmp_path / f"db{port}.sqlite"), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            listening = Path("/proc/net/tcp").read_text()
            proc.send_signal(signal.SIGINT)
            output, _ = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        local = f"0100007F:{port:04X}" if not expect_warning else f"00000000:{port:04X}"
        assert local in listening, (extra, output)
        assert ("without a token" in output) is expect_warning, output


def test_no_cors_headers_unless_configured(tmp_path: Path) -> None:
    preflight = {"Origin": "http://ui.example", "Access-Control-Request-Method": "POST"}
    with dev_server(poll_timeout=0.2) as handle:
        plain = httpx.get(handle.url + "/api/health", headers={"Origin": "http://ui.example"})
        options = httpx.options(handle.url + "/api/workflows", headers=preflight)
        assert not any(h.startswith("access-control-") for h in plain.headers)
        assert not any(h.startswith("access-control-") for h in options.headers)
    config = ServerConfig(db_path=tmp_path / "cors.sqlite", cors_origins=("http://ui.example",))
    with running(config) as (http, _dev):
        allowed = http.get("/api/health", headers={"Origin": "http://ui.example"})
        assert allowed.headers["access-control-allow-origin"] == "http://ui.example"
        other = http.get("/api/health", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        ok = http.options("/api/workflows", headers=preflight)
        assert ok.status_code == 200 and "POST" in ok.headers["access-control-allow-methods"]
