"""Fan-out/fan-in batch: process many items in parallel activities, then combine.

Yielding a list of commands schedules them all at once; the workflow resumes
with their results in the same order once every one has finished. Large jobs
go in chunks, so one step never holds thousands of open activities, and the
worker's ``max_concurrent_activity_tasks`` bounds the parallelism.
"""

from __future__ import annotations

import time
from typing import Any

from _support import run, unique

from durable_workflow import Client, Worker, activity, workflow

TASK_QUEUE = "samples-batch"
CHUNK = 4

PAGES = [
    "the quick brown fox",
    "jumps over the lazy dog",
    "durable workflows resume where they stopped",
    "activities do the work",
    "workflows decide what happens next",
    "history is the source of truth",
    "replay rebuilds the state",
    "timers live on the server",
    "signals carry news in",
    "queries read state out",
]


@activity.defn(name="count-words")
def count_words(page: str) -> dict[str, int]:
    time.sleep(0.05)  # pretend this is slow
    counts: dict[str, int] = {}
    for word in page.split():
        counts[word] = counts.get(word, 0) + 1
    return counts


@workflow.defn(name="word-count")
class WordCountWorkflow:
    def run(self, ctx: Any, pages: list[str]) -> Any:
        totals: dict[str, int] = {}
        for start in range(0, len(pages), CHUNK):
            chunk = pages[start : start + CHUNK]
            counts = yield [ctx.schedule_activity("count-words", [page]) for page in chunk]
            for page_counts in counts:
                for word, n in page_counts.items():
                    totals[word] = totals.get(word, 0) + n
        top = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:3]
        return {"pages": len(pages), "words": sum(totals.values()), "top": top}


async def main(client: Client) -> None:
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[WordCountWorkflow],
        activities=[count_words],
        max_concurrent_activity_tasks=4,
    )
    handle = await client.start_workflow(
        workflow_type="word-count",
        task_queue=TASK_QUEUE,
        workflow_id=unique("word-count"),
        input=[PAGES],
    )
    await worker.run_until(workflow_id=handle.workflow_id, timeout=60)
    print(await handle.result())


if __name__ == "__main__":
    run(main)
