"""A CLI user's connection and start-up mistakes: one line naming the URL, the cause and the fix.

No traceback, a non-zero exit, and for ``start-dev`` on a busy port the error
comes before the banner.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from .conftest import BIN, DevServerProcess, free_port

START_DEV = (
    "start a local server with `durable-workflow server start-dev`, or pass the right URL "
    "with --server / DURABLE_WORKFLOW_SERVER_URL"
)


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_WORKFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "durable_workflow.cli", *argv],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_connection_refused_is_one_line_naming_the_url_and_start_dev() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = cli("workflow", "list", "--server", url)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: cannot connect to {url}: connection refused (is the server running?); "
        f"{START_DEV}\n"
    )


def test_https_against_the_plain_http_dev_server_names_the_scheme(
    dev_server_process: DevServerProcess,
) -> None:
    url = f"https://127.0.0.1:{dev_server_process.port}"
    result = cli("workflow", "list", "--server", url, "--token", "e2e-token")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: cannot connect to {url}: the TLS handshake failed (")
    assert lines[0].endswith(
        f"); the server speaks plain HTTP, so use http://127.0.0.1:{dev_server_process.port} "
        "(--server / DURABLE_WORKFLOW_SERVER_URL)"
    )


def test_a_wrong_or_missing_token_names_the_server_and_the_two_ways_to_pass_one(
    dev_server_process: DevServerProcess,
) -> None:
    expected = (
        f"error: Unauthenticated. (HTTP 401 from {dev_server_process.url}): the token is "
        "missing or wrong; pass the server's token with --token or DURABLE_WORKFLOW_AUTH_TOKEN "
        "(a dev server started with --token T accepts exactly T)\n"
    )
    wrong = cli("workflow", "list", "--server", dev_server_process.url, "--token", "nope")
    assert (wrong.returncode, wrong.stderr) == (1, expected)
    missing = cli("workflow", "list", env={"DURABLE_WORKFLOW_SERVER_URL": dev_server_process.url})
    assert (missing.returncode, missing.stderr) == (1, expected)
    right = cli("workflow", "list", env={"DURABLE_WORKFLOW_SERVER_URL": dev_server_process.url,
                                         "DURABLE_WORKFLOW_AUTH_TOKEN": "e2e-token"})  # fmt: skip
    assert right.returncode == 0, right.stderr


def test_contract_check_reports_a_refused_connection_the_same_way() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = cli("contract", "check", "--server", url)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: cannot connect to {url}: connection refused (is the server running?); "
        f"{START_DEV}\n"
    )


def test_start_dev_on_a_busy_port_fails_before_the_banner(tmp_path: object) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                str(BIN / "durable-workflow"),
                "server",
                "start-dev",
                "--port",
                str(port),
                "--db",
                f"{tmp_path}/dev.sqlite",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert result.stdout == ""  # no banner, no "Press Ctrl-C to stop."
    assert result.stderr == (
        f"error: cannot listen on 127.0.0.1:{port}: the address is already in use (another dev "
        f"server?); stop that process or pick another port: --port {port + 1}\n"
    )
