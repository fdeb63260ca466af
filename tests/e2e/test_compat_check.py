"""`nox -s compat` is `python -m durable_workflow.compat_check`; check both verdicts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from .conftest import DevServerProcess, run_python


def test_compat_check_passes_against_the_dev_server(dev_server_process: DevServerProcess) -> None:
    result = run_python(
        "-m", "durable_workflow.compat_check", dev_server_process.url, "--token", "e2e-token"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "control_plane" in result.stdout
    assert "manifest entries match" in result.stdout


@pytest.fixture
def mismatching_server(dev_server_process: DevServerProcess) -> Iterator[str]:
    """Serves the dev server's cluster info with the control-plane version changed."""
    info = httpx.get(
        f"{dev_server_process.url}/api/cluster/info",
        headers={"Authorization": "Bearer e2e-token"},
    ).json()
    info["control_plane"]["version"] = "3"
    body = json.dumps(info).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_compat_check_fails_on_a_mismatching_manifest(mismatching_server: str) -> None:
    result = run_python("-m", "durable_workflow.compat_check", mismatching_server)
    assert result.returncode == 1
    assert "control_plane.version" in result.stdout
