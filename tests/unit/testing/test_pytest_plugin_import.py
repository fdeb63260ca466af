"""Every pytest run loads the plugin (entry point pytest11): loading it must stay cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"


def test_loading_the_plugin_does_not_import_the_sdk() -> None:
    code = (
        "import sys, durable_workflow_pytest; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'durable_workflow'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"


def test_the_sdk_name_re_exports_the_plugin() -> None:
    import durable_workflow_pytest
    from durable_workflow.testing import pytest_plugin

    assert pytest_plugin.running_worker is durable_workflow_pytest.running_worker
    assert pytest_plugin.durable_workflow_server is durable_workflow_pytest.durable_workflow_server
