"""Human approval: wait for a person's decision, but not for ever.

``ctx.wait_condition(predicate, timeout=...)`` resumes with ``True`` when a
signal made the predicate true and ``False`` when the durable timeout fired
first. The wait costs nothing while it lasts: no worker holds it, and it
survives restarts. A query shows the request's state meanwhile.
"""

from __future__ import annotations

from typing import Any

from _support import run, serving, unique

from durable_workflow import Client, Worker, activity, workflow

TASK_QUEUE = "samples-approval"
APPROVAL_TIMEOUT_SECONDS = 2  # a demo; real ones wait days


@activity.defn(name="notify")
def notify(message: str) -> str:
    return f"notified: {message}"


@workflow.defn(name="expense-approval")
class ExpenseApprovalWorkflow:
    def __init__(self) -> None:
        self.decision: dict[str, str] | None = None

    def run(self, ctx: Any, expense: dict[str, Any]) -> Any:
        yield ctx.schedule_activity("notify", [f"please review {expense['id']}"])
        decided = yield ctx.wait_condition(
            lambda: self.decision is not None,
            key="decision",
            timeout=APPROVAL_TIMEOUT_SECONDS,
        )
        if not decided:
            yield ctx.schedule_activity("notify", [f"{expense['id']} escalated: no answer"])
            return {"expense": expense["id"], "status": "escalated"}
        assert self.decision is not None
        return {"expense": expense["id"], **self.decision}

    @workflow.signal("decide")
    def decide(self, status: str, by: str) -> None:
        if self.decision is None:  # the first decision wins
            self.decision = {"status": status, "by": by}

    @workflow.query("state")
    def state(self) -> str:
        return "pending" if self.decision is None else self.decision["status"]


async def main(client: Client) -> None:
    worker = Worker(
        client, task_queue=TASK_QUEUE, workflows=[ExpenseApprovalWorkflow], activities=[notify]
    )
    async with serving(worker):
        answered = await client.start_workflow(
            workflow_type="expense-approval",
            task_queue=TASK_QUEUE,
            workflow_id=unique("expense"),
            input=[{"id": "EXP-1", "amount": 120}],
        )
        ignored = await client.start_workflow(
            workflow_type="expense-approval",
            task_queue=TASK_QUEUE,
            workflow_id=unique("expense"),
            input=[{"id": "EXP-2", "amount": 900}],
        )
        print("EXP-1 is", (await answered.query("state"))["result"])
        await answered.signal("decide", ["approved", "grace"])
        print(await answered.result(timeout=30))
        print(await ignored.result(timeout=30))


if __name__ == "__main__":
    run(main)
