"""The pytest plugin's fixtures, used by a test project as a user writes it (a pytest subprocess).

The project's test talks to the session dev server through ``durable_workflow_client``,
runs a workflow and an activity on ``durable_workflow_worker`` twice (two queues, one
server), and checks the server is shared across tests of the session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

USER_TESTS = """
from typing import Any

import pytest

from durable_workflow import activity, workflow

SERVERS = []


@activity.defn(name="pp-shout")
def shout(text: str) -> str:
    return text.upper()


@workflow.defn(name="pp-shouter")
class Shouter:
    def run(self, ctx: Any, text: str) -> Any:
        return (yield ctx.schedule_activity("pp-shout", [text]))


@pytest.mark.parametrize("text", ["ada", "grace"])
async def test_round_trip(durable_workflow_server, durable_workflow_client,
                          durable_workflow_worker, text):
    SERVERS.append(durable_workflow_server.url)
    async with durable_workflow_worker(workflows=[Shouter], activities=[shout]) as worker:
        handle = await durable_workflow_client.start_workflow(
            workflow_type="pp-shouter", task_queue=worker.task_queue,
            workflow_id=f"pp-{text}", input=[text],
        )
        assert await handle.result(timeout=20) == text.upper()


def test_one_server_for_the_session(durable_workflow_server):
    assert SERVERS == [durable_workflow_server.url] * 2
    assert durable_workflow_server.url.startswith("http://127.0.0.1:")
    assert durable_workflow_server.db_path.exists()
"""


def test_fixtures_serve_a_user_test_project(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DURABLE_WORKFLOW_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "durable_workflow.testing.pytest_plugin",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-o",
            "asyncio_mode=auto",
            "-q",
            str(tmp_path / "test_user.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
