"""The engine: runs engine functions, each as one transaction over the store.

Every engine operation is a function ``f(tx, ...)`` in a topic module (runs,
workflow_tasks, activities, ...). Callers run it with :meth:`Engine.tx` (one
write transaction; listeners hear its wake keys only after COMMIT, so a woken
long poll re-checks a database that already holds the new rows) or, for
hot-path reads that must not queue behind writers, :meth:`Engine.read`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Concatenate, Literal, ParamSpec, TypeVar

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.external_payloads import ExternalPayloads
from durable_workflow.server.store.database import Store
from durable_workflow.server.store.timefmt import utcnow
from durable_workflow.server.store.tx import SCHEDULER_KEY, Tx, WakeKey

Listener = Callable[[set[WakeKey]], None]
P = ParamSpec("P")
T = TypeVar("T")


class Engine:
    def __init__(
        self,
        store: Store,
        config: ServerConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self._listeners: list[Listener] = []
        self._known_namespaces: set[str] = set()
        # Set by the scheduler while it sleeps: when it will look again (storage format).
        self.scheduler_asleep_until: str | None = None
        self.external = ExternalPayloads(config.db_path.parent / "external-payloads")
        # The one engine difference between generations: how it frames payloads it writes.
        self.payload_framing: Literal["wrapper", "value"] = (
            "value" if config.generation == 2 else "wrapper"
        )

    def add_listener(self, listener: Listener) -> None:
        """Called after each commit with the wake keys it produced."""
        self._listeners.append(listener)

    def tx(self, work: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``work(tx, *args, **kwargs)`` as one write transaction, then signal its wakes."""
        with self._transaction() as tx:
            return work(tx, *args, **kwargs)

    def read(self, work: Callable[Concatenate[Tx, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``work`` over a consistent read (a deferred transaction; it writes nothing)."""
        with self.store.read() as conn:
            tx = Tx(
                conn, self.clock(), external=self.external, payload_framing=self.payload_framing
            )
            return work(tx, *args, **kwargs)

    @contextmanager
    def _transaction(self) -> Iterator[Tx]:
        with self.store.transaction() as conn:
            tx = Tx(
                conn, self.clock(), external=self.external, payload_framing=self.payload_framing
            )
            yield tx
        due, asleep_until = tx.scheduler_due, self.scheduler_asleep_until
        if due is not None and (asleep_until is None or due < asleep_until):
            tx.wakes.add(SCHEDULER_KEY)
        if tx.wakes:
            for listener in self._listeners:
                listener(tx.wakes)

    def namespace_exists(self, name: str) -> bool:
        """Asked on every request; namespaces are never deleted, so a yes is remembered."""
        if name in self._known_namespaces:
            return True
        with self.store.read() as conn:
            row = conn.execute("SELECT 1 FROM namespaces WHERE name = ?", (name,)).fetchone()
        if row is not None:
            self._known_namespaces.add(name)
        return row is not None
