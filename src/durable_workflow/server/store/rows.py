"""The row shapes of the SQLite tables, one TypedDict per table, declared once.

``Tx.one`` / ``Tx.all`` return these for ``SELECT *`` queries, so a column the
engine reads has a type. Keys follow :mod:`durable_workflow.server.store.schema`
column for column (nullable columns are ``| None``; JSON columns are ``str``);
``tests/unit/server/test_store_rows.py`` checks each shape against a freshly
migrated database so the two cannot drift.
"""

from __future__ import annotations

from typing import TypedDict


class NamespaceRow(TypedDict):
    """A namespace: its retention and external-payload storage policy."""

    name: str
    description: str | None
    retention_days: int
    status: str
    external_payload_storage: str | None
    created_at: str
    updated_at: str


class WorkflowInstanceRow(TypedDict):
    """A workflow id and the run that is current for it."""

    workflow_id: str
    namespace: str
    workflow_type: str
    current_run_id: str | None
    run_count: int
    created_at: str


class NewWorkflowRun(TypedDict):
    """A run as ``create_run`` inserts it: every column but the archive ones."""

    run_id: str
    workflow_id: str
    namespace: str
    run_number: int
    workflow_type: str
    business_key: str | None
    status: str
    closed_reason: str | None
    task_queue: str | None
    compatibility: str | None
    payload_codec: str
    arguments: str | None
    output: str | None
    memo: str | None
    search_attributes: str | None
    execution_timeout_seconds: int | None
    run_timeout_seconds: int | None
    execution_deadline_at: str | None
    run_deadline_at: str | None
    last_history_sequence: int
    continued_from_run_id: str | None
    started_at: str
    closed_at: str | None
    last_progress_at: str | None
    updated_at: str


class WorkflowRunRow(NewWorkflowRun):
    """One run of a workflow: status, payloads, deadlines, history length."""

    archived_at: str | None
    archive_command_id: str | None
    archive_reason: str | None


class WorkflowCommandRow(TypedDict):
    """A control-plane command (start, signal, cancel, ...) and its outcome."""

    id: str
    namespace: str
    workflow_id: str
    run_id: str | None
    type: str
    payload_codec: str | None
    payload: str | None
    status: str
    outcome: str | None
    rejection_reason: str | None
    created_at: str


class HistoryEventRow(TypedDict):
    """One event of a run's history; ``payload`` is JSON."""

    id: str
    run_id: str
    sequence: int
    event_type: str
    payload: str
    workflow_task_id: str | None
    workflow_command_id: str | None
    recorded_at: str


class TaskRow(TypedDict):
    """A workflow, activity or timer task and its lease (``task_type``)."""

    id: str
    namespace: str
    run_id: str
    task_type: str
    status: str
    queue: str | None
    compatibility: str | None
    available_at: str
    leased_at: str | None
    lease_owner: str | None
    lease_expires_at: str | None
    attempt_count: int
    repair_count: int
    payload: str
    last_error: str | None
    created_at: str
    updated_at: str


class ActivityExecutionRow(TypedDict):
    """One scheduled activity across its attempts: deadlines, result, failure."""

    id: str
    namespace: str
    run_id: str
    sequence: int
    activity_type: str
    queue: str | None
    status: str
    arguments: str | None
    result: str | None
    result_codec: str | None
    exception: str | None
    retry_policy: str | None
    attempt_count: int
    current_attempt_id: str | None
    current_task_id: str | None
    schedule_deadline_at: str | None
    schedule_to_close_deadline_at: str | None
    close_deadline_at: str | None
    heartbeat_deadline_at: str | None
    last_heartbeat_at: str | None
    started_at: str | None
    closed_at: str | None
    created_at: str


class ActivityAttemptRow(TypedDict):
    """One attempt of an activity execution and its lease."""

    id: str
    execution_id: str
    task_id: str
    attempt_number: int
    status: str
    lease_owner: str | None
    lease_expires_at: str | None
    last_heartbeat_at: str | None
    started_at: str
    closed_at: str | None


class TimerRow(TypedDict):
    """A durable timer; ``condition_wait_id`` when it bounds a condition wait."""

    id: str
    run_id: str
    sequence: int
    delay_seconds: int
    fire_at: str
    status: str
    fired_at: str | None
    created_at: str
    timer_kind: str | None
    condition_wait_id: str | None


class WorkerRow(TypedDict):
    """A registered worker and what it polls for; list fields are JSON."""

    namespace: str
    worker_id: str
    task_queue: str
    runtime: str
    sdk_version: str | None
    build_id: str | None
    supported_workflow_types: str
    supported_activity_types: str
    workflow_definition_fingerprints: str
    max_concurrent_workflow_tasks: int
    max_concurrent_activity_tasks: int
    status: str
    registered_at: str
    last_heartbeat_at: str
    updated_at: str | None
    # Generation 2 only (JSON): capabilities, capability_manifest, workflow_command_contracts,
    # registration_token, protocol_version.
    protocol_registration: str | None


class WorkerDeregistrationRow(TypedDict):
    """A graceful deregistration's receipt, replayed for the same token until it expires."""

    namespace: str
    worker_id: str
    registration_token: str
    receipt: str
    expires_at: str


class ConditionWaitRow(TypedDict):
    """A workflow waiting on a condition, with its optional timeout timer."""

    id: str
    run_id: str
    sequence: int
    condition_key: str | None
    condition_definition_fingerprint: str | None
    timeout_seconds: int | None
    timer_id: str | None
    status: str
    created_at: str
    # The 1.17+ worker's condition_wait_occurrence_id, echoed on the wait's events.
    occurrence_id: str | None


class WorkflowUpdateRow(TypedDict):
    """One update sent to a run, from acceptance to its result or failure."""

    id: str
    namespace: str
    workflow_id: str
    run_id: str
    command_id: str
    update_name: str
    arguments: str | None
    payload_codec: str
    status: str
    result: str | None
    failure_id: str | None
    failure_message: str | None
    workflow_sequence: int | None
    accepted_at: str
    applied_at: str | None
    closed_at: str | None


class ChildLinkRow(TypedDict):
    """The link from a parent run to a child workflow it started."""

    id: str
    namespace: str
    parent_workflow_id: str
    parent_run_id: str
    sequence: int
    child_call_id: str
    child_workflow_id: str
    parent_close_policy: str
    retry_policy: str | None
    timeout_policy: str | None
    status: str
    created_at: str


class SearchAttributeDefinitionRow(TypedDict):
    """A custom search attribute declared in a namespace."""

    namespace: str
    name: str
    type: str
    created_at: str


class BuildIdIntentRow(TypedDict):
    """A build id seen on a task queue and whether it is being drained."""

    namespace: str
    task_queue: str
    build_id: str
    drain_intent: str
    drained_at: str | None
    first_seen_at: str


class ScheduleRow(TypedDict):
    """A schedule: spec, action and overlap policy as JSON, and its firing state."""

    id: str
    namespace: str
    schedule_id: str
    status: str
    spec: str
    action: str
    overlap_policy: str
    jitter_seconds: int
    max_runs: int | None
    remaining_actions: int | None
    memo: str | None
    search_attributes: str | None
    note: str | None
    next_fire_at: str | None
    last_fire_at: str | None
    fires_count: int
    failures_count: int
    buffered: str
    recent_actions: str
    skipped_trigger_count: int
    last_skip_reason: str | None
    last_skipped_at: str | None
    latest_workflow_id: str | None
    paused_at: str | None
    created_at: str
    updated_at: str


class ScheduleEventRow(TypedDict):
    """One event of a schedule's own history."""

    id: str
    schedule_row_id: str
    sequence: int
    event_type: str
    payload: str
    workflow_instance_id: str | None
    workflow_run_id: str | None
    recorded_at: str


class BridgeDeliveryRow(TypedDict):
    """A webhook delivery the bridge has applied (redelivery dedupe)."""

    namespace: str
    adapter: str
    action: str
    idempotency_key: str
    target_name: str
    workflow_id: str
    run_id: str | None
    created_at: str
