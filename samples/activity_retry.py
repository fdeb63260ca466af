"""Activity retries: a flaky activity succeeds on its third attempt; a bad input is not retried.

The retry policy travels with the schedule command and the *server* runs the
retries, so they survive a worker restart. ``non_retryable_error_types`` (or
raising ``NonRetryableError``) stops retrying at once and hands the failure to
the workflow as ``ActivityFailed``.
"""

from __future__ import annotations

from typing import Any

from _support import run, unique

from durable_workflow import (
    ActivityFailed,
    ActivityRetryPolicy,
    Client,
    Worker,
    activity,
    workflow,
)

TASK_QUEUE = "samples-retry"


class InvalidCard(Exception):
    """A failure no retry can fix."""


@activity.defn(name="charge-card")
def charge_card(card: str, amount: int) -> str:
    attempt = activity.context().info.attempt_number
    if card.startswith("0000"):
        raise InvalidCard(f"card {card} is not valid")
    if attempt < 3:
        raise ConnectionError(f"payment gateway timed out (attempt {attempt})")
    return f"charged {amount} on attempt {attempt}"


@workflow.defn(name="charge-with-retries")
class ChargeWorkflow:
    def run(self, ctx: Any, card: str, amount: int) -> Any:
        policy = ActivityRetryPolicy(
            max_attempts=5,
            initial_interval_seconds=0,  # retry at once: this is a demo
            non_retryable_error_types=["InvalidCard"],
        )
        try:
            return (
                yield ctx.schedule_activity(
                    "charge-card", [card, amount], retry_policy=policy, start_to_close_timeout=10
                )
            )
        except ActivityFailed as failure:
            return f"gave up: {failure.exception_type}: {failure.message}"


async def main(client: Client) -> None:
    for card in ("4111-1111", "0000-0000"):
        worker = Worker(
            client, task_queue=TASK_QUEUE, workflows=[ChargeWorkflow], activities=[charge_card]
        )
        handle = await client.start_workflow(
            workflow_type="charge-with-retries",
            task_queue=TASK_QUEUE,
            workflow_id=unique("charge"),
            input=[card, 42],
        )
        await worker.run_until(workflow_id=handle.workflow_id, timeout=30)
        print(f"{card}: {await handle.result()}")


if __name__ == "__main__":
    run(main)
