"""Durable retry policies for activities and child workflows (sdk-surface.md §5.2, §5.3).

Recorded with the schedule/start command; the server runs the retries.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ActivityRetryPolicy", "ChildWorkflowRetryPolicy"]


@dataclass
class ActivityRetryPolicy:
    """Server-side retries of one activity, recorded with its schedule command.

    ``to_dict()`` expands the interval settings into the explicit
    ``backoff_seconds`` list the server takes: ``max_attempts - 1`` entries of
    ``ceil(min(initial * coefficient**i, maximum))`` unless given explicitly.
    """

    max_attempts: int = 3
    initial_interval_seconds: float = 1.0
    backoff_coefficient: float = 2.0
    maximum_interval_seconds: float | None = None
    non_retryable_error_types: list[str] = field(default_factory=list)
    backoff_seconds: list[int] | None = None

    def _validate(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ValueError("retry_policy.max_attempts must be an integer")
        if self.max_attempts < 1:
            raise ValueError("retry_policy.max_attempts must be >= 1")
        if self.initial_interval_seconds < 0:
            raise ValueError("retry_policy.initial_interval_seconds must be >= 0")
        if self.backoff_coefficient < 1:
            raise ValueError("retry_policy.backoff_coefficient must be >= 1")
        if self.maximum_interval_seconds is not None and self.maximum_interval_seconds < 0:
            raise ValueError("retry_policy.maximum_interval_seconds must be >= 0")

    def _backoff(self) -> list[int]:
        if self.backoff_seconds is not None:
            return [max(0, math.ceil(value)) for value in self.backoff_seconds]
        cap = math.inf if self.maximum_interval_seconds is None else self.maximum_interval_seconds
        return [
            math.ceil(min(self.initial_interval_seconds * self.backoff_coefficient**i, cap))
            for i in range(self.max_attempts - 1)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The wire shape ``{max_attempts, backoff_seconds, non_retryable_error_types}``."""
        self._validate()
        types: list[str] = []
        for name in self.non_retryable_error_types:
            text = name.strip() if isinstance(name, str) else ""
            if text and text not in types:
                types.append(text)
        return {
            "max_attempts": self.max_attempts,
            "backoff_seconds": self._backoff(),
            "non_retryable_error_types": types,
        }


@dataclass
class ChildWorkflowRetryPolicy(ActivityRetryPolicy):
    """Server-side retries of a child workflow; same fields and wire shape."""


#: What ``retry_policy=`` takes (upstream's names): a policy object or its wire mapping.
ActivityRetryPolicyInput = ActivityRetryPolicy | Mapping[str, Any]
ChildWorkflowRetryPolicyInput = ChildWorkflowRetryPolicy | ActivityRetryPolicy | Mapping[str, Any]
