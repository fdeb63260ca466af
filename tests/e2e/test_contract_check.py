"""`durable-workflow contract check` through the console script, as carrier CI runs it."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import BIN, REPO, DevServerProcess, free_port


def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_WORKFLOW_")}
    env.pop("DW_ENV", None)
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")})
    return subprocess.run(
        [str(BIN / "durable-workflow"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows_by_path(stdout: str) -> dict[str, str]:
    """ENTRY -> STATUS from the plain table (the first and the last column)."""
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        is_summary = bool(parts) and parts[0].isdigit()  # "40 match, 0 additive, ..."
        if len(parts) >= 2 and parts[-1] in ("match", "additive", "breaking") and not is_summary:
            rows[parts[0]] = parts[-1]
    return rows


def test_dev_server_matches_every_entry(
    dev_server_process: DevServerProcess, tmp_path: Path
) -> None:
    result = run_cli(
        "contract",
        "check",
        "--server",
        dev_server_process.url,
        "--token",
        "e2e-token",
        home=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = rows_by_path(result.stdout)
    assert rows and set(rows.values()) == {"match"}
    assert "worker_protocol.invocable_carrier_contract.version" in rows
    assert result.stdout.rstrip().endswith("0 additive, 0 breaking: match")
    assert "e2e-token" not in result.stdout + result.stderr


def test_json_report_parses_back(dev_server_process: DevServerProcess, tmp_path: Path) -> None:
    result = run_cli(
        "contract",
        "check",
        "--server",
        dev_server_process.url,
        "--token",
        "e2e-token",
        "--json",
        home=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "match"
    assert report["server_url"] == dev_server_process.url
    assert report["counts"]["breaking"] == 0
    assert report["counts"]["match"] == len(report["entries"]) > 0
    entry = next(e for e in report["entries"] if e["path"] == "control_plane.version")
    assert entry == {
        "path": "control_plane.version",
        "expected": "2",
        "actual": "2",
        "status": "match",
    }


@pytest.fixture
def dev_info(dev_server_process: DevServerProcess) -> dict[str, Any]:
    response = httpx.get(
        f"{dev_server_process.url}/api/cluster/info",
        headers={"Authorization": "Bearer e2e-token"},
    )
    response.raise_for_status()
    info: dict[str, Any] = response.json()
    return info


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, Any]], str]]:
    """Serve a fixed cluster-info document over real HTTP; returns its base URL."""
    servers: list[HTTPServer] = []

    def start(info: dict[str, Any]) -> str:
        body = json.dumps(info).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200 if self.path == "/api/cluster/info" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_breaking_bump_fails_and_names_the_entry(
    dev_info: dict[str, Any], serve: Callable[[dict[str, Any]], str], tmp_path: Path
) -> None:
    dev_info["worker_protocol"]["external_task_input_contract"]["version"] = 2
    url = serve(dev_info)
    result = run_cli("contract", "check", "--server", url, home=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    rows = rows_by_path(result.stdout)
    assert rows["worker_protocol.external_task_input_contract.version"] == "breaking"
    assert [p for p, s in rows.items() if s != "match"] == [
        "worker_protocol.external_task_input_contract.version"
    ]
    assert result.stdout.rstrip().endswith("1 breaking: breaking")


def test_a_missing_manifest_fails_closed(
    dev_info: dict[str, Any], serve: Callable[[dict[str, Any]], str], tmp_path: Path
) -> None:
    del dev_info["bridge_adapter_outcome_contract"]
    result = run_cli("contract", "check", "--server", serve(dev_info), "--json", home=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    broken = {e["path"]: e for e in report["entries"] if e["status"] == "breaking"}
    assert set(broken) == {
        "bridge_adapter_outcome_contract.schema",
        "bridge_adapter_outcome_contract.version",
    }
    assert broken["bridge_adapter_outcome_contract.schema"]["actual"] is None


def test_an_additive_change_passes_and_is_reported(
    dev_info: dict[str, Any], serve: Callable[[dict[str, Any]], str], tmp_path: Path
) -> None:
    dev_info["worker_protocol"]["version"] = "1.2"
    dev_info["worker_protocol"]["accepted_request_versions"] = ["1.0", "1.1", "1.2"]
    url = serve(dev_info)
    result = run_cli("contract", "check", "--server", url, home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = rows_by_path(result.stdout)
    assert {p: s for p, s in rows.items() if s != "match"} == {
        "worker_protocol.version": "additive",
        "worker_protocol.accepted_request_versions": "additive",
    }
    report = json.loads(
        run_cli("contract", "check", "--server", url, "--json", home=tmp_path).stdout
    )
    assert report["verdict"] == "additive"
    assert report["counts"] == {"match": len(rows) - 2, "additive": 2, "breaking": 0}


def test_server_from_the_environment_and_unreachable_server(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli("contract", "check", "--server", url, home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot connect to {url}: connection refused")
    bad = run_cli("contract", "check", "--server", "not a url", home=tmp_path)
    assert bad.returncode == 2 and "invalid connection settings" in bad.stderr
