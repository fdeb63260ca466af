"""Three ways to test a workflow with pytest, fastest first.

1. ``WorkflowEnvironment``: the workflow code alone, activities mocked, no
   server; timers fire at once, so a day-long timeout costs nothing.
2. The built-in dev server (``dev_server``) with a real ``Worker``:
   the whole path over HTTP, as in production.
3. Replay: the history of the run from (2) replayed against the code, the
   check that keeps a code change from breaking runs already in flight.

Run: ``python -m pytest samples/pytest_testing -q``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from loan import LoanWorkflow, credit_score

from durable_workflow import Client, Replayer, Worker
from durable_workflow.testing import DevServerHandle, WorkflowEnvironment, dev_server
from durable_workflow.workflow import CompleteWorkflow


def test_good_score_is_approved_without_review() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("credit-score", 750)
    result = env.execute_workflow(LoanWorkflow, "Bo", 5000)
    assert result == {"applicant": "Bo", "decision": "approved", "score": 750}


def test_low_score_follows_the_reviewers_signal() -> None:
    env = WorkflowEnvironment()
    env.register_activity("credit-score", lambda applicant: 610)
    env.signal("review", ["approved"])
    assert env.execute_workflow(LoanWorkflow, "Bo", 5000)["decision"] == "approved"


def test_low_score_without_review_is_declined_when_the_day_is_over() -> None:
    env = WorkflowEnvironment()
    env.register_activity_result("credit-score", 610)
    assert env.execute_workflow(LoanWorkflow, "Bo", 5000)["decision"] == "declined"


@pytest.fixture(scope="module")
def server() -> Iterator[DevServerHandle]:
    """One dev server for the module: start-up costs about a second."""
    with dev_server() as handle:
        yield handle


@pytest.fixture
async def client(server: DevServerHandle) -> AsyncIterator[Client]:
    async with Client(server.url, token=server.token) as c:
        yield c


async def run_loan(client: Client, applicant: str) -> tuple[str, str]:
    """Start one application and serve it to completion; return its workflow and run id."""
    worker = Worker(
        client, task_queue="pytest-loans", workflows=[LoanWorkflow], activities=[credit_score]
    )
    handle = await client.start_workflow(
        workflow_type="loan-application",
        task_queue="pytest-loans",
        workflow_id=f"loan-{uuid.uuid4().hex[:8]}",
        input=[applicant, 5000],
    )
    await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
    assert handle.run_id is not None
    return handle.workflow_id, handle.run_id


async def test_end_to_end_on_the_dev_server(client: Client) -> None:
    workflow_id, _ = await run_loan(client, "Ada")
    result = await client.get_workflow_handle(workflow_id).result()
    assert result == {"applicant": "Ada", "decision": "approved", "score": 720}


async def test_recorded_history_replays_against_the_current_code(client: Client) -> None:
    workflow_id, run_id = await run_loan(client, "Ada")
    history = await client.get_history(workflow_id, run_id)
    codec = (await client.describe_workflow(workflow_id)).payload_codec
    outcome = Replayer(workflows=[LoanWorkflow]).replay(history, payload_codec=codec)
    # A change that broke determinism would show up here as a FailWorkflow command.
    assert outcome.commands == [
        CompleteWorkflow({"applicant": "Ada", "decision": "approved", "score": 720})
    ]
