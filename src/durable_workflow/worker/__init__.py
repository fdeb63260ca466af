"""The ``Worker``: polls one task queue and runs workflow, activity and query tasks.

Private modules: ``_worker`` (registration, poll loops, shutdown, signals),
``_workflow_tasks`` / ``_activities`` / ``_queries`` (one runner per task
kind), ``_history`` (history pages for a task), ``_support`` (backoff, error
classes, process facts) and ``_telemetry`` (metrics).
"""

from __future__ import annotations

from durable_workflow.worker._worker import Worker

__all__ = ["Worker"]
