"""Ready tasks of a queue in claim order, read a few at a time.

A claim usually takes the first candidate, so reading (and turning into
dicts) a hundred rows per probe was most of its cost on a busy queue.
Candidates come in pages of ``PAGE`` by keyset on ``(available_at, id)``
(the ``tasks_ready`` index order), up to ``LIMIT`` in all: the same tasks in
the same order as one ``LIMIT 100`` query, since a claim only changes rows it
has already been given.
"""

from __future__ import annotations

from collections.abc import Iterator

from durable_workflow.server.store.rows import TaskRow
from durable_workflow.server.store.tx import Tx

PAGE = 10
LIMIT = 100

_SQL = (
    "SELECT * FROM tasks WHERE namespace = ? AND queue = ? AND task_type = ?"
    " AND status = 'ready' AND available_at <= ? AND (available_at, id) > (?, ?)"
    f" ORDER BY available_at, id LIMIT {PAGE}"
)


def ready_tasks(
    tx: Tx, namespace: str, queue: str, task_type: str, horizon: str
) -> Iterator[TaskRow]:
    """Ready ``task_type`` tasks available by ``horizon``, oldest first, at most ``LIMIT``."""
    after = ("", "")
    given = 0
    while given < LIMIT:
        rows = tx.all(_SQL, (namespace, queue, task_type, horizon, *after), row=TaskRow)
        yield from rows[: LIMIT - given]
        given += len(rows)
        if len(rows) < PAGE:
            return
        after = (rows[-1]["available_at"], rows[-1]["id"])
