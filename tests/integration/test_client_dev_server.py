"""Client spine against the real dev server: discovery, compatibility, errors, history."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from generations import SpecCheck

from durable_workflow import errors
from durable_workflow._compat import check_cluster_info, compare_manifest
from durable_workflow.client import Client
from durable_workflow.testing import DevServerHandle, async_dev_server


@pytest.fixture
async def server(generation: int) -> AsyncIterator[DevServerHandle]:
    async with async_dev_server(
        poll_timeout=2.0,
        token="it-token",
        generation=generation,  # type: ignore[arg-type]
    ) as handle:
        yield handle


@pytest.fixture
async def client(server: DevServerHandle, spec: SpecCheck) -> AsyncIterator[Client]:
    async with spec.attach(Client(server.url, token=server.token)) as c:
        yield c


async def test_health_and_cluster_info_pass_the_compatibility_check(
    client: Client, server: DevServerHandle
) -> None:
    assert isinstance(await client.health(), dict)
    info = await client.get_cluster_info()
    check_cluster_info(info)
    rows = compare_manifest(info)
    assert rows and all(row.ok for row in rows), [row for row in rows if not row.ok]
    profile = await client.server_profile()
    assert (profile.generation, profile.source) == (server.generation, "discovered")


async def test_wrong_token_is_unauthorized(server: DevServerHandle) -> None:
    async with Client(server.url, token="wrong") as client:
        with pytest.raises(errors.Unauthorized):
            await client.describe_workflow("anything")


async def test_unknown_workflow_is_workflow_not_found(client: Client) -> None:
    with pytest.raises(errors.WorkflowNotFound) as caught:
        await client.describe_workflow("no-such-id")
    assert caught.value.workflow_id == "no-such-id"


async def test_start_describe_history_and_runs(client: Client) -> None:
    workflow_id = f"it-client-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        workflow_type="nobody-polls-this",
        task_queue="it-idle",
        workflow_id=workflow_id,
        input=[{"n": 1}, "two"],
    )
    assert handle.workflow_id == workflow_id and handle.run_id
    execution = await client.describe_workflow(workflow_id)
    assert execution.input == [{"n": 1}, "two"]
    assert execution.run_id == handle.run_id
    assert not execution.is_terminal
    run = await handle.describe_run()
    assert (run.run_id, run.run_number) == (handle.run_id, 1)
    runs = await client.list_workflow_runs(workflow_id)
    assert [r.run_id for r in runs.runs] == [handle.run_id]
    history = await handle.get_history()
    assert history["events"][0]["sequence"] == 1
    with pytest.raises(errors.WorkflowAlreadyStarted):
        await client.start_workflow(
            workflow_type="nobody-polls-this", task_queue="it-idle", workflow_id=workflow_id
        )
    with pytest.raises(TimeoutError):
        await client.get_result(handle, poll_interval=0.05, timeout=0.3)


def test_contract_check_names_the_generation_it_found(
    server: DevServerHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    from durable_workflow.cli import main

    code = main(["contract", "check", "--server", server.url, "--token", "it-token"])
    out = capsys.readouterr().out
    assert code == 0, out
    contracts = "contracts/server-2.x" if server.generation == 2 else "contracts/manifest.json"
    assert f"server generation: {server.generation} (" in out
    assert f"judged by {contracts}" in out
    assert out.rstrip().endswith("0 breaking: match")
