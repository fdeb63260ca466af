"""CLI commands for the worker plane (external workers, debugging a stuck task).

Same declarative form as ``_control_specs``; the bodies are the worker
protocol's (worker-protocol.md), sent exactly as the upstream CLI sends them.
"""

from __future__ import annotations

from typing import Any

from durable_workflow import serializer
from durable_workflow.cli._control_spec_types import Arg, Command

__all__ = ["WORKER_PLANE_COMMANDS"]


def _query_result_envelope(body: dict[str, Any]) -> None:
    """A query answer travels raw and as a JSON-codec envelope (worker-protocol §14)."""
    if "result" in body:
        body["result_envelope"] = serializer.envelope(body["result"], codec="json")


LEASE = Arg("--lease-owner", "body:lease_owner", help="lease owner from the poll")
TASK = Arg("task-id", "path:taskId", help="task id")
WF_ATTEMPT = Arg("attempt", "body:workflow_task_attempt", "int", help="workflow task attempt")
ACT_ATTEMPT = Arg("attempt-id", "body:activity_attempt_id", help="activity attempt id")
QTASK = Arg("query-task-id", "path:queryTaskId", help="query task id")
Q_ATTEMPT = Arg("attempt", "body:query_task_attempt", "int", help="query task attempt")
POLLER = (Arg("worker-id", "body:worker_id"), Arg("--task-queue", "body:task_queue"))

WORKER_PLANE_COMMANDS: tuple[Command, ...] = (
    Command("workflow-task.poll", POLLER, help="poll for a workflow task"),
    Command(
        "workflow-task.history",
        (TASK, WF_ATTEMPT, LEASE, Arg("--page-token", "body:next_history_page_token")),
        help="next history page of a leased workflow task",
    ),
    Command("workflow-task.heartbeat", (TASK, WF_ATTEMPT, LEASE), help="extend a task lease"),
    Command(
        "workflow-task.complete",
        (TASK, WF_ATTEMPT, LEASE, Arg("--command", "body:commands", "jsonlist")),
        help="complete a workflow task with commands (JSON, repeatable)",
    ),
    Command(
        "workflow-task.fail",
        (
            TASK,
            WF_ATTEMPT,
            LEASE,
            Arg("--message", "body:failure.message"),
            Arg("--type", "body:failure.type"),
            Arg("--stack-trace", "body:failure.stack_trace"),
        ),
        help="fail a workflow task",
    ),
    Command("query-task.poll", POLLER, help="poll for a query task"),
    Command(
        "query-task.complete",
        (QTASK, Q_ATTEMPT, LEASE, Arg("--result", "body:result", "json")),
        help="answer a query task",
        finish=_query_result_envelope,
    ),
    Command(
        "query-task.fail",
        (
            QTASK,
            Q_ATTEMPT,
            LEASE,
            Arg("--message", "body:failure.message"),
            Arg("--reason", "body:failure.reason"),
            Arg("--type", "body:failure.type"),
            Arg("--stack-trace", "body:failure.stack_trace"),
        ),
        help="fail a query task",
    ),
    Command("activity.poll", POLLER, help="poll for an activity task"),
    Command(
        "activity.complete",
        (TASK, ACT_ATTEMPT, LEASE, Arg("--input", "body:result", "json", help="result JSON")),
        help="complete an activity task",
    ),
    Command(
        "activity.fail",
        (
            TASK,
            ACT_ATTEMPT,
            LEASE,
            Arg("--message", "body:failure.message"),
            Arg("--type", "body:failure.type"),
            Arg("--stack-trace", "body:failure.stack_trace"),
            Arg("--non-retryable", "body:failure.non_retryable", "flag"),
        ),
        help="fail an activity task",
    ),
    Command(
        "activity.heartbeat",
        (TASK, ACT_ATTEMPT, LEASE, Arg("--details", "body:details", "json")),
        help="heartbeat an activity task",
    ),
)
