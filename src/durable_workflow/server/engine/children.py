"""Child workflows: start, parent notification, child retry, parent close policy.

engine-semantics.md §12 and worker-protocol.md §9.5.8. One ``child_links``
row ties a parent step to the child instance (all its retry runs). Beyond
the snapshot, and advertised as extensions: ``ChildRunCompleted`` also
carries ``result`` + ``payload_codec`` (what SDKs read), a child closed by
cancel/terminate records ``ChildRunCancelled``/``ChildRunTerminated`` on the
parent, and the parent close policy is also applied when a parent completes
or fails through its worker.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from durable_workflow.server.engine.history import append_event
from durable_workflow.server.engine.runs import create_run, create_workflow_task, is_terminal
from durable_workflow.server.store.reads import get_run
from durable_workflow.server.store.rows import ChildLinkRow, NewWorkflowRun, TaskRow, WorkflowRunRow
from durable_workflow.server.store.timefmt import fmt_z
from durable_workflow.server.store.tx import Tx, dumps, loads
from durable_workflow.server.store.ulid import new_ulid


def _retry_snapshot(policy: dict[str, Any] | None) -> dict[str, Any] | None:
    if not policy:
        return None
    return {
        "snapshot_version": 1,
        "max_attempts": policy.get("max_attempts", 1),
        "backoff_seconds": policy.get("backoff_seconds", []),
        "non_retryable_error_types": policy.get("non_retryable_error_types", []),
    }


def _timeout_snapshot(command: dict[str, Any]) -> dict[str, Any] | None:
    execution, run = command.get("execution_timeout_seconds"), command.get("run_timeout_seconds")
    if execution is None and run is None:
        return None
    return {"snapshot_version": 1, "execution_timeout_seconds": execution,
            "run_timeout_seconds": run}  # fmt: skip


def _common(link: ChildLinkRow, child_run: NewWorkflowRun) -> dict[str, Any]:
    return {
        "sequence": link["sequence"],
        "workflow_link_id": link["id"],
        "child_call_id": link["child_call_id"],
        "child_workflow_instance_id": link["child_workflow_id"],
        "child_workflow_run_id": child_run["run_id"],
        "child_workflow_class": child_run["workflow_type"],
        "child_workflow_type": child_run["workflow_type"],
        "child_run_number": child_run["run_number"],
    }


def _run_started(link: ChildLinkRow, child_run: NewWorkflowRun) -> dict[str, Any]:
    return {
        **_common(link, child_run),
        "retry_policy": loads(link["retry_policy"]),
        "timeout_policy": loads(link["timeout_policy"]),
        "execution_timeout_seconds": child_run["execution_timeout_seconds"],
        "run_timeout_seconds": child_run["run_timeout_seconds"],
        "execution_deadline_at": child_run["execution_deadline_at"],
        "run_deadline_at": child_run["run_deadline_at"],
        "child_status": child_run["status"],
        "parent_close_policy": link["parent_close_policy"],
    }


def _child_started_event(tx: Tx, link: ChildLinkRow, child: NewWorkflowRun) -> None:
    append_event(
        tx,
        child["run_id"],
        "WorkflowStarted",
        {
            "workflow_class": child["workflow_type"],
            "workflow_type": child["workflow_type"],
            "workflow_instance_id": child["workflow_id"],
            "workflow_run_id": child["run_id"],
            "parent_workflow_instance_id": link["parent_workflow_id"],
            "parent_workflow_run_id": link["parent_run_id"],
            "parent_sequence": link["sequence"],
            "workflow_link_id": link["id"],
            "child_call_id": link["child_call_id"],
            "retry_policy": loads(link["retry_policy"]),
            "timeout_policy": loads(link["timeout_policy"]),
            "execution_timeout_seconds": child["execution_timeout_seconds"],
            "run_timeout_seconds": child["run_timeout_seconds"],
            "execution_deadline_at": child["execution_deadline_at"],
            "run_deadline_at": child["run_deadline_at"],
            "timestamp": child["started_at"],
        },
    )


def start_child(
    tx: Tx, task: TaskRow, run: WorkflowRunRow, command: dict[str, Any], step: int
) -> str:
    """Create the child instance and first run; returns the child's workflow task id."""
    child_id = new_ulid()
    tx.insert(
        "workflow_instances",
        {"workflow_id": child_id, "namespace": run["namespace"],
         "workflow_type": command["workflow_type"], "current_run_id": None, "run_count": 0,
         "created_at": tx.stamp},
    )  # fmt: skip
    child = create_run(
        tx,
        namespace=run["namespace"],
        workflow_id=child_id,
        workflow_type=command["workflow_type"],
        task_queue=command["queue"] or run["task_queue"],
        codec=run["payload_codec"],
        arguments=command["arguments"],
        execution_timeout=command.get("execution_timeout_seconds"),
        run_timeout=command.get("run_timeout_seconds"),
    )
    link: ChildLinkRow = {
        "id": new_ulid(),
        "namespace": run["namespace"],
        "parent_workflow_id": run["workflow_id"],
        "parent_run_id": run["run_id"],
        "sequence": step,
        "child_call_id": new_ulid(),
        "child_workflow_id": child_id,
        "parent_close_policy": command["parent_close_policy"] or "abandon",
        "retry_policy": dumps(_retry_snapshot(command.get("retry_policy"))),
        "timeout_policy": dumps(_timeout_snapshot(command)),
        "status": "open",
        "created_at": tx.stamp,
    }
    tx.insert("child_links", link)
    common = _common(link, child)
    append_event(
        tx,
        run["run_id"],
        "ChildWorkflowScheduled",
        {**common, "parent_close_policy": link["parent_close_policy"],
         "retry_policy": loads(link["retry_policy"]),
         "timeout_policy": loads(link["timeout_policy"])},
        task=task,
    )  # fmt: skip
    append_event(tx, run["run_id"], "ChildRunStarted", _run_started(link, child), task=task)
    _child_started_event(tx, link, child)
    return create_workflow_task(tx, child, {})


def _link_of(tx: Tx, child_run: WorkflowRunRow) -> ChildLinkRow | None:
    return tx.one(
        "SELECT * FROM child_links WHERE child_workflow_id = ? AND status = 'open'",
        (child_run["workflow_id"],),
        row=ChildLinkRow,
    )


def _should_retry(link: ChildLinkRow, child_run: WorkflowRunRow, failure: dict[str, Any]) -> bool:
    policy = loads(link["retry_policy"]) or {}
    if child_run["run_number"] >= int(policy.get("max_attempts") or 1):
        return False
    if failure.get("non_retryable"):
        return False
    blocked = policy.get("non_retryable_error_types") or []
    return not any(failure.get(k) in blocked for k in ("exception_type", "exception_class"))


def _retry(tx: Tx, link: ChildLinkRow, parent: WorkflowRunRow, failed: WorkflowRunRow) -> None:
    policy = loads(link["retry_policy"]) or {}
    backoff_list = policy.get("backoff_seconds") or [0]
    attempt = int(failed["run_number"])
    backoff = int(backoff_list[min(attempt - 1, len(backoff_list) - 1)])
    child = create_run(
        tx,
        namespace=failed["namespace"],
        workflow_id=failed["workflow_id"],
        workflow_type=failed["workflow_type"],
        task_queue=failed["task_queue"],
        codec=failed["payload_codec"],
        arguments=failed["arguments"],
        execution_timeout=failed["execution_timeout_seconds"],
        run_timeout=failed["run_timeout_seconds"],
        execution_deadline_at=failed["execution_deadline_at"],
    )
    _child_started_event(tx, link, child)
    task_id = create_workflow_task(tx, child, {})
    if backoff > 0:
        tx.update(
            "tasks", "id", task_id, {"available_at": fmt_z(tx.now + timedelta(seconds=backoff))}
        )
    append_event(
        tx,
        parent["run_id"],
        "ChildRunStarted",
        {**_run_started(link, child), "retry_attempt": attempt + 1,
         "retry_of_child_workflow_run_id": failed["run_id"], "retry_backoff_seconds": backoff},
    )  # fmt: skip


def notify_parent(
    tx: Tx, child_run: WorkflowRunRow, status: str, failure: dict[str, Any] | None = None
) -> None:
    """Tell an open parent that its child run closed (completed/failed/cancelled/terminated)."""
    link = _link_of(tx, child_run)
    if link is None:
        return
    parent = get_run(tx, link["parent_run_id"])
    child = get_run(tx, child_run["run_id"])
    assert child is not None
    if parent is None or is_terminal(parent["status"]):
        tx.update("child_links", "id", link["id"], {"status": "closed"})
        return
    failure = failure or {}
    if status == "failed" and _should_retry(link, child, failure):
        _retry(tx, link, parent, child)
        return
    tx.update("child_links", "id", link["id"], {"status": "closed"})
    payload: dict[str, Any] = {
        **_common(link, child),
        "child_status": status,
        "closed_reason": child["closed_reason"],
        "closed_at": child["closed_at"],
    }
    if status == "completed":
        event = "ChildRunCompleted"
        payload.update(output=child["output"], result=child["output"],
                       payload_codec=child["payload_codec"])  # fmt: skip
    else:
        event = {"failed": "ChildRunFailed", "cancelled": "ChildRunCancelled"}.get(
            status, "ChildRunTerminated"
        )
        message = failure.get("message") or f"Child workflow {status}."
        payload.update(
            failure_id=new_ulid(),
            failure_category="child_workflow" if status == "failed" else status,
            exception_type=failure.get("exception_type"),
            exception_class=failure.get("exception_class") or "RuntimeException",
            message=message,
            code=0,
            exception={"class": failure.get("exception_class") or "RuntimeException",
                       "type": failure.get("exception_type"), "message": message, "code": 0},
        )  # fmt: skip
    append_event(tx, parent["run_id"], event, payload)
    create_workflow_task(
        tx,
        parent,
        {
            "workflow_wait_kind": "child",
            "resume_source_kind": "child_workflow_run",
            "resume_source_id": child["run_id"],
            "child_call_id": link["child_call_id"],
            "child_workflow_run_id": child["run_id"],
            "workflow_sequence": link["sequence"],
        },
    )


def open_children(tx: Tx, parent_run_id: str) -> list[tuple[ChildLinkRow, WorkflowRunRow]]:
    """(link, current child run) for every still-open child with a non-abandon policy."""
    out = []
    for link in tx.all(
        "SELECT * FROM child_links WHERE parent_run_id = ? AND status = 'open'"
        " AND parent_close_policy != 'abandon' ORDER BY sequence",
        (parent_run_id,),
        row=ChildLinkRow,
    ):
        child = tx.one(
            "SELECT * FROM workflow_runs WHERE workflow_id = ? ORDER BY run_number DESC LIMIT 1",
            (link["child_workflow_id"],),
            row=WorkflowRunRow,
        )
        if child is not None and not is_terminal(child["status"]):
            out.append((link, child))
    return out


def apply_parent_close_policy(tx: Tx, parent: WorkflowRunRow, reason: str) -> None:
    """Cancel/terminate open children per their policy; record it on the parent."""
    from durable_workflow.server.engine.closing import close_run  # closing calls back into here

    for link, child in open_children(tx, parent["run_id"]):
        policy = link["parent_close_policy"]
        kind = "cancel" if policy == "request_cancel" else "terminate"
        text = f"Parent workflow closed ({reason}); parent-close policy: {policy}."
        tx.update("child_links", "id", link["id"], {"status": "closed"})
        close_run(tx, child["namespace"], child["workflow_id"], kind, {"reason": text})
        append_event(
            tx,
            parent["run_id"],
            "ParentClosePolicyApplied",
            {"child_instance_id": child["workflow_id"], "child_run_id": child["run_id"],
             "policy": policy, "reason": text, "workflow_link_id": link["id"]},
        )  # fmt: skip
