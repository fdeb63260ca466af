"""Per-run structural limits: the ``structural_limits`` the server advertises, enforced.

A workflow-task completion whose command list is longer than ``command_batch_size``,
or that would take a run past its pending activities, timers or children, is refused
whole with 422 ``structural_limit_exceeded`` (worker-protocol.md §9.5); an update
beyond ``pending_update_count`` is refused at admission with 409 (control-plane.md
§7.7). ``payload_size_bytes`` and ``memo_size_bytes`` are the server's request-body
and memo limits (413 ``payload_too_large`` bounds every payload a request carries; a
larger memo fails start validation), so they are advertised from the same settings.

Signals are not tracked as pending once recorded, so no pending-signal limit is
advertised; nor are the search-attribute size and history-transaction limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.store.tx import Tx

# Open rows per run, by the command kind that adds one.
_PENDING: dict[str, tuple[str, str]] = {
    "schedule_activity": (
        "pending_activity_count",
        "SELECT COUNT(*) AS n FROM activity_executions"
        " WHERE status IN ('pending', 'running') AND run_id = ?",
    ),
    "start_timer": (
        "pending_timer_count",
        "SELECT COUNT(*) AS n FROM tasks WHERE run_id = ? AND status = 'ready'"
        " AND task_type = 'timer'",
    ),
    "start_child_workflow": (
        "pending_child_count",
        "SELECT COUNT(*) AS n FROM child_links WHERE parent_run_id = ? AND status = 'open'",
    ),
}
_LABELS = {
    "command_batch_size": "commands in one workflow task completion",
    "pending_activity_count": "pending activities",
    "pending_timer_count": "pending timers",
    "pending_child_count": "pending child workflows",
    "pending_update_count": "pending updates",
}


@dataclass(frozen=True)
class Exceeded:
    """One limit a request would break: which, the value it would reach, the limit."""

    kind: str
    current: int
    limit: int

    def fields(self) -> dict[str, Any]:
        return {
            "reason": "structural_limit_exceeded",
            "limit_kind": self.kind,
            "current_value": self.current,
            "configured_limit": self.limit,
            "error": f"The run would exceed its limit of {self.limit} {_LABELS[self.kind]}"
            f" ({self.current}).",
        }


def advertised(config: ServerConfig) -> dict[str, int]:
    """The ``structural_limits`` block of cluster info (cluster-info.md §3.6 key order)."""
    limits = config.structural_limits
    return {
        "pending_activity_count": limits.pending_activity_count,
        "pending_child_count": limits.pending_child_count,
        "pending_timer_count": limits.pending_timer_count,
        "pending_update_count": limits.pending_update_count,
        "command_batch_size": limits.command_batch_size,
        "payload_size_bytes": config.max_payload_bytes,
        "memo_size_bytes": config.max_memo_bytes,
    }


def check_commands(
    tx: Tx, config: ServerConfig, run_id: str, commands: list[dict[str, Any]]
) -> Exceeded | None:
    """The first limit a command list would break (batch size, then pending counts)."""
    limits = config.structural_limits
    if len(commands) > limits.command_batch_size:
        return Exceeded("command_batch_size", len(commands), limits.command_batch_size)
    added: dict[str, int] = {}
    for command in commands:
        if command["type"] in _PENDING:
            added[command["type"]] = added.get(command["type"], 0) + 1
    for ctype, count in added.items():
        kind, sql = _PENDING[ctype]
        limit: int = getattr(limits, kind)
        row = tx.one(sql, (run_id,))
        current = int(row["n"] if row else 0) + count
        if current > limit:
            return Exceeded(kind, current, limit)
    return None


def check_update_admission(tx: Tx, config: ServerConfig, run_id: str) -> Exceeded | None:
    """Whether one more accepted update would break ``pending_update_count``."""
    limit = config.structural_limits.pending_update_count
    row = tx.one(
        "SELECT COUNT(*) AS n FROM workflow_updates WHERE run_id = ? AND status = 'accepted'",
        (run_id,),
    )
    current = int(row["n"] if row else 0) + 1
    return Exceeded("pending_update_count", current, limit) if current > limit else None
