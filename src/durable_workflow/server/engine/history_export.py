"""The history export bundle of one run (control-plane.md §8.2) with its integrity block.

The checksum is SHA-256 over ``json-recursive-ksort-v1`` of the bundle
without ``integrity``, serialised exactly as the SDK verifier recomputes it
(compact, non-ASCII written raw). The HTTP body itself is sent ASCII-escaped
(``ascii_only`` in contracts/operations.json), so the bytes on the wire stay ASCII while
the parsed text -- and therefore the recomputed checksum -- is identical.
Derived upstream projections the dev server does not keep (waits, timeline,
linked intakes) are present and empty.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from durable_workflow._generated import manifest
from durable_workflow.server.engine.payload_codec import expose_external, is_marker
from durable_workflow.server.engine.run_views import find_run
from durable_workflow.server.engine.runs import is_terminal, status_bucket
from durable_workflow.server.store.rows import (
    ActivityExecutionRow,
    HistoryEventRow,
    TaskRow,
    WorkflowCommandRow,
    WorkflowRunRow,
    WorkflowUpdateRow,
)
from durable_workflow.server.store.tx import Tx, loads

CANONICALIZATION = "json-recursive-ksort-v1"
AVRO_WRAPPER_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Payload",
    "namespace": "durable_workflow",
    "fields": [
        {"name": "json", "type": "string"},
        {"name": "version", "type": "int", "default": 1},
    ],
}


def _ksort(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _ksort(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_ksort(v) for v in value]
    return value


def canonical(bundle: dict[str, Any]) -> str:
    """``json-recursive-ksort-v1`` text of ``bundle`` minus ``integrity``."""
    body = {k: v for k, v in bundle.items() if k != "integrity"}
    return json.dumps(_ksort(body), separators=(",", ":"), ensure_ascii=False)


def integrity(
    bundle: dict[str, Any], signing_key: str | None, key_id: str | None
) -> dict[str, Any]:
    text = canonical(bundle).encode("utf-8")
    signature = (
        None
        if not signing_key
        else hmac.new(signing_key.encode(), text, hashlib.sha256).hexdigest()
    )
    return {
        "canonicalization": CANONICALIZATION,
        "checksum_algorithm": "sha256",
        "checksum": hashlib.sha256(text).hexdigest(),
        "signature_algorithm": "hmac-sha256" if signing_key else None,
        "signature": signature,
        "key_id": key_id if signing_key else None,
    }


def _fingerprint() -> str:
    text = json.dumps(AVRO_WRAPPER_SCHEMA, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _manifest_entry(path: str, codec: str | None, data: str | None) -> dict[str, Any]:
    external = is_marker(data)
    avro = codec == "avro" and not external
    return {
        "path": path,
        "codec": codec or "avro",
        "available": data is not None,
        "redacted": False,
        "encoding": "external-storage-reference"
        if external
        else ("base64-avro-binary" if avro else "opaque-string"),
        "avro_framing": "generic-wrapper" if avro else None,
        "avro_prefix_hex": "00" if avro else None,
        "writer_schema": AVRO_WRAPPER_SCHEMA if avro else None,
        "writer_schema_fingerprint": _fingerprint() if avro else None,
        "diagnostic": None if data is not None else "payload_unavailable",
    }


def _workflow_block(tx: Tx, run: WorkflowRunRow, empty_map: Any) -> dict[str, Any]:
    instance = tx.one(
        "SELECT current_run_id FROM workflow_instances WHERE workflow_id = ?", (run["workflow_id"],)
    )
    current = instance["current_run_id"] if instance else run["run_id"]
    return {
        "instance_id": run["workflow_id"],
        "run_id": run["run_id"],
        "run_number": run["run_number"],
        "is_current_run": current == run["run_id"],
        "current_run_id": current,
        "current_run_source": "instance",
        "workflow_type": run["workflow_type"],
        "workflow_class": run["workflow_type"],
        "business_key": run["business_key"],
        "visibility_labels": [],
        "memo": loads(run["memo"]) or copy.copy(empty_map),
        "search_attributes": loads(run["search_attributes"]) or copy.copy(empty_map),
        "status": run["status"],
        "status_bucket": status_bucket(run["status"]),
        "closed_reason": run["closed_reason"],
        "archived_at": run["archived_at"],
        "archive_command_id": run["archive_command_id"],
        "archive_reason": run["archive_reason"],
        "compatibility": run["compatibility"],
        "connection": None,
        "queue": run["task_queue"],
        "last_history_sequence": run["last_history_sequence"],
        "started_at": run["started_at"],
        "closed_at": run["closed_at"],
        "last_progress_at": run["last_progress_at"],
    }


def _events(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    rows = tx.all(
        "SELECT * FROM history_events WHERE run_id = ? ORDER BY sequence",
        (run_id,),
        row=HistoryEventRow,
    )
    return [
        {
            "id": r["id"],
            "sequence": r["sequence"],
            "type": r["event_type"],
            "workflow_task_id": r["workflow_task_id"],
            "workflow_command_id": r["workflow_command_id"],
            "recorded_at": r["recorded_at"],
            "payload": loads(r["payload"]),
        }
        for r in rows
    ]


def _commands(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    rows = tx.all(
        "SELECT * FROM workflow_commands WHERE run_id = ? ORDER BY id",
        (run_id,),
        row=WorkflowCommandRow,
    )
    return [
        {
            "id": r["id"],
            "sequence": index + 1,
            "type": r["type"],
            "target_scope": "instance",
            "requested_run_id": None,
            "resolved_run_id": run_id,
            "payload_codec": r["payload_codec"],
            "payload": r["payload"],
            "source": "control_plane",
            "status": r["status"],
            "outcome": r["outcome"],
            "rejection_reason": r["rejection_reason"],
            "validation_errors": [],
            "accepted_at": r["created_at"] if r["status"] == "accepted" else None,
            "rejected_at": r["created_at"] if r["status"] == "rejected" else None,
        }
        for index, r in enumerate(rows)
    ]


def _signals(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": e["payload"].get("signal_id"),
            "command_id": e["payload"].get("workflow_command_id"),
            "name": e["payload"].get("signal_name"),
            "status": "received",
            "received_at": e["recorded_at"],
            "payload_codec": e["payload"].get("payload_codec"),
            "arguments": e["payload"].get("arguments"),
        }
        for e in events
        if e["type"] == "SignalReceived"
    ]


def _updates(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    rows = tx.all(
        "SELECT * FROM workflow_updates WHERE run_id = ? ORDER BY id",
        (run_id,),
        row=WorkflowUpdateRow,
    )
    return [
        {
            "id": r["id"],
            "command_id": r["command_id"],
            "workflow_sequence": r["workflow_sequence"],
            "name": r["update_name"],
            "status": r["status"],
            "failure_id": r["failure_id"],
            "accepted_at": r["accepted_at"],
            "applied_at": r["applied_at"],
            "closed_at": r["closed_at"],
            "payload_codec": r["payload_codec"],
            "arguments": r["arguments"],
            "result": r["result"],
        }
        for r in rows
    ]


def _tasks(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    rows: Sequence[Mapping[str, Any]] = tx.all(
        "SELECT * FROM tasks WHERE run_id = ? ORDER BY id", (run_id,), row=TaskRow
    )
    keys = ("id", "status", "queue", "compatibility", "attempt_count", "repair_count",
            "available_at", "leased_at", "lease_owner", "lease_expires_at")  # fmt: skip
    return [
        {**{k: r[k] for k in keys}, "type": r["task_type"], "payload": loads(r["payload"])}
        for r in rows
    ]


def _activities(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    rows = tx.all(
        "SELECT * FROM activity_executions WHERE run_id = ? ORDER BY id",
        (run_id,),
        row=ActivityExecutionRow,
    )
    out = []
    for r in rows:
        attempts = tx.all(
            "SELECT id, attempt_number, status, started_at, closed_at FROM activity_attempts"
            " WHERE execution_id = ? ORDER BY attempt_number",
            (r["id"],),
        )
        out.append(
            {
                "id": r["id"],
                "sequence": r["sequence"],
                "activity_type": r["activity_type"],
                "status": r["status"],
                "queue": r["queue"],
                "retry_policy": loads(r["retry_policy"]),
                "attempt_count": r["attempt_count"],
                "current_attempt_id": r["current_attempt_id"],
                "arguments": r["arguments"],
                "result": r["result"],
                "created_at": r["created_at"],
                "started_at": r["started_at"],
                "last_heartbeat_at": r["last_heartbeat_at"],
                "closed_at": r["closed_at"],
                "attempts": attempts,
            }
        )
    return out


def _timers(tx: Tx, run_id: str) -> list[dict[str, Any]]:
    return tx.all(
        "SELECT id, sequence, status, delay_seconds, fire_at, fired_at, created_at, timer_kind,"
        " condition_wait_id FROM timers WHERE run_id = ? ORDER BY sequence",
        (run_id,),
    )


def _links(tx: Tx, run: WorkflowRunRow) -> dict[str, Any]:
    children = tx.all(
        "SELECT run_id, workflow_id, run_number, workflow_type, status, closed_reason, started_at"
        " FROM workflow_runs WHERE continued_from_run_id = ?",
        (run["run_id"],),
    )
    parents = []
    if run["continued_from_run_id"]:
        parents = tx.all(
            "SELECT run_id, workflow_id, run_number, workflow_type, status, closed_reason,"
            " started_at FROM workflow_runs WHERE run_id = ?",
            (run["continued_from_run_id"],),
        )

    def link(
        row: Mapping[str, Any], parent: Mapping[str, Any], child: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "type": "continue_as_new",
            "parent_workflow_instance_id": parent["workflow_id"],
            "parent_workflow_run_id": parent["run_id"],
            "child_workflow_instance_id": child["workflow_id"],
            "child_workflow_run_id": child["run_id"],
            "run_number": row["run_number"],
            "workflow_type": row["workflow_type"],
            "status": row["status"],
            "status_bucket": status_bucket(row["status"]),
            "closed_reason": row["closed_reason"],
            "created_at": row["started_at"],
        }

    return {
        "projection_source": "runs",
        "parents": [link(p, p, run) for p in parents],
        "children": [link(c, run, c) for c in children],
    }


def export_bundle(
    tx: Tx,
    namespace: str,
    workflow_id: str,
    run_id: str,
    *,
    signing_key: str | None = None,
    key_id: str | None = None,
    empty_map: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole bundle of one run, ``integrity`` last.

    ``empty_map`` is how an empty memo / search-attribute map is written: ``[]`` (None) as
    the 0.x server (PHP's empty array) does, ``{}`` for the 2.x bundle schema.
    """
    run = find_run(tx, namespace, workflow_id, run_id)
    codec = run["payload_codec"]
    events = _events(tx, run_id)
    commands = _commands(tx, run_id)
    updates = _updates(tx, run_id)
    activities = _activities(tx, run_id)
    signals = _signals(events)
    entries = [
        _manifest_entry("payloads.arguments.data", codec, run["arguments"]),
        _manifest_entry("payloads.output.data", codec, run["output"]),
    ]
    entries += [
        _manifest_entry(f"commands.{i}.payload", c["payload_codec"], c["payload"])
        for i, c in enumerate(commands)
        if c["payload"] is not None
    ]
    entries += [
        _manifest_entry(f"signals.{i}.arguments", s["payload_codec"], s["arguments"])
        for i, s in enumerate(signals)
        if s["arguments"] is not None
    ]
    for i, u in enumerate(updates):
        for key in ("arguments", "result"):
            if u[key] is not None:
                entries.append(_manifest_entry(f"updates.{i}.{key}", u["payload_codec"], u[key]))
    for i, a in enumerate(activities):
        for key in ("arguments", "result"):
            if a[key] is not None:
                entries.append(_manifest_entry(f"activities.{i}.{key}", codec, a[key]))
    uses_avro = any(e["codec"] == "avro" and e["available"] for e in entries)
    codec_schemas: dict[str, Any] = {}
    if uses_avro:
        codec_schemas["avro"] = {
            "encoding": "base64-avro-binary",
            "wrapper_schema": AVRO_WRAPPER_SCHEMA,
            "wrapper_prefix_hex": "00",
            "typed_prefix_hex": "01",
            "generic_wrapper": {
                "prefix_hex": "00",
                "writer_schema": AVRO_WRAPPER_SCHEMA,
                "writer_schema_fingerprint": _fingerprint(),
            },
            "typed_schema": {
                "prefix_hex": "01",
                "schema_header": "uint32_be_length_prefixed_utf8_json",
                "writer_schema_location": "payload",
            },
        }
    progress = run["last_progress_at"] or run["updated_at"]
    bundle: dict[str, Any] = {
        "schema": manifest.HISTORY_EXPORT_SCHEMA,
        "schema_version": manifest.HISTORY_EXPORT_VERSION,
        "exported_at": tx.stamp,
        "dedupe_key": f"{run_id}:{run['last_history_sequence']}:{progress}",
        "history_complete": is_terminal(run["status"]),
        "workflow": _workflow_block(tx, run, [] if empty_map is None else empty_map),
        "payloads": {
            "codec": codec,
            "arguments": {"available": run["arguments"] is not None, "data": run["arguments"]},
            "output": {"available": run["output"] is not None, "data": run["output"]},
        },
        "summary": {
            "status": run["status"],
            "status_bucket": status_bucket(run["status"]),
            "history_event_count": len(events),
            "history_size_bytes": sum(len(json.dumps(e["payload"])) for e in events),
            "continue_as_new_recommended": False,
        },
        "selected_run": {
            "waits_projection_source": "none",
            "timeline_projection_source": "none",
            "timers_projection_source": "timers",
            "timers_projection_rebuild_reasons": [],
            "lineage_projection_source": "runs",
        },
        "history_events": events,
        "waits": [],
        "timeline": [],
        "linked_intakes_scope": "selected_run",
        "linked_intakes": [],
        "commands": commands,
        "signals": signals,
        "updates": updates,
        "tasks": _tasks(tx, run_id),
        "activities": activities,
        "timers": _timers(tx, run_id),
        "failures": [],
        "links": _links(tx, run),
        "redaction": {"applied": False, "policy": None, "paths": []},
        "codec_schemas": codec_schemas,
        "payload_manifest": {"version": 1, "entries": entries},
    }
    bundle = expose_external(bundle)  # offloaded values as their references (payloads.md §4.3)
    bundle["integrity"] = integrity(bundle, signing_key, key_id)
    return bundle
