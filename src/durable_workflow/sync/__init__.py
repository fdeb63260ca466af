"""``durable_workflow.sync``: the blocking twin of ``durable_workflow.client``.

Upstream 0.4.53's public module (sdk-surface.md §2). ``Client`` and the
blocking handles are generated from the async ones (codegen/sync_client.py);
this file only re-exports them and the result types upstream's module exposed.
"""

from __future__ import annotations

from durable_workflow.sync._client import (
    Client,
    SyncScheduleHandle,
    SyncStandaloneActivityHandle,
    SyncWorkflowHandle,
)

__all__ = ["Client", "SyncScheduleHandle", "SyncStandaloneActivityHandle", "SyncWorkflowHandle"]
