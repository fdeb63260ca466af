"""Finding how a run ended in its history (for ``Client.get_result``).

Pure over the event list so the rules (last terminal event wins; continue-as-new
points at the next run) are testable without a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from durable_workflow._event_types import TERMINAL_EVENT_TYPES

__all__ = ["TERMINAL_EVENT_TYPES", "TerminalOutcome", "terminal_outcome"]


@dataclass(frozen=True)
class TerminalOutcome:
    """The event that closed a run, and where a continue-as-new went."""

    event_type: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    continued_to_run_id: str | None = None


def terminal_outcome(events: Iterable[Mapping[str, Any]]) -> TerminalOutcome | None:
    """The last terminal event of a run's history, or ``None`` if the run has none."""
    found: TerminalOutcome | None = None
    for event in events:
        event_type = event.get("event_type")
        if event_type not in TERMINAL_EVENT_TYPES:
            continue
        raw = event.get("payload")
        payload: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        next_run = payload.get("continued_to_run_id")
        found = TerminalOutcome(
            event_type=str(event_type),
            payload=payload,
            continued_to_run_id=(
                next_run
                if event_type == "WorkflowContinuedAsNew" and isinstance(next_run, str) and next_run
                else None
            ),
        )
    return found
