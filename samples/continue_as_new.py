"""Continue-as-new: a long-lived workflow restarts itself with fresh history.

History grows with every step, so a loop that runs for ever would replay an
ever longer history. ``yield ctx.continue_as_new(*args)`` closes this run and
starts a new run of the same workflow id with ``args``; ``get_result`` follows
the chain to the last run.
"""

from __future__ import annotations

from typing import Any

from _support import run, unique

from durable_workflow import Client, Worker, activity, workflow

TASK_QUEUE = "samples-continue"
BATCHES_PER_RUN = 2


@activity.defn(name="process-batch")
def process_batch(batch: int) -> int:
    return batch * 10  # records processed


@workflow.defn(name="nightly-import")
class ImportWorkflow:
    def run(self, ctx: Any, next_batch: int, last_batch: int, total: int) -> Any:
        for _ in range(BATCHES_PER_RUN):
            if next_batch > last_batch:
                return {"batches": last_batch, "records": total}
            total += yield ctx.schedule_activity("process-batch", [next_batch])
            next_batch += 1
        # Keep each run's history short: hand the state to a fresh run.
        yield ctx.continue_as_new(next_batch, last_batch, total)


async def main(client: Client) -> None:
    worker = Worker(
        client, task_queue=TASK_QUEUE, workflows=[ImportWorkflow], activities=[process_batch]
    )
    handle = await client.start_workflow(
        workflow_type="nightly-import",
        task_queue=TASK_QUEUE,
        workflow_id=unique("import"),
        input=[1, 5, 0],
    )
    await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
    print(await handle.result())
    runs = await client.list_workflow_runs(handle.workflow_id)
    print(f"runs: {runs.run_count}")


if __name__ == "__main__":
    run(main)
