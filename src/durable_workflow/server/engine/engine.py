"""The engine facade: every operation as one transaction over the store.

Pure logic, no HTTP: each method opens one write transaction, runs the
rules in the topic modules (runs, workflow_tasks, activities, workers,
timers), commits, and only then tells listeners which wake keys changed
(so long-polls re-check a database that already holds the new rows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine import (
    activities,
    activity_heartbeats,
    closing,
    debug_view,
    history_export,
    maintenance,
    query_targets,
    run_views,
    runs,
    search_attributes,
    signals,
    storage_policy,
    task_queues,
    timers,
    updates,
    worker_views,
    workers,
    workflow_tasks,
)
from durable_workflow.server.engine.errors import EngineError, not_found
from durable_workflow.server.engine.external_payloads import ExternalPayloads
from durable_workflow.server.engine.history import (
    control_event,
    decode_token,
    encode_token,
    read_page,
)
from durable_workflow.server.store.database import Store
from durable_workflow.server.store.timefmt import offset_from_stored, utcnow
from durable_workflow.server.store.tx import SCHEDULER_KEY, Tx, WakeKey, loads

Outcome = tuple[int, dict[str, Any]]
Listener = Callable[[set[WakeKey]], None]
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

    def add_listener(self, listener: Listener) -> None:
        """Called after each commit with the wake keys it produced."""
        self._listeners.append(listener)

    @contextmanager
    def _tx(self) -> Iterator[Tx]:
        with self.store.transaction() as conn:
            tx = Tx(conn, self.clock(), external=self.external)
            yield tx
        due, asleep_until = tx.scheduler_due, self.scheduler_asleep_until
        if due is not None and (asleep_until is None or due < asleep_until):
            tx.wakes.add(SCHEDULER_KEY)
        if tx.wakes:
            for listener in self._listeners:
                listener(tx.wakes)

    def in_tx(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(tx, *args)`` as one transaction (for small admin operations)."""
        with self._tx() as tx:
            return work(tx, *args)

    # -- namespaces -------------------------------------------------------------------------

    def namespace_exists(self, name: str) -> bool:
        """Asked on every request; namespaces are never deleted, so a yes is remembered."""
        if name in self._known_namespaces:
            return True
        with self.store.read() as conn:
            row = conn.execute("SELECT 1 FROM namespaces WHERE name = ?", (name,)).fetchone()
        if row is not None:
            self._known_namespaces.add(name)
        return row is not None

    @staticmethod
    def _namespace_view(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": row["name"],
            "description": row["description"],
            "retention_days": row["retention_days"],
            "status": row["status"],
            "external_payload_storage": loads(row["external_payload_storage"]),
            "created_at": offset_from_stored(row["created_at"]),
            "updated_at": offset_from_stored(row["updated_at"]),
        }

    def list_namespaces(self) -> dict[str, Any]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM namespaces ORDER BY rowid").fetchall()
        return {"namespaces": [self._namespace_view(dict(r)) for r in rows]}

    def describe_namespace(self, name: str) -> dict[str, Any]:
        name = name.lower()
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM namespaces WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise not_found("namespace_not_found", f"Namespace [{name}] not found.", namespace=name)
        return self._namespace_view(dict(row))

    def create_namespace(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a namespace (name lower-cased); 409 when it exists (control-plane §5.2).

        Answers the whole namespace; upstream omits ``updated_at`` here (docs/compat.md).
        """
        name = str(body["name"]).strip().lower()
        with self._tx() as tx:
            if tx.one("SELECT 1 FROM namespaces WHERE name = ?", (name,)):
                raise EngineError(
                    409,
                    {
                        "message": f"Namespace [{name}] already exists.",
                        "reason": "namespace_already_exists",
                        "namespace": name,
                    },
                )
            row = {
                "name": name,
                "description": body.get("description"),
                "retention_days": body.get("retention_days") or 30,
                "status": "active",
                "external_payload_storage": None,
                "created_at": tx.stamp,
                "updated_at": tx.stamp,
            }
            tx.insert("namespaces", row)
        return self._namespace_view(row)

    def update_namespace(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change description/retention; null or absent fields stay (control-plane §5.4).

        Answers the whole namespace; upstream omits ``created_at`` here (docs/compat.md).
        """
        name = name.lower()
        changes = {k: body[k] for k in ("description", "retention_days") if body.get(k) is not None}
        with self._tx() as tx:
            if not tx.one("SELECT 1 FROM namespaces WHERE name = ?", (name,)):
                raise not_found(
                    "namespace_not_found", f"Namespace [{name}] not found.", namespace=name
                )
            if changes:
                tx.update("namespaces", "name", name, {**changes, "updated_at": tx.stamp})
            row = tx.one("SELECT * FROM namespaces WHERE name = ?", (name,))
        assert row is not None
        return self._namespace_view(row)

    def set_storage_policy(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace a namespace's external-storage policy; returns the namespace (§5.5)."""
        with self._tx() as tx:
            storage_policy.set_policy(tx, name, body)
        return self.describe_namespace(name)

    # -- workflows (control plane) ----------------------------------------------------------

    def start_workflow(self, namespace: str, body: dict[str, Any]) -> Outcome:
        with self._tx() as tx:
            return runs.start_workflow(
                tx, namespace, body, max_memo_bytes=self.config.max_memo_bytes
            )

    def list_workflows(
        self,
        namespace: str,
        *,
        workflow_type: str | None = None,
        status: str | None = None,
        query: str | None = None,
        page_size: int = 50,
        page_token: str | None = None,
    ) -> dict[str, Any]:
        """One page of run summaries; an undecodable token means offset 0."""
        with self._tx() as tx:
            return run_views.list_workflows(
                tx,
                namespace,
                workflow_type=workflow_type,
                status=status,
                query=query,
                page_size=page_size,
                offset=decode_token(page_token) or 0,
            )

    def close_workflow(
        self,
        namespace: str,
        workflow_id: str,
        kind: str,
        body: dict[str, Any],
        run_id: str | None = None,
    ) -> Outcome:
        """Cancel (``kind="cancel"``) or terminate the current run."""
        with self._tx() as tx:
            return closing.close_run(tx, namespace, workflow_id, kind, body, run_id)

    def signal_workflow(
        self,
        namespace: str,
        workflow_id: str,
        name: str,
        body: dict[str, Any],
        run_id: str | None = None,
    ) -> Outcome:
        with self._tx() as tx:
            return signals.signal(tx, namespace, workflow_id, name, body, run_id)

    def describe_workflow(self, namespace: str, workflow_id: str) -> dict[str, Any]:
        with self._tx() as tx:
            return run_views.run_view(tx, run_views.find_instance_run(tx, namespace, workflow_id))

    def describe_run(self, namespace: str, workflow_id: str, run_id: str) -> dict[str, Any]:
        with self._tx() as tx:
            return run_views.run_view(tx, run_views.find_run(tx, namespace, workflow_id, run_id))

    def list_runs(self, namespace: str, workflow_id: str) -> dict[str, Any]:
        with self._tx() as tx:
            return run_views.list_runs(tx, namespace, workflow_id)

    def run_history(
        self,
        namespace: str,
        workflow_id: str,
        run_id: str,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> dict[str, Any]:
        """One control-plane history page; an undecodable token reads from the start."""
        size = page_size or self.config.control_history_page_size_default
        after = decode_token(page_token) or 0
        with self._tx() as tx:
            run_views.find_run(tx, namespace, workflow_id, run_id)
            rows, more = read_page(tx, run_id, after, size)
        return {
            "workflow_id": workflow_id,
            "run_id": run_id,
            "events": [control_event(r) for r in rows],
            "next_page_token": encode_token(rows[-1]["sequence"]) if more and rows else None,
        }

    def query_target(
        self,
        namespace: str,
        workflow_id: str,
        requested_run_id: str | None,
        query_name: str,
        raw_input: Any,
        fresh_after: str,
        recent_pollers: set[str],
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The run a query targets and its query-task fields (None: no worker can answer)."""
        with self._tx() as tx:
            return query_targets.query_target(
                tx, namespace, workflow_id, requested_run_id, query_name, raw_input, fresh_after,
                recent_pollers,
            )  # fmt: skip

    def repair_workflow(self, namespace: str, workflow_id: str, body: dict[str, Any]) -> Outcome:
        with self._tx() as tx:
            return 200, maintenance.repair(tx, namespace, workflow_id, body)

    def archive_workflow(self, namespace: str, workflow_id: str, body: dict[str, Any]) -> Outcome:
        with self._tx() as tx:
            return 200, maintenance.archive(tx, namespace, workflow_id, body)

    def submit_update(
        self,
        namespace: str,
        workflow_id: str,
        name: str,
        body: dict[str, Any],
        requested_run_id: str | None,
    ) -> tuple[int, dict[str, Any], str | None]:
        """Accept or reject an update; the id is None when it was rejected."""
        with self._tx() as tx:
            status, out, update_id = updates.submit(
                tx, namespace, workflow_id, name, body, requested_run_id
            )
        return status, out, update_id

    def update_status(self, update_id: str) -> str | None:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT status FROM workflow_updates WHERE id = ?", (update_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def update_view(
        self, update_id: str, requested_run_id: str | None, wait_for: str, timeout: int | None
    ) -> Outcome:
        with self._tx() as tx:
            return updates.view(tx, update_id, requested_run_id, wait_for, timeout)

    def debug_workflow(
        self, namespace: str, workflow_id: str, run_id: str | None, include_payload: bool
    ) -> dict[str, Any]:
        with self._tx() as tx:
            return debug_view.debug(tx, namespace, workflow_id, run_id, include_payload)

    def export_history(self, namespace: str, workflow_id: str, run_id: str) -> dict[str, Any]:
        with self._tx() as tx:
            return history_export.export_bundle(
                tx,
                namespace,
                workflow_id,
                run_id,
                signing_key=self.config.export_signing_key,
                key_id=self.config.export_signing_key_id,
            )

    def last_sequence(self, run_id: str) -> int:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT last_history_sequence FROM workflow_runs WHERE run_id = ?", (run_id,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    # -- workers ------------------------------------------------------------------------------

    @property
    def worker_stale_seconds(self) -> float:
        """``DW_WORKER_STALE_AFTER_SECONDS`` default: max(2 x poll timeout, 60)."""
        return max(2 * self.config.poll_timeout, 60.0)

    def list_workers(self, namespace: str, query: dict[str, str]) -> dict[str, Any]:
        with self._tx() as tx:
            return worker_views.list_workers(tx, namespace, query, self.worker_stale_seconds)

    def describe_worker(self, namespace: str, worker_id: str) -> dict[str, Any]:
        with self._tx() as tx:
            return worker_views.describe(tx, namespace, worker_id, self.worker_stale_seconds)

    def deregister_worker(self, namespace: str, worker_id: str) -> dict[str, Any]:
        with self._tx() as tx:
            return worker_views.deregister(tx, namespace, worker_id)

    # -- task queues --------------------------------------------------------------------------

    def list_task_queues(self, namespace: str, pending: dict[str, int]) -> dict[str, Any]:
        with self._tx() as tx:
            items = []
            for name in task_queues.queue_names(tx, namespace):
                item = task_queues.summary(
                    tx, namespace, name, self.worker_stale_seconds, pending.get(name, 0)
                )
                items.append({k: v for k, v in item.items() if not k.startswith("_")})
        return {"namespace": namespace, "task_queues": items}

    def describe_task_queue(self, namespace: str, queue: str, pending: int) -> dict[str, Any]:
        with self._tx() as tx:
            return task_queues.describe(tx, namespace, queue, self.worker_stale_seconds, pending)

    def task_queue_build_ids(self, namespace: str, queue: str) -> dict[str, Any]:
        with self._tx() as tx:
            return task_queues.build_ids(tx, namespace, queue, self.worker_stale_seconds)

    def set_build_id_intent(
        self, namespace: str, queue: str, body: dict[str, Any], intent: str
    ) -> dict[str, Any]:
        with self._tx() as tx:
            return task_queues.set_intent(tx, namespace, queue, body, intent)

    # -- search attributes ------------------------------------------------------------------

    def list_search_attributes(self, namespace: str) -> dict[str, Any]:
        with self._tx() as tx:
            return search_attributes.list_attributes(tx, namespace)

    def create_search_attribute(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._tx() as tx:
            return search_attributes.create(tx, namespace, body)

    def delete_search_attribute(self, namespace: str, name: str) -> dict[str, Any]:
        with self._tx() as tx:
            return search_attributes.delete(tx, namespace, name)

    def register_worker(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._tx() as tx:
            return workers.register(tx, namespace, body)

    def worker_heartbeat(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._tx() as tx:
            return workers.heartbeat(tx, namespace, body)

    def poll_worker(
        self, namespace: str, worker_id: str, task_queue: str, build_id: str | None
    ) -> dict[str, Any]:
        """Registration behind a poll (412/409 pre-checks)."""
        with self._tx() as tx:
            worker = workers.poll_worker(tx, namespace, worker_id, task_queue, build_id)
        return worker

    def worker_fleet(self, namespace: str) -> dict[str, Any]:
        with self.store.read() as conn:
            rows = [
                dict(r)
                for r in conn.execute(
                    "SELECT * FROM workers WHERE namespace = ? ORDER BY worker_id", (namespace,)
                ).fetchall()
            ]
        return {
            "namespace": namespace,
            "active_workers": len(rows),
            "active_worker_scopes": len(rows),
            "queues": sorted({r["task_queue"] for r in rows}),
            "build_ids": sorted({r["build_id"] for r in rows if r["build_id"]}),
            "workers": [
                {
                    "worker_id": r["worker_id"],
                    "queues": [r["task_queue"]],
                    "build_ids": [r["build_id"]] if r["build_id"] else [],
                    "recorded_at": r["last_heartbeat_at"],
                    "expires_at": None,
                }
                for r in rows
            ],
        }

    # -- workflow tasks -------------------------------------------------------------------------

    def claim_workflow_task(
        self, worker: dict[str, Any], history_page_size: Any = None
    ) -> dict[str, Any] | None:
        with self._tx() as tx:
            return workflow_tasks.claim(tx, self.config, worker, history_page_size)

    def redeliver_workflow_task(
        self, namespace: str, delivered: dict[str, Any], history_page_size: Any = None
    ) -> dict[str, Any] | None:
        with self._tx() as tx:
            return workflow_tasks.redeliver(
                tx, self.config, namespace, delivered, history_page_size
            )

    def schema_version(self) -> int:
        return self.store.schema_version()

    def workflow_task_history(self, namespace: str, task_id: str, body: dict[str, Any]) -> Outcome:
        with self._tx() as tx:
            return workflow_tasks.history(tx, self.config, namespace, task_id, body)

    def workflow_task_heartbeat(
        self, namespace: str, task_id: str, body: dict[str, Any]
    ) -> Outcome:
        with self._tx() as tx:
            return workflow_tasks.heartbeat(tx, self.config, namespace, task_id, body)

    def complete_workflow_task(self, namespace: str, task_id: str, body: dict[str, Any]) -> Outcome:
        with self._tx() as tx:
            return workflow_tasks.complete(tx, self.config, namespace, task_id, body)

    def fail_workflow_task(self, namespace: str, task_id: str, body: dict[str, Any]) -> Outcome:
        with self._tx() as tx:
            return workflow_tasks.fail(tx, namespace, task_id, body)

    # -- activity tasks -------------------------------------------------------------------------

    def claim_activity_task(self, worker: dict[str, Any]) -> dict[str, Any] | None:
        with self._tx() as tx:
            return activities.claim(tx, self.config, worker)

    def complete_activity_task(self, namespace: str, task_id: str, body: dict[str, Any]) -> Outcome:
        with self._tx() as tx:
            return activities.complete(tx, namespace, task_id, body)

    def fail_activity_task(self, namespace: str, task_id: str, body: dict[str, Any]) -> Outcome:
        with self._tx() as tx:
            return activities.fail(tx, namespace, task_id, body)

    def activity_heartbeat(self, namespace: str, task_id: str, body: dict[str, Any]) -> Outcome:
        with self._tx() as tx:
            return activity_heartbeats.heartbeat(tx, self.config, namespace, task_id, body)

    # -- scheduler ------------------------------------------------------------------------------

    def run_due_work(self) -> int:
        """Fire due timers and expire leases (one transaction)."""
        with self._tx() as tx:
            return timers.run_due_work(tx)

    def next_due_at(self) -> datetime | None:
        with self._tx() as tx:
            return timers.next_due_at(tx)

    def next_available_at(self, namespace: str, queue: str, task_type: str) -> datetime | None:
        with self._tx() as tx:
            return timers.next_available_at(tx, namespace, queue, task_type)


__all__ = ["Engine", "EngineError", "Outcome"]
