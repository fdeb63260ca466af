"""Side effects and versioning: non-deterministic values, and changing code under running workflows.

Workflow code is replayed from history, so it must compute the same commands
every time. ``ctx.side_effect(fn)`` runs ``fn`` once and records its value;
replays read the record instead of calling ``fn`` again. ``ctx.patched(id)``
lets new code take a new path while histories recorded before the change
replay down the old one. The sample runs version 1, changes the workflow,
replays the old history against version 2, then runs version 2.
"""

from __future__ import annotations

import random
from typing import Any

from _support import run, unique

from durable_workflow import Client, Replayer, Worker, activity, workflow

TASK_QUEUE = "samples-versioning"
DESIGNS = ["balloons", "cake", "confetti", "stars"]


@activity.defn(name="print-card")
def print_card(design: str, name: str) -> str:
    return f"{design} card for {name}"


@activity.defn(name="gift-wrap")
def gift_wrap(design: str) -> str:
    return f"gift-wrapped {design}"


@workflow.defn(name="greeting-card")
class CardWorkflowV1:
    def run(self, ctx: Any, name: str) -> Any:
        # random.choice would differ on replay; the recorded side effect does not.
        design = yield ctx.side_effect(lambda: random.choice(DESIGNS))
        card = yield ctx.schedule_activity("print-card", [design, name])
        return {"design": design, "card": card}


@workflow.defn(name="greeting-card")
class CardWorkflowV2:
    def run(self, ctx: Any, name: str) -> Any:
        design = yield ctx.side_effect(lambda: random.choice(DESIGNS))
        # The change: a new step before printing. Runs recorded before it have no
        # marker here, so they replay down the old path.
        if (yield ctx.patched("gift-wrap")):
            design = yield ctx.schedule_activity("gift-wrap", [design])
        card = yield ctx.schedule_activity("print-card", [design, name])
        return {"design": design, "card": card}


async def run_card(client: Client, workflow_cls: type, name: str) -> tuple[Any, Any]:
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[workflow_cls],
        activities=[print_card, gift_wrap],
    )
    handle = await client.start_workflow(
        workflow_type="greeting-card",
        task_queue=TASK_QUEUE,
        workflow_id=unique("card"),
        input=[name],
    )
    await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
    return handle, await handle.result()


async def main(client: Client) -> None:
    old_handle, old = await run_card(client, CardWorkflowV1, "Ada")
    print("v1 run:", old["card"])

    # Deploying v2 must not break runs recorded by v1: replay one against v2.
    history = await client.get_history(old_handle.workflow_id, old_handle.run_id)
    codec = (await old_handle.describe()).payload_codec  # how the run's values are encoded
    outcome = Replayer(workflows=[CardWorkflowV2]).replay(history, payload_codec=codec)
    print("v1 history replayed on v2:", outcome.commands)

    _, new = await run_card(client, CardWorkflowV2, "Grace")
    print("v2 run:", new["card"])


if __name__ == "__main__":
    run(main)
