"""Dev-server settings in one frozen object (defaults = upstream defaults)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from durable_workflow._generated import manifest


@dataclass(frozen=True)
class StructuralLimits:
    """Per-run engine limits (cluster-info.md §3.6; upstream ``DW_V2_LIMIT_*`` defaults).

    Each one is advertised in ``structural_limits`` and enforced by
    :mod:`durable_workflow.server.engine.structural_limits`.
    """

    pending_activity_count: int = manifest.STRUCTURAL_LIMITS["pending_activity_count"]
    pending_child_count: int = manifest.STRUCTURAL_LIMITS["pending_child_count"]
    pending_timer_count: int = manifest.STRUCTURAL_LIMITS["pending_timer_count"]
    pending_update_count: int = manifest.STRUCTURAL_LIMITS["pending_update_count"]
    command_batch_size: int = manifest.STRUCTURAL_LIMITS["command_batch_size"]


@dataclass(frozen=True)
class ServerConfig:
    db_path: Path
    token: str | None = None
    # Role-scoped bearer tokens (control-plane §1.4); the legacy ``token`` is admin and has
    # full access (worker plane included) only while none of these is set.
    worker_token: str | None = None
    operator_token: str | None = None
    admin_token: str | None = None
    # The web UI's read-only token (a dev-server addition): it may read every UI page and
    # call no API operation. Needs one of the tokens above (without them there is no auth).
    viewer_token: str | None = None
    durability: Literal["normal", "full"] = "normal"
    poll_timeout: float = 30.0
    # Long polls held at once; past it a poll gets 429 long_poll_capacity_exhausted.
    max_long_polls: int = 4096
    # How long a control-plane query waits for a worker (DW_QUERY_TASK_TIMEOUT).
    query_timeout: float = 30.0
    query_lease_seconds: float = 60.0
    # How long a control-plane update waits with wait_for=completed by default.
    update_wait_seconds: float = 10.0
    # Upper bound for a caller's wait_timeout_seconds (keeps one request from parking forever).
    update_wait_max_seconds: float = 300.0
    workflow_lease_seconds: int = 300
    activity_lease_seconds: int = 300
    history_page_size_default: int = 500
    history_page_size_max: int = 1000
    control_history_page_size_default: int = 100
    max_payload_bytes: int = manifest.MAX_PAYLOAD_BYTES
    max_memo_bytes: int = manifest.MAX_MEMO_BYTES
    structural_limits: StructuralLimits = field(default_factory=StructuralLimits)
    default_namespace: str = "default"
    compression: bool = True
    # Browser origins allowed by CORS; none (the default) sends no CORS headers at all.
    cors_origins: tuple[str, ...] = ()
    # DW_V2_HISTORY_EXPORT_SIGNING_KEY / _KEY_ID: sign history export bundles.
    export_signing_key: str | None = None
    export_signing_key_id: str | None = None
    server_id: str = field(default_factory=socket.gethostname)
    # Which server generation the HTTP edge speaks (docs/server-generations.md): 1 is the
    # 0.x line upstream 0.4.53 targets, 2 the 2.x line of the vendored specs. One engine.
    generation: Literal[1, 2] = 1
    # Generation 2: log every response that mismatches the vendored specs (interop, tests).
    check_responses: bool = False
    # Generation 2: how many long polls one wait pool (worker, query) may hold at once;
    # past it a poll gets the typed 429 long_poll_capacity_exhausted. None: no limit.
    long_poll_capacity: int | None = None

    @property
    def auth_enabled(self) -> bool:
        return any((self.token, self.worker_token, self.operator_token, self.admin_token))

    @property
    def worker_stale_seconds(self) -> float:
        """``DW_WORKER_STALE_AFTER_SECONDS`` default: max(2 x poll timeout, 60)."""
        return max(2 * self.poll_timeout, 60.0)
