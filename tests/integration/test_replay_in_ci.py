"""Replay as a CI check, end to end: export with the CLI, replay in a test and with replay-verify.

The bundle the CLI's ``workflow history-export`` writes declares its codec, so
the Replayer, ``testing.replay_histories`` and ``durable-workflow-replay-verify``
need no ``payload_codec=``; changed code fails the check naming the file and step.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import Client, Replayer, Worker, activity
from durable_workflow.errors import NonDeterministicReplayError
from durable_workflow.testing import (
    DevServerHandle,
    HistoryReplayMismatch,
    dev_server,
    replay_histories,
)
from durable_workflow.workflow import CompleteWorkflow, FailWorkflow

QUEUE = "it-replay-ci"
BIN = Path(sys.executable).parent

WORKFLOWS_V1 = textwrap.dedent(
    """
    from durable_workflow import workflow

    @workflow.defn(name="ci-booking")
    class Booking:
        def run(self, ctx, guest, nights):
            room = yield ctx.schedule_activity("ci-reserve", [guest, nights])
            return {"guest": guest, "room": room}

    ALL = [Booking]
    """
)
WORKFLOWS_V2 = WORKFLOWS_V1.replace(
    "        room = yield", "        yield ctx.sleep(60)\n        room = yield"
)
assert WORKFLOWS_V2 != WORKFLOWS_V1


@activity.defn(name="ci-reserve")
def reserve(guest: str, nights: int) -> str:
    return f"room-{len(guest)}{nights}"


def load(source: str, name: str) -> list[type]:
    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(source, name, "exec"), namespace)
    return list(namespace["ALL"])


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevServerHandle, Path]]:
    """A dev server with two finished bookings, each exported by the CLI into one folder."""
    folder = tmp_path_factory.mktemp("histories")
    with dev_server() as server:
        import asyncio

        async def run() -> list[tuple[str, str]]:
            async with Client(server.url) as client:
                (booking,) = load(WORKFLOWS_V1, "ci_v1")
                worker = Worker(client, task_queue=QUEUE, workflows=[booking], activities=[reserve])
                runs = []
                for guest, nights in (("ada", 2), ("grace", 3)):
                    handle = await client.start_workflow(
                        workflow_type="ci-booking",
                        task_queue=QUEUE,
                        workflow_id=f"ci-{guest}",
                        input=[guest, nights],
                    )
                    await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
                    runs.append((handle.workflow_id, str(handle.run_id)))
                return runs

        for workflow_id, run_id in asyncio.run(run()):
            out = subprocess.run(
                [
                    str(BIN / "durable-workflow"),
                    "workflow",
                    "history-export",
                    workflow_id,
                    run_id,
                    "--server",
                    server.url,
                    "--json",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            (folder / f"{workflow_id}.json").write_text(out.stdout, encoding="utf-8")
        yield server, folder


def test_the_replayer_takes_the_codec_from_the_bundle(
    exported: tuple[DevServerHandle, Path],
) -> None:
    _, folder = exported
    bundle = json.loads((folder / "ci-ada.json").read_text(encoding="utf-8"))
    assert bundle["payloads"]["codec"] == "avro"
    outcome = Replayer(workflows=load(WORKFLOWS_V1, "ci_v1")).replay(bundle)
    assert outcome.commands == [CompleteWorkflow({"guest": "ada", "room": "room-32"})]


def test_replay_histories_passes_on_the_code_that_wrote_them(
    exported: tuple[DevServerHandle, Path],
) -> None:
    _, folder = exported
    outcomes = replay_histories(folder, workflows=load(WORKFLOWS_V1, "ci_v1"))
    assert {path.name: o.commands for path, o in outcomes.items()} == {
        "ci-ada.json": [CompleteWorkflow({"guest": "ada", "room": "room-32"})],
        "ci-grace.json": [CompleteWorkflow({"guest": "grace", "room": "room-53"})],
    }


def test_replay_histories_raises_naming_the_file_and_the_step(
    exported: tuple[DevServerHandle, Path],
) -> None:
    _, folder = exported
    with pytest.raises(NonDeterministicReplayError) as raised:
        replay_histories(folder, workflows=load(WORKFLOWS_V2, "ci_v2"))
    assert isinstance(raised.value, HistoryReplayMismatch)
    assert raised.value.path == folder / "ci-ada.json"
    assert raised.value.workflow_sequence == 3
    assert str(raised.value) == (
        f"{folder / 'ci-ada.json'}: non-deterministic replay at step 3: workflow code produced "
        "start_timer(60s) but history recorded ActivityScheduled, ActivityStarted, "
        "ActivityCompleted (workflow code yielded a timer where history recorded a activity)"
    )


def test_the_replayer_keeps_upstreams_return_value_on_a_mismatch(
    exported: tuple[DevServerHandle, Path],
) -> None:
    _, folder = exported
    bundle = json.loads((folder / "ci-ada.json").read_text(encoding="utf-8"))
    replayer = Replayer(workflows=load(WORKFLOWS_V2, "ci_v2"))
    (command,) = replayer.replay(bundle).commands
    assert isinstance(command, FailWorkflow)
    assert command.exception_type == "NonDeterministicReplayError"
    with pytest.raises(NonDeterministicReplayError):
        replayer.replay_or_raise(bundle)


def test_an_empty_folder_is_an_error_not_a_pass(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as raised:
        replay_histories(tmp_path, workflows=load(WORKFLOWS_V1, "ci_v1"))
    assert str(raised.value) == f"no *.json histories in {tmp_path}"


def _verify(folder: Path, module_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{module_dir}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    return subprocess.run(
        [
            str(BIN / "durable-workflow-replay-verify"),
            str(folder),
            "--workflows",
            "ci_flows:ALL",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("source", "code", "status"), [(WORKFLOWS_V1, 0, "replayed"), (WORKFLOWS_V2, 1, "drifted")]
)
def test_replay_verify_accepts_the_clis_export_bundles(
    exported: tuple[DevServerHandle, Path], tmp_path: Path, source: str, code: int, status: str
) -> None:
    _, folder = exported
    (tmp_path / "ci_flows.py").write_text(source, encoding="utf-8")
    result = _verify(folder, tmp_path)
    assert result.returncode == code, result.stderr
    report = json.loads(result.stdout)
    assert report["fixture_schema"] == "durable-workflow.v2.history-export"
    assert report["missing_families"] == []
    assert report["status"] == status
    assert [case["status"] for case in report["cases"]] == [status, status]
    assert report["cases"][0]["id"].startswith("ci-ada.json::ci-ada/")
    if status == "drifted":
        assert "non-deterministic replay at step 3" in report["cases"][0]["error"]["message"]
