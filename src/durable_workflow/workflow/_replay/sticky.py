"""Sticky workflow cache: keep replayed instances between tasks, feed them only new events.

Without a cache, every workflow task replays the run's whole history, so a
run of N steps costs O(N^2) over its life. :class:`WorkflowCache` keeps the
suspended instance after a task and, on the next task of the same run,
resumes it with only the events it has not seen: O(new events).

Usage (what a worker does per workflow task)::

    cache = WorkflowCache(max_entries=512, max_bytes=64 * 1024 * 1024)

    outcome = cache.get_or_replay(
        run_id,                 # cache key, and the run id that seeds ctx.random()/uuid4()
        workflow_cls,           # the @workflow.defn class
        history_events,         # the run's FULL history so far (list or {"events": [...]})
        start_input,            # as for workflow.replay()
        workflow_id=workflow_id,
        payload_codec=codec,
    )
    commands = outcome.commands  # same as workflow.replay(...) would return

    cache.evict(run_id)          # e.g. when the task failed or the lease was lost

Correctness: the result is always what a full replay of ``history_events``
returns (a property test checks this over random histories). A cached
instance is used only if the history still starts with every event it saw
(checked cheaply: same length or longer, and the last seen event is equal),
the workflow class, id and codec match, and the new events cannot change
anything the instance already executed; otherwise the call falls back to a
full replay (counted in :attr:`WorkflowCache.stats`). Only the tail
``history_events[seen:]`` is read on a hit, so a caller passing the full list
each task still pays linear cost overall.

Bounds: at most ``max_entries`` instances and about ``max_bytes`` of history
(an estimate from the events each instance holds). The least recently used
entry is evicted first. An instance is taken out of the cache while it runs,
so eviction never touches a running replay, and two tasks of one run at once
simply make the second one replay in full. Terminal outcomes and errors drop
the entry. Thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from durable_workflow.codecs import PayloadCodec
from durable_workflow.converter import DataConverter
from durable_workflow.external_storage import ExternalPayloadCache, ExternalStorageDriver
from durable_workflow.workflow._replay.driver import (
    ReplayOutcome,
    ResumeNotPossible,
    WorkflowDriver,
)
from durable_workflow.workflow._replay.history import history_list
from durable_workflow.workflow._replay.history_view import HistoryView

__all__ = ["CacheStats", "WorkflowCache", "approximate_size"]


def approximate_size(value: Any, _depth: int = 0) -> int:
    """A rough byte size of a JSON-like value (what an event costs to keep in memory)."""
    if isinstance(value, str):
        return 49 + len(value)
    if _depth > 32:
        return 64
    if isinstance(value, Mapping):
        return 64 + sum(
            approximate_size(k, _depth + 1) + approximate_size(v, _depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, (list, tuple)):
        return 56 + sum(8 + approximate_size(item, _depth + 1) for item in value)
    return 32


@dataclass
class CacheStats:
    """Counters for tuning: hits resumed an instance, misses and fallbacks replayed in full."""

    hits: int = 0
    misses: int = 0
    fallbacks: int = 0
    evictions: int = 0


@dataclass
class _Entry:
    driver: WorkflowDriver
    workflow_cls: type
    workflow_id: str | None
    payload_codec: str | None
    seen: int
    last_raw: Any
    size: int
    # The raw events consumed so far (append-only; ``seen_history`` views it).
    history: list[Any]


class WorkflowCache:
    """A bounded LRU of suspended workflow instances keyed by run id."""

    def __init__(self, *, max_entries: int = 512, max_bytes: int = 64 * 1024 * 1024) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        if max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._entries

    @property
    def approximate_bytes(self) -> int:
        """Estimated memory held by cached histories."""
        return self._bytes

    def evict(self, run_id: str) -> bool:
        """Drop ``run_id``'s instance; True if there was one."""
        return self._take(run_id) is not None

    def seen_history(self, run_id: str) -> HistoryView | None:
        """The raw events ``run_id``'s cached instance has consumed, in order.

        A read-only view, not a copy: a worker downloads only the events after
        these and hands ``seen.with_tail(tail)`` to :meth:`get_or_replay`, so a
        task costs its new events, not the run's length. ``None`` when the run is
        not cached (or one of its tasks is running right now).
        """
        with self._lock:
            entry = self._entries.get(run_id)
            if entry is None:
                return None
            return HistoryView(entry.history, entry.seen)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _take(self, run_id: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.pop(run_id, None)
            if entry is not None:
                self._bytes -= entry.size
            return entry

    def _put(self, run_id: str, entry: _Entry) -> None:
        if entry.size > self.max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(run_id, None)
            if previous is not None:
                self._bytes -= previous.size
            self._entries[run_id] = entry
            self._bytes += entry.size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, old = self._entries.popitem(last=False)
                self._bytes -= old.size
                self.stats.evictions += 1

    @staticmethod
    def _continues(entry: _Entry, raw: Sequence[Any]) -> bool:
        return len(raw) >= entry.seen and (entry.seen == 0 or raw[entry.seen - 1] == entry.last_raw)

    def get_or_replay(
        self,
        run_id: str,
        workflow_cls: type,
        history_events: Any,
        start_input: Any,
        *,
        workflow_id: str | None = None,
        payload_codec: str | None = None,
        external_storage: ExternalStorageDriver | None = None,
        external_storage_cache: ExternalPayloadCache | None = None,
        payload_codec_chain: PayloadCodec | None = None,
        converter: DataConverter | None = None,
    ) -> ReplayOutcome:
        """The outcome of replaying ``history_events``, resuming a cached instance if possible.

        Raises what :func:`durable_workflow.workflow.replay` raises; the storage
        options (or one ``converter`` holding them) are those of ``replay()``.
        """
        reader = DataConverter.from_options(
            converter,
            external_storage=external_storage,
            storage_cache=external_storage_cache,
            codec_chain=payload_codec_chain,
        )
        raw: Sequence[Any] = (
            history_events
            if isinstance(history_events, HistoryView)
            else history_list(history_events)
        )
        entry = self._take(run_id)
        if entry is not None:
            usable = (
                entry.workflow_cls is workflow_cls
                and entry.workflow_id == workflow_id
                and entry.payload_codec == payload_codec
                and entry.driver.scope.converter.external_storage is reader.external_storage
                and entry.driver.scope.converter.codec_chain is reader.codec_chain
                and self._continues(entry, raw)
            )
            if usable:
                tail = raw[entry.seen :]
                try:
                    outcome = entry.driver.resume(tail)
                except ResumeNotPossible:
                    self.stats.fallbacks += 1
                except Exception:
                    # Let a full replay raise (or not) exactly as it would uncached.
                    self.stats.fallbacks += 1
                else:
                    self.stats.hits += 1
                    entry.history.extend(tail)
                    entry.seen = len(raw)
                    entry.last_raw = raw[-1] if raw else None
                    entry.size += sum(approximate_size(item) for item in tail)
                    self._keep(run_id, entry, outcome)
                    return outcome
            else:
                self.stats.fallbacks += 1
        else:
            self.stats.misses += 1
        driver = WorkflowDriver(
            workflow_cls,
            raw,
            start_input,
            workflow_id=workflow_id,
            run_id=run_id,
            payload_codec=payload_codec,
            converter=reader,
        )
        outcome = driver.run()
        fresh = _Entry(
            driver=driver,
            workflow_cls=workflow_cls,
            workflow_id=workflow_id,
            payload_codec=payload_codec,
            seen=len(raw),
            last_raw=raw[-1] if raw else None,
            size=1024 + sum(approximate_size(item) for item in raw),
            history=list(raw),
        )
        self._keep(run_id, fresh, outcome)
        return outcome

    def _keep(self, run_id: str, entry: _Entry, outcome: ReplayOutcome) -> None:
        if entry.driver.suspended and not outcome.is_terminal:
            self._put(run_id, entry)
