"""Schedules (control-plane.md §9): CRUD, pause/resume, trigger, backfill, history, firing.

Each fire starts a workflow through the normal start path with a
server-generated id, deciding overlap against the latest workflow the
schedule started. The scheduler loop calls :func:`fire_due`; buffered
actions drain once the latest run has closed. The describe body carries the
snapshot's nested ``state``/``info`` shape plus the top-level fields SDKs
read (§9.4).
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from durable_workflow._generated import manifest
from durable_workflow.server.engine import closing, runs
from durable_workflow.server.engine.errors import EngineError, ValidationFailed, not_found
from durable_workflow.server.engine.run_views import find_instance_run
from durable_workflow.server.engine.schedule_spec import fire_times, next_fire, spec_errors
from durable_workflow.server.store.rows import ScheduleEventRow, ScheduleRow, WorkflowRunRow
from durable_workflow.server.store.timefmt import fmt_offset, fmt_z, parse
from durable_workflow.server.store.tx import Tx, dumps, loads
from durable_workflow.server.store.ulid import new_ulid

OVERLAP = ("skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all")
MAX_MEMO_BYTES = manifest.MAX_MEMO_BYTES
_TIMEOUT_ALIASES = {"workflow_execution_timeout": "execution_timeout_seconds",
                    "workflow_run_timeout": "run_timeout_seconds"}  # fmt: skip


def _int_in(value: Any, low: int, high: int | None) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= low
        and (high is None or value <= high)
    )


def _validate(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Checked and normalised fields of a create/update body."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if creating or "spec" in body:
        errors.update(spec_errors(body.get("spec")))
        clean["spec"] = body.get("spec")
    if creating or "action" in body:
        action = body.get("action")
        if not isinstance(action, dict):
            errors["action"] = ["The action field is required and must be an object."]
        else:
            action = dict(action)
            for alias, name in _TIMEOUT_ALIASES.items():
                if alias in action:
                    action.setdefault(name, action.pop(alias))
            if creating and (not isinstance(action.get("workflow_type"), str)
                             or not action["workflow_type"].strip()):  # fmt: skip
                errors["action.workflow_type"] = ["The action.workflow_type field is required."]
            for name in _TIMEOUT_ALIASES.values():
                if action.get(name) is not None and not _int_in(action[name], 1, None):
                    errors[f"action.{name}"] = [f"The action.{name} must be an integer >= 1."]
            clean["action"] = action
    policy = body.get("overlap_policy")
    if policy is not None and policy not in OVERLAP:
        errors["overlap_policy"] = ["The selected overlap policy is invalid."]
    if body.get("jitter_seconds") is not None and not _int_in(body["jitter_seconds"], 0, 3600):
        errors["jitter_seconds"] = ["The jitter seconds must be between 0 and 3600."]
    if body.get("max_runs") is not None and not _int_in(body["max_runs"], 1, None):
        errors["max_runs"] = ["The max runs must be at least 1."]
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 1000):
        errors["note"] = ["The note must be a string of at most 1000 characters."]
    schedule_id = body.get("schedule_id")
    if (
        creating
        and schedule_id is not None
        and (not isinstance(schedule_id, str) or not 1 <= len(schedule_id) <= 128)
    ):
        errors["schedule_id"] = ["The schedule id must be 1 to 128 characters."]
    if errors:
        raise ValidationFailed(errors)
    memo = body.get("memo")
    if memo is not None and len(json.dumps(memo).encode()) > MAX_MEMO_BYTES:
        raise EngineError(422, {"message": "The memo is too large.", "reason": "memo_too_large",
                                "limit": MAX_MEMO_BYTES})  # fmt: skip
    return clean


def _find(tx: Tx, namespace: str, schedule_id: str, *, deleted: bool = False) -> ScheduleRow:
    sql = "SELECT * FROM schedules WHERE namespace = ? AND schedule_id = ?"
    if not deleted:
        sql += " AND status != 'deleted'"
    row = tx.one(
        sql + " ORDER BY created_at DESC LIMIT 1", (namespace, schedule_id), row=ScheduleRow
    )
    if row is None:
        raise not_found("schedule_not_found", f"Schedule [{schedule_id}] not found.")
    return row


def _record(tx: Tx, row: ScheduleRow, event: str, payload: dict[str, Any],
            workflow_id: str | None = None, run_id: str | None = None) -> None:  # fmt: skip
    last = tx.one(
        "SELECT MAX(sequence) AS n FROM schedule_events WHERE schedule_row_id = ?", (row["id"],)
    )
    sequence = int(last["n"] or 0) + 1 if last else 1
    tx.insert(
        "schedule_events",
        {"id": new_ulid(), "schedule_row_id": row["id"], "sequence": sequence,
         "event_type": event, "payload": dumps(payload), "workflow_instance_id": workflow_id,
         "workflow_run_id": run_id, "recorded_at": tx.stamp},
    )  # fmt: skip


def _next_fire_at(row: Mapping[str, Any], after: datetime) -> str | None:
    nxt = next_fire(loads(row["spec"]) or {}, after)
    if nxt is None:
        return None
    jitter = int(row["jitter_seconds"] or 0)
    if jitter:
        nxt = nxt.fromtimestamp(nxt.timestamp() + random.uniform(0, jitter), nxt.tzinfo)
    return fmt_z(nxt)


def create(tx: Tx, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    clean = _validate(body, creating=True)
    schedule_id = body.get("schedule_id") or new_ulid(upper=True)
    if tx.one(
        "SELECT 1 FROM schedules WHERE namespace = ? AND schedule_id = ? AND status != 'deleted'",
        (namespace, schedule_id),
    ):
        raise EngineError(409, {"message": f"Schedule [{schedule_id}] already exists.",
                                "reason": "schedule_already_exists",
                                "schedule_id": schedule_id})  # fmt: skip
    max_runs = body.get("max_runs")
    row: ScheduleRow = {
        "id": new_ulid(), "namespace": namespace, "schedule_id": schedule_id,
        "status": "active", "spec": dumps(clean["spec"]), "action": dumps(clean["action"]),
        "overlap_policy": body.get("overlap_policy") or "skip",
        "jitter_seconds": body.get("jitter_seconds") or 0, "max_runs": max_runs,
        "remaining_actions": max_runs, "memo": dumps(body.get("memo")),
        "search_attributes": dumps(body.get("search_attributes")), "note": body.get("note"),
        "next_fire_at": None, "last_fire_at": None, "fires_count": 0, "failures_count": 0,
        "buffered": "[]", "recent_actions": "[]", "skipped_trigger_count": 0,
        "last_skip_reason": None, "last_skipped_at": None, "latest_workflow_id": None,
        "paused_at": None, "created_at": tx.stamp, "updated_at": tx.stamp,
    }  # fmt: skip
    row["next_fire_at"] = _next_fire_at(row, tx.now)
    tx.insert("schedules", row)
    _record(tx, row, "ScheduleCreated", {"spec": clean["spec"], "action": clean["action"]})
    if body.get("paused") is True:
        _set_status(tx, row, "paused", body.get("note"))
    tx.wakes.add(("scheduler",))
    status = "paused" if body.get("paused") is True else "active"
    return {"namespace": namespace, "schedule_id": schedule_id, "outcome": "created",
            "status": status, "created_at": _stamp(tx.stamp)}  # fmt: skip


def _stamp(value: str | None) -> str | None:
    return None if value is None else fmt_offset(parse(value))


def _list_item(row: ScheduleRow) -> dict[str, Any]:
    """Upstream's list item, plus ``spec``, ``action``, ``next_fire_at`` and
    ``last_fired_at``, which SDK 0.4.53's ``list_schedules()`` reads (control-plane §9.2)."""
    action = loads(row["action"]) or {}
    item: dict[str, Any] = {
        "schedule_id": row["schedule_id"],
        "workflow_type": action.get("workflow_type"),
        "status": row["status"],
        "paused": row["status"] == "paused",
        "spec": loads(row["spec"]),
        "action": action,
        "next_fire": _stamp(row["next_fire_at"]),
        "last_fire": _stamp(row["last_fire_at"]),
        "next_fire_at": _stamp(row["next_fire_at"]),
        "last_fired_at": _stamp(row["last_fire_at"]),
        "overlap_policy": row["overlap_policy"],
        "note": row["note"],
        "fires_count": row["fires_count"],
    }
    if row["jitter_seconds"]:
        item["jitter_seconds"] = row["jitter_seconds"]
    if row["max_runs"] is not None:
        item["max_runs"] = row["max_runs"]
        item["remaining_actions"] = row["remaining_actions"]
    return item


def list_schedules(tx: Tx, namespace: str) -> dict[str, Any]:
    rows = tx.all(
        "SELECT * FROM schedules WHERE namespace = ? AND status != 'deleted'"
        " ORDER BY created_at DESC",
        (namespace,),
        row=ScheduleRow,
    )
    return {"namespace": namespace, "schedules": [_list_item(r) for r in rows],
            "next_page_token": None}  # fmt: skip


def created_times(tx: Tx, namespace: str) -> dict[str, str]:
    """When each live schedule of the namespace was created (storage format), by id."""
    rows = tx.all(
        "SELECT schedule_id, created_at FROM schedules WHERE namespace = ? AND status != 'deleted'",
        (namespace,),
    )
    return {str(r["schedule_id"]): str(r["created_at"]) for r in rows}


def describe(tx: Tx, namespace: str, schedule_id: str) -> dict[str, Any]:
    row = _find(tx, namespace, schedule_id)
    paused = row["status"] == "paused"
    info = {
        "next_fire": _stamp(row["next_fire_at"]), "last_fire": _stamp(row["last_fire_at"]),
        "fires_count": row["fires_count"], "failures_count": row["failures_count"],
        "recent_actions": loads(row["recent_actions"]) or [],
        "buffered_actions": [{"buffered_at": b} for b in loads(row["buffered"]) or []],
        "skipped_trigger_count": row["skipped_trigger_count"],
        "last_skip_reason": row["last_skip_reason"],
        "last_skipped_at": _stamp(row["last_skipped_at"]),
    }  # fmt: skip
    return {
        "namespace": namespace, "schedule_id": row["schedule_id"], "spec": loads(row["spec"]),
        "action": loads(row["action"]), "overlap_policy": row["overlap_policy"],
        "state": {"status": row["status"], "paused": paused, "note": row["note"]},
        "info": info, "memo": loads(row["memo"]),
        "search_attributes": loads(row["search_attributes"]),
        "created_at": _stamp(row["created_at"]), "updated_at": _stamp(row["updated_at"]),
        "jitter_seconds": row["jitter_seconds"], "max_runs": row["max_runs"],
        "remaining_actions": row["remaining_actions"],
        "latest_workflow_instance_id": row["latest_workflow_id"],
        "status": row["status"], "paused": paused, "note": row["note"],
        "fires_count": row["fires_count"], "failures_count": row["failures_count"],
        "next_fire_at": info["next_fire"], "last_fired_at": info["last_fire"],
        "paused_at": _stamp(row["paused_at"]),
    }  # fmt: skip


def update(tx: Tx, namespace: str, schedule_id: str, body: dict[str, Any]) -> dict[str, Any]:
    row = _find(tx, namespace, schedule_id)
    clean = _validate(body, creating=False)
    changes: dict[str, Any] = {"updated_at": tx.stamp}
    if "spec" in clean:
        changes["spec"] = dumps(clean["spec"])
    if "action" in clean:
        changes["action"] = dumps({**(loads(row["action"]) or {}), **clean["action"]})
    for key in ("memo", "search_attributes"):
        if key in body:
            changes[key] = dumps(body[key] or None)
    for key in ("overlap_policy", "jitter_seconds", "note"):
        if body.get(key) is not None:
            changes[key] = body[key]
    if body.get("max_runs") is not None:
        used = int(row["max_runs"] or 0) - int(row["remaining_actions"] or 0)
        changes["max_runs"] = body["max_runs"]
        changes["remaining_actions"] = max(0, int(body["max_runs"]) - max(used, 0))
    merged = {**row, **changes}
    changes["next_fire_at"] = _next_fire_at(merged, tx.now)
    tx.update("schedules", "id", row["id"], changes)
    _record(tx, row, "ScheduleUpdated", {"fields": sorted(k for k in body)})
    tx.wakes.add(("scheduler",))
    return {"schedule_id": schedule_id, "outcome": "updated"}


def _soft_delete(tx: Tx, row: ScheduleRow, reason: str) -> None:
    tx.update("schedules", "id", row["id"], {"status": "deleted", "next_fire_at": None,
                                            "updated_at": tx.stamp})  # fmt: skip
    _record(tx, row, "ScheduleDeleted", {"reason": reason})


def delete(tx: Tx, namespace: str, schedule_id: str) -> dict[str, Any]:
    _soft_delete(tx, _find(tx, namespace, schedule_id), "deleted")
    return {"namespace": namespace, "schedule_id": schedule_id, "outcome": "deleted",
            "deleted_at": _stamp(tx.stamp)}  # fmt: skip


def _set_status(tx: Tx, row: ScheduleRow, status: str, note: Any) -> None:
    changes: dict[str, Any] = {"status": status, "updated_at": tx.stamp}
    if note is not None:
        changes["note"] = note
    if status == "paused":
        changes["paused_at"] = tx.stamp
    else:
        changes["paused_at"] = None
        changes["next_fire_at"] = _next_fire_at(row, tx.now)
    tx.update("schedules", "id", row["id"], changes)
    event = "SchedulePaused" if status == "paused" else "ScheduleResumed"
    _record(tx, row, event, {"note": note, "next_fire_at": changes.get("next_fire_at")})


def pause_or_resume(
    tx: Tx, namespace: str, schedule_id: str, body: dict[str, Any], status: str
) -> dict[str, Any]:
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 1000):
        raise ValidationFailed({"note": ["The note must be a string of at most 1000 characters."]})
    row = _find(tx, namespace, schedule_id)
    if status == "active" and row["status"] != "paused":
        raise EngineError(409, {"message": "Only a paused schedule can be resumed.",
                                "reason": "schedule_not_paused",
                                "schedule_id": schedule_id})  # fmt: skip
    _set_status(tx, row, status, note)
    tx.wakes.add(("scheduler",))
    paused = status == "paused"
    return {"namespace": namespace, "schedule_id": schedule_id,
            "outcome": "paused" if paused else "resumed", "paused": paused,
            "note": note if note is not None else row["note"],
            "paused_at" if paused else "resumed_at": _stamp(tx.stamp)}  # fmt: skip


def _latest_open(tx: Tx, row: ScheduleRow) -> WorkflowRunRow | None:
    if not row["latest_workflow_id"]:
        return None
    try:
        run = find_instance_run(tx, row["namespace"], row["latest_workflow_id"])
    except EngineError:
        return None
    return None if runs.is_terminal(run["status"]) else run


def _skip(tx: Tx, row: ScheduleRow, reason: str) -> dict[str, Any]:
    tx.update("schedules", "id", row["id"], {
        "skipped_trigger_count": row["skipped_trigger_count"] + 1,
        "last_skip_reason": reason, "last_skipped_at": tx.stamp})  # fmt: skip
    _record(tx, row, "ScheduleTriggerSkipped", {"reason": reason})
    return {"schedule_id": row["schedule_id"], "outcome": "skipped", "reason": reason}


def _start(tx: Tx, row: ScheduleRow, fire_time: str) -> dict[str, Any]:
    action = loads(row["action"]) or {}
    body = {
        "workflow_id": new_ulid(),
        "workflow_type": action.get("workflow_type"),
        "task_queue": action.get("task_queue"),
        "input": action.get("input"),
        "memo": loads(row["memo"]),
        "search_attributes": loads(row["search_attributes"]),
        "execution_timeout_seconds": action.get("execution_timeout_seconds"),
        "run_timeout_seconds": action.get("run_timeout_seconds"),
    }
    _, started = runs.start_workflow(
        tx, row["namespace"], {k: v for k, v in body.items() if v is not None},
        max_memo_bytes=MAX_MEMO_BYTES,
    )  # fmt: skip
    remaining = row["remaining_actions"]
    if remaining is not None:
        remaining -= 1
    recent = ([{"workflow_id": started["workflow_id"], "run_id": started["run_id"],
                "outcome": "started", "fired_at": fmt_offset(parse(fire_time))}]
              + (loads(row["recent_actions"]) or []))[:10]  # fmt: skip
    tx.update("schedules", "id", row["id"], {
        "fires_count": row["fires_count"] + 1, "last_fire_at": fire_time,
        "latest_workflow_id": started["workflow_id"], "remaining_actions": remaining,
        "recent_actions": dumps(recent), "updated_at": tx.stamp})  # fmt: skip
    _record(tx, row, "ScheduleTriggered", {"fire_time": fire_time},
            started["workflow_id"], started["run_id"])  # fmt: skip
    if remaining is not None and remaining <= 0:
        _soft_delete(tx, {**row, "status": "deleted"}, "max_runs_exhausted")
    return {"schedule_id": row["schedule_id"], "outcome": "triggered",
            "workflow_id": started["workflow_id"], "run_id": started["run_id"]}  # fmt: skip


def trigger(
    tx: Tx, row: ScheduleRow, policy: str | None, fire_time: str, *, backfill: bool = False
) -> dict[str, Any]:
    """One fire through the overlap rules (used by trigger, backfill and the ticker)."""
    if row["status"] != "active":
        return _skip(tx, row, "status_not_triggerable")
    if row["remaining_actions"] is not None and row["remaining_actions"] <= 0:
        return _skip(tx, row, "remaining_actions_exhausted")
    policy = policy or row["overlap_policy"]
    if backfill and policy in ("buffer_one", "buffer_all"):
        policy = "allow_all"
    latest = _latest_open(tx, row)
    if latest is not None and policy != "allow_all":
        if policy == "skip":
            return _skip(tx, row, "overlap_policy_skip")
        if policy in ("buffer_one", "buffer_all"):
            buffered = loads(row["buffered"]) or []
            if policy == "buffer_one" and buffered:
                return {"schedule_id": row["schedule_id"], "outcome": "buffer_full",
                        "reason": "Previous workflow is still running and buffer is at"
                                  " capacity."}  # fmt: skip
            buffered.append(fire_time)
            tx.update("schedules", "id", row["id"], {"buffered": dumps(buffered)})
            return {"schedule_id": row["schedule_id"], "outcome": "buffered",
                    "buffer_depth": len(buffered)}  # fmt: skip
        kind = "cancel" if policy == "cancel_other" else "terminate"
        with contextlib.suppress(EngineError):  # best effort, as upstream
            closing.close_run(tx, row["namespace"], latest["workflow_id"], kind,
                              {"reason": f"Schedule overlap policy {policy}."})  # fmt: skip
    try:
        return _start(tx, row, fire_time)
    except EngineError as exc:
        tx.update("schedules", "id", row["id"], {"failures_count": row["failures_count"] + 1})
        message = str(exc.body.get("message") or exc.body.get("reason"))
        return {"schedule_id": row["schedule_id"], "outcome": "trigger_failed",
                "reason": message}  # fmt: skip


def trigger_now(tx: Tx, namespace: str, schedule_id: str, body: dict[str, Any]) -> dict[str, Any]:
    policy = body.get("overlap_policy")
    if policy is not None and policy not in OVERLAP:
        raise ValidationFailed({"overlap_policy": ["The selected overlap policy is invalid."]})
    result = trigger(tx, _find(tx, namespace, schedule_id), policy, tx.stamp)
    return {"namespace": namespace, **result}


def backfill(tx: Tx, namespace: str, schedule_id: str, body: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    times: dict[str, datetime] = {}
    for key in ("start_time", "end_time"):
        try:
            times[key] = parse(str(body[key]))
            if times[key].tzinfo is None:
                raise ValueError
        except (KeyError, ValueError):
            errors[key] = [f"The {key} field must be an ISO-8601 time with an offset."]
    policy = body.get("overlap_policy")
    if policy is not None and policy not in OVERLAP:
        errors["overlap_policy"] = ["The selected overlap policy is invalid."]
    if errors:
        raise ValidationFailed(errors)
    if times["end_time"] <= times["start_time"]:
        raise EngineError(422, {"message": "end_time must be after start_time.",
                                "reason": "invalid_time_range"})  # fmt: skip
    row = _find(tx, namespace, schedule_id)
    results = []
    for moment in fire_times(loads(row["spec"]) or {}, times["start_time"], times["end_time"]):
        row = _find(tx, namespace, schedule_id, deleted=True)
        if row["remaining_actions"] is not None and row["remaining_actions"] <= 0:
            break
        outcome = trigger(tx, row, policy, fmt_z(moment), backfill=True)
        entry = {"fire_time": fmt_offset(moment), "workflow_id": outcome.get("workflow_id"),
                 "outcome": {"triggered": "started", "trigger_failed": "failed"}.get(
                     outcome["outcome"], "skipped"),
                 "reason": outcome.get("reason") if outcome["outcome"] == "trigger_failed"
                 else None}  # fmt: skip
        results.append({k: v for k, v in entry.items() if v is not None})
    return {"schedule_id": schedule_id, "outcome": "backfill_started",
            "fires_attempted": len(results), "results": results}  # fmt: skip


def history(tx: Tx, namespace: str, schedule_id: str, query: dict[str, str]) -> dict[str, Any]:
    row = _find(tx, namespace, schedule_id, deleted=True)
    raw_after = query.get("after_sequence", "0")
    if not raw_after.isdecimal() or int(raw_after) >= 2**63:
        raise EngineError(422, {"message": "after_sequence must be a non-negative integer.",
                                "reason": "invalid_after_sequence"})  # fmt: skip
    raw_limit = query.get("limit", "100")
    limit = min(int(raw_limit), 1000) if raw_limit.isdecimal() and int(raw_limit) > 0 else 100
    events = tx.all(
        "SELECT * FROM schedule_events WHERE schedule_row_id = ? AND sequence > ?"
        " ORDER BY sequence LIMIT ?",
        (row["id"], int(raw_after), limit + 1),
        row=ScheduleEventRow,
    )
    more = len(events) > limit
    events = events[:limit]
    return {
        "schedule_id": schedule_id, "namespace": namespace,
        "events": [{"id": e["id"], "sequence": e["sequence"], "event_type": e["event_type"],
                    "payload": loads(e["payload"]),
                    "workflow_instance_id": e["workflow_instance_id"],
                    "workflow_run_id": e["workflow_run_id"],
                    "recorded_at": _stamp(e["recorded_at"])} for e in events],
        "next_cursor": str(events[-1]["sequence"]) if more and events else None,
        "has_more": more,
    }  # fmt: skip


def fire_due(tx: Tx, limit: int = 100) -> int:
    """Fire active schedules whose next fire time has come; drain ready buffers."""
    handled = 0
    for row in tx.all(
        "SELECT * FROM schedules WHERE status = 'active' AND next_fire_at IS NOT NULL"
        " AND next_fire_at <= ? ORDER BY next_fire_at LIMIT ?",
        (tx.stamp, limit),
        row=ScheduleRow,
    ):
        fire_time = cast(str, row["next_fire_at"])  # selected IS NOT NULL
        tx.update("schedules", "id", row["id"], {"next_fire_at": _next_fire_at(row, tx.now)})
        trigger(tx, {**row}, None, fire_time)
        handled += 1
    for row in tx.all(
        "SELECT * FROM schedules WHERE status = 'active' AND buffered != '[]' LIMIT ?",
        (limit,),
        row=ScheduleRow,
    ):
        if _latest_open(tx, row) is None:
            buffered = loads(row["buffered"]) or []
            tx.update("schedules", "id", row["id"], {"buffered": dumps(buffered[1:])})
            _start(tx, {**row, "buffered": dumps(buffered[1:])}, buffered[0])
            handled += 1
    return handled


def next_due(tx: Tx) -> str | None:
    """Earliest fire time; with buffered actions, one second from now (to drain them)."""
    row = tx.one(
        "SELECT MIN(next_fire_at) AS due FROM schedules WHERE status = 'active'"
        " AND next_fire_at IS NOT NULL"
    )
    due = None if row is None else row["due"]
    if tx.one("SELECT 1 FROM schedules WHERE status = 'active' AND buffered != '[]'"):
        soon = fmt_z(tx.now.fromtimestamp(tx.now.timestamp() + 1, tx.now.tzinfo))
        due = soon if due is None else min(due, soon)
    return None if due is None else str(due)
