"""`durable-workflow carrier run` through the console script delegates to the carrier runner."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from durable_workflow.carriers.executor_config import CONFIG_PATH_ENV

from .conftest import BIN, REPO

SECRET = "tok-ENDPOINT-SECRET-4411"

EXECUTOR_CONFIG = {
    "schema": "durable-workflow.external-executor.config",
    "version": 1,
    "defaults": {"task_queue": "carrier-q", "namespace": "billing"},
    "auth_refs": {"prod": {"type": "env", "env": "PROD_ENDPOINT_TOKEN"}},
    "carriers": {
        "http": {"type": "invocable_http", "url": "https://fn.example/invoke"},
        "proc": {"type": "process", "command": ["run"]},
    },
    "mappings": [
        {
            "name": "charge",
            "kind": "activity",
            "activity_type": "billing.charge",
            "carrier": "http",
            "handler": "charge",
            "auth_ref": "prod",
        },
        {
            "name": "start",
            "kind": "workflow_start",
            "workflow_type": "invoice",
            "carrier": "proc",
            "handler": "x",
        },
    ],
}


def run_cli(
    *args: str, home: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DURABLE_WORKFLOW_", "DW_"))}
    full.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config")})
    full.update(env or {})
    return subprocess.run(
        [str(BIN / "durable-workflow"), *args],
        cwd=REPO,
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write_config(tmp_path: Path, document: dict[str, object]) -> Path:
    path = tmp_path / "executor.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_help_is_the_runners_help(tmp_path: Path) -> None:
    result = run_cli("carrier", "run", "--help", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: durable-workflow carrier run")
    for flag in ("--config", "--overlay", "--server-url", "--check", "--max-concurrent-tasks"):
        assert flag in result.stdout
    top = run_cli("--help", home=tmp_path)
    assert top.returncode == 0 and "carrier" in top.stdout and "contract" in top.stdout


def test_check_prints_the_mappings_without_secrets(tmp_path: Path) -> None:
    path = write_config(tmp_path, EXECUTOR_CONFIG)
    result = run_cli(
        "carrier",
        "run",
        "--config",
        str(path),
        "--server-url",
        "http://127.0.0.1:9",
        "--check",
        home=tmp_path,
        env={"PROD_ENDPOINT_TOKEN": SECRET},
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["server_url"] == "http://127.0.0.1:9"
    assert summary["namespace"] == "billing"
    assert [m["activity_type"] for m in summary["mappings"]] == ["billing.charge"]
    assert summary["mappings"][0]["url"] == "https://fn.example/invoke"
    assert summary["mappings"][0]["auth_ref"] == "prod"
    assert summary["not_dispatched"] == ["start"]
    assert SECRET not in result.stdout + result.stderr


def test_config_path_from_the_environment(tmp_path: Path) -> None:
    path = write_config(tmp_path, EXECUTOR_CONFIG)
    result = run_cli("carrier", "run", "--check", home=tmp_path, env={CONFIG_PATH_ENV: str(path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["mappings"][0]["name"] == "charge"


def test_invalid_or_missing_config_exits_2(tmp_path: Path) -> None:
    broken = dict(EXECUTOR_CONFIG, mappings=[])
    result = run_cli(
        "carrier", "run", "--config", str(write_config(tmp_path, broken)), "--check", home=tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.startswith("invalid executor config:")
    missing = run_cli("carrier", "run", home=tmp_path)
    assert missing.returncode == 2 and "--config" in missing.stderr
