"""The ``durable-workflow`` console entry point as a real process against the dev server."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from durable_workflow.testing import DevServerHandle, dev_server


@pytest.fixture(scope="module")
def server() -> Iterator[DevServerHandle]:
    with dev_server(token="proc-token") as handle:
        yield handle


def _cli(server: DevServerHandle, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "durable_workflow.cli",
            *argv,
            "--server",
            server.url,
            "--token",
            server.token or "",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_namespace_create_and_list_as_json(server: DevServerHandle) -> None:
    name = f"proc-{uuid.uuid4().hex[:8]}"
    created = _cli(server, "namespace", "create", name, "--retention", "3", "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["name"] == name
    listed = _cli(server, "namespace", "list", "--output", "json")
    assert listed.returncode == 0, listed.stderr
    assert name in [ns["name"] for ns in json.loads(listed.stdout)["namespaces"]]


def test_table_output_and_error_exit_code(server: DevServerHandle) -> None:
    table = _cli(server, "namespace", "describe", "default")
    assert table.returncode == 0, table.stderr
    assert "default" in table.stdout and "name" in table.stdout
    missing = _cli(server, "workflow", "describe", f"no-such-{uuid.uuid4().hex[:6]}")
    assert missing.returncode == 1
    assert "error:" in missing.stderr and "Traceback" not in missing.stderr
