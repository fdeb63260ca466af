"""Standalone-activity result dataclasses (sdk-surface.md §1.4 and §6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from durable_workflow.client._results._parse import as_int, as_list, as_str, from_fields
from durable_workflow.client._results._workflows import PayloadDecoder

__all__ = ["StandaloneActivityExecution", "StandaloneActivityList"]


@dataclass
class StandaloneActivityExecution:
    """A standalone activity and its host run, with ``result`` decoded when present."""

    activity_id: str | None = None
    workflow_run_id: str | None = None
    activity_execution_id: str | None = None
    workflow_type: str | None = None
    activity_type: str | None = None
    activity_class: str | None = None
    task_queue: str | None = None
    namespace: str | None = None
    status: str | None = None
    activity_status: str | None = None
    closed_reason: str | None = None
    business_key: str | None = None
    payload_codec: str | None = None
    started_at: str | None = None
    closed_at: str | None = None
    last_progress_at: str | None = None
    last_heartbeat_at: str | None = None
    schedule_to_start_deadline_at: str | None = None
    schedule_to_close_deadline_at: str | None = None
    attempt_count: int | None = None
    result: Any = None

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        activity_id: str | None = None,
        result: Any = None,
        decode: PayloadDecoder | None = None,
    ) -> StandaloneActivityExecution:
        """``activity_id`` fills in for an answer that omits it (upstream's keyword);
        ``result`` is an already-decoded result that wins over the answer's own."""
        if result is None:
            result = data.get("result")
            codec = as_str(data.get("payload_codec"))
            if decode is not None and isinstance(result, dict) and "codec" in result:
                result = decode(result, codec)
        fallback = {"activity_id": activity_id} if data.get("activity_id") is None else {}
        return from_fields(
            cls,
            data,
            result=result,
            attempt_count=as_int(data.get("attempt_count")),
            **fallback,
        )


@dataclass
class StandaloneActivityList:
    activities: list[StandaloneActivityExecution] = field(default_factory=list)
    activity_count: int = 0
    next_page_token: str | None = None

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, decode: PayloadDecoder | None = None
    ) -> StandaloneActivityList:
        items = [
            StandaloneActivityExecution.from_dict(i, decode=decode)
            for i in as_list(data.get("activities"))
            if isinstance(i, dict)
        ]
        return cls(
            activities=items,
            activity_count=as_int(data.get("activity_count"), len(items)) or 0,
            next_page_token=as_str(data.get("next_page_token")),
        )
