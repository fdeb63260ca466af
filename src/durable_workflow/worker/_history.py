"""Reading a workflow task's history, downloading only what the sticky cache has not seen.

Re-reading a run's whole history on every task makes a long workflow cost
O(n^2) in download and JSON decoding even when replay itself is incremental.
When the worker's cache holds the run and has consumed events up to sequence
S, the reader asks the history endpoint for the events after S with a crafted
page token (base64 of the decimal ``S``, worker-protocol.md §9.3) and hands the
cache ``cached events + tail``. Tokens are documented as opaque, so this is an
optimisation only: a rejected token (400 ``invalid_page_token``), a tail that
does not continue at S + 1, or any disagreement with the poll's first page
falls back to paging the whole history from the poll's own token.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from typing import Any

from durable_workflow import errors
from durable_workflow.client import Client
from durable_workflow.worker._support import reason_of
from durable_workflow.workflow._replay.history_view import HistoryView
from durable_workflow.workflow._replay.sticky import WorkflowCache

__all__ = ["FIRST_PAGE_SIZE", "PAGE_SIZE", "HistoryReader", "page_token_after"]

logger = logging.getLogger("durable_workflow.worker")

#: First page a caching worker asks the poll for: cached runs need little of it.
FIRST_PAGE_SIZE = 20
#: Page size of every history-endpoint call (the protocol's maximum).
PAGE_SIZE = 1000


def page_token_after(sequence: int) -> str:
    """The page token whose next page starts after ``sequence`` (§9.3 encoding)."""
    return base64.b64encode(str(sequence).encode("ascii")).decode("ascii")


def _sequence(event: Any) -> int | None:
    value = event.get("sequence") if isinstance(event, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dicts(events: Any) -> list[dict[str, Any]]:
    return [e for e in events or [] if isinstance(e, dict)]


def _contiguous(events: list[Any], first: int) -> bool:
    """Whether ``events`` carry exactly the sequences ``first``, ``first + 1``, ..."""
    return all(_sequence(event) == first + offset for offset, event in enumerate(events))


class HistoryReader:
    """Returns the full history of a leased workflow task, fetching as little as it can."""

    def __init__(self, client: Client, cache: WorkflowCache | None) -> None:
        self.client = client
        self.cache = cache
        #: How many tasks took the tail-only path / fell back to full paging (for tests, tuning).
        self.tail_reads = 0
        self.tail_fallbacks = 0

    async def read(self, task: dict[str, Any]) -> Sequence[dict[str, Any]]:
        """Every event of the run, as paging from the poll's token to the end would give.

        For a cached run, a view of the cache's events plus the tail (no copy).
        """
        first = _dicts(task.get("history_events"))
        token = task.get("next_history_page_token")
        if not isinstance(token, str) or not token:
            return first
        run_id = str(task.get("run_id") or "")
        known = self.cache.seen_history(run_id) if self.cache is not None and run_id else None
        if known:
            events = await self._after_known(task, first, known)
            if events is not None:
                self.tail_reads += 1
                return events
        first.extend(await self._pages(task, token))
        return first

    async def _after_known(
        self, task: dict[str, Any], first: list[dict[str, Any]], known: HistoryView
    ) -> HistoryView | None:
        """``known`` + the events after it, or ``None`` when full paging must decide."""
        head, last = _sequence(known[0]), _sequence(known[-1])
        page_last = _sequence(first[-1]) if first else None
        if head is None or last is None or page_last is None or last - head + 1 != len(known):
            return None
        if page_last >= last:
            return None  # the poll's own token already starts where the cache stops
        if page_last < head or known[page_last - head] != first[-1]:
            return None  # the cache does not hold this history's first page
        try:
            tail = await self._pages(task, page_token_after(last))
        except errors.DurableWorkflowError as exc:
            if reason_of(exc) != "invalid_page_token":
                raise
            logger.info("task %s: tail page token refused; paging in full", task["task_id"])
            self.tail_fallbacks += 1
            return None
        end = last + len(tail)
        reported = task.get("last_history_sequence")
        if not _contiguous(tail, last + 1) or (
            isinstance(reported, int) and not last <= reported <= end
        ):
            # Not provably the same events full paging would give: let full paging decide.
            self.tail_fallbacks += 1
            return None
        return known.with_tail(tail)

    async def _pages(self, task: dict[str, Any], token: str) -> list[dict[str, Any]]:
        """Every page from ``token`` to the end of the history."""
        events: list[dict[str, Any]] = []
        current: str | None = token
        while current:
            page = await self.client.workflow_task_history(
                task_id=str(task["task_id"]),
                next_history_page_token=current,
                lease_owner=str(task["lease_owner"]),
                workflow_task_attempt=int(task["workflow_task_attempt"]),
                history_page_size=PAGE_SIZE,
            )
            events.extend(_dicts(page.get("history_events")))
            following = page.get("next_history_page_token")
            current = following if isinstance(following, str) and following != current else None
        return events
