"""`nox -s compat -- --against OLD` judges a bump of contracts/server-2.x, offline."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import BIN, REPO

SPECS = "contracts/server-2.x"
WORKER = "worker-protocol-api.openapi.yaml"


def _nox_compat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "nox"), "-s", "compat", "--", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _edit_worker_document(folder: Path, change: str) -> None:
    path = folder / WORKER
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if change == "remove-operation":
        del doc["paths"]["/worker/heartbeat"]
    else:
        request = doc["components"]["schemas"]["WorkerRegistrationRequest"]
        request["properties"]["locale"] = {"type": "string"}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")


@pytest.mark.timeout(180)
def test_removed_operation_fails_the_session(tmp_path: Path) -> None:
    new = tmp_path / "new"
    shutil.copytree(REPO / SPECS, new)
    _edit_worker_document(new, "remove-operation")
    result = _nox_compat("--against", str(REPO / SPECS), "--contracts", str(new))
    assert result.returncode != 0, result.stdout + result.stderr
    assert "BREAKING  heartbeatWorker: operation removed" in result.stdout


@pytest.mark.timeout(180)
def test_a_git_revision_is_the_old_copy(tmp_path: Path) -> None:
    """``--against HEAD`` reads the folder as committed; a new optional field passes."""
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("needs the git checkout")
    new = tmp_path / "new"
    names = subprocess.run(
        [git, "ls-tree", "-r", "--name-only", "HEAD", SPECS],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in names:
        target = new / Path(name).relative_to(SPECS)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(
            subprocess.run(
                [git, "show", f"HEAD:{name}"], cwd=REPO, capture_output=True, check=True
            ).stdout
        )
    _edit_worker_document(new, "add-field")
    result = _nox_compat("--against", "HEAD", "--contracts", str(new))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ADDITIVE  WorkerRegistrationRequest.locale: optional field added" in result.stdout
    assert "1 additive, 0 breaking: additive" in result.stdout
