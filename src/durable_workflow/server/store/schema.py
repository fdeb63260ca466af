"""The SQLite schema as a list of migrations; a database records the version it is at.

Design note: workflow, activity and timer tasks share one ``tasks`` table
(``task_type`` column), as upstream does; that gives the scheduler one index
on due times (``available_at`` / ``lease_expires_at``).
"""

from __future__ import annotations

# Each entry migrates the schema from version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE namespaces (
        name TEXT PRIMARY KEY,
        description TEXT,
        retention_days INTEGER NOT NULL DEFAULT 30,
        status TEXT NOT NULL DEFAULT 'active',
        external_payload_storage TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE workflow_instances (
        workflow_id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        workflow_type TEXT NOT NULL,
        current_run_id TEXT,
        run_count INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE workflow_runs (
        run_id TEXT PRIMARY KEY,
        workflow_id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        run_number INTEGER NOT NULL,
        workflow_type TEXT NOT NULL,
        business_key TEXT,
        status TEXT NOT NULL,
        closed_reason TEXT,
        task_queue TEXT,
        compatibility TEXT,
        payload_codec TEXT NOT NULL,
        arguments TEXT,
        output TEXT,
        memo TEXT,
        search_attributes TEXT,
        execution_timeout_seconds INTEGER,
        run_timeout_seconds INTEGER,
        execution_deadline_at TEXT,
        run_deadline_at TEXT,
        last_history_sequence INTEGER NOT NULL DEFAULT 0,
        continued_from_run_id TEXT,
        started_at TEXT NOT NULL,
        closed_at TEXT,
        last_progress_at TEXT,
        updated_at TEXT NOT NULL,
        UNIQUE (workflow_id, run_number)
    );
    CREATE INDEX workflow_runs_namespace ON workflow_runs (namespace, started_at);
    CREATE TABLE workflow_commands (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        run_id TEXT,
        type TEXT NOT NULL,
        payload_codec TEXT,
        payload TEXT,
        status TEXT NOT NULL,
        outcome TEXT,
        rejection_reason TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE history_events (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL,
        workflow_task_id TEXT,
        workflow_command_id TEXT,
        recorded_at TEXT NOT NULL,
        UNIQUE (run_id, sequence)
    );
    CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        run_id TEXT NOT NULL,
        task_type TEXT NOT NULL,
        status TEXT NOT NULL,
        queue TEXT,
        compatibility TEXT,
        available_at TEXT NOT NULL,
        leased_at TEXT,
        lease_owner TEXT,
        lease_expires_at TEXT,
        attempt_count INTEGER NOT NULL DEFAULT 0,
        repair_count INTEGER NOT NULL DEFAULT 0,
        payload TEXT NOT NULL DEFAULT '{}',
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX tasks_ready ON tasks (namespace, queue, task_type, status, available_at);
    CREATE INDEX tasks_due ON tasks (status, available_at);
    CREATE INDEX tasks_lease ON tasks (status, lease_expires_at);
    CREATE INDEX tasks_run ON tasks (run_id, status);
    CREATE TABLE activity_executions (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        run_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        activity_type TEXT NOT NULL,
        queue TEXT,
        status TEXT NOT NULL,
        arguments TEXT,
        result TEXT,
        result_codec TEXT,
        exception TEXT,
        retry_policy TEXT,
        attempt_count INTEGER NOT NULL DEFAULT 0,
        current_attempt_id TEXT,
        current_task_id TEXT,
        schedule_deadline_at TEXT,
        schedule_to_close_deadline_at TEXT,
        close_deadline_at TEXT,
        heartbeat_deadline_at TEXT,
        last_heartbeat_at TEXT,
        started_at TEXT,
        closed_at TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE activity_attempts (
        id TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        attempt_number INTEGER NOT NULL,
        status TEXT NOT NULL,
        lease_owner TEXT,
        lease_expires_at TEXT,
        last_heartbeat_at TEXT,
        started_at TEXT NOT NULL,
        closed_at TEXT
    );
    CREATE INDEX activity_attempts_execution ON activity_attempts (execution_id);
    CREATE TABLE timers (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        delay_seconds INTEGER NOT NULL,
        fire_at TEXT NOT NULL,
        status TEXT NOT NULL,
        fired_at TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE workers (
        namespace TEXT NOT NULL,
        worker_id TEXT NOT NULL,
        task_queue TEXT NOT NULL,
        runtime TEXT NOT NULL,
        sdk_version TEXT,
        build_id TEXT,
        supported_workflow_types TEXT NOT NULL DEFAULT '[]',
        supported_activity_types TEXT NOT NULL DEFAULT '[]',
        workflow_definition_fingerprints TEXT NOT NULL DEFAULT '{}',
        max_concurrent_workflow_tasks INTEGER NOT NULL DEFAULT 100,
        max_concurrent_activity_tasks INTEGER NOT NULL DEFAULT 100,
        status TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        last_heartbeat_at TEXT NOT NULL,
        PRIMARY KEY (namespace, worker_id)
    );
    """,
    # 2: condition waits and the timer fields their timeouts need.
    """
    CREATE TABLE condition_waits (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        condition_key TEXT,
        condition_definition_fingerprint TEXT,
        timeout_seconds INTEGER,
        timer_id TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX condition_waits_run ON condition_waits (run_id, status);
    ALTER TABLE timers ADD COLUMN timer_kind TEXT;
    ALTER TABLE timers ADD COLUMN condition_wait_id TEXT;
    """,
    # 3: workflow updates (control-plane §7.10, engine-semantics §9).
    """
    CREATE TABLE workflow_updates (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        command_id TEXT NOT NULL,
        update_name TEXT NOT NULL,
        arguments TEXT,
        payload_codec TEXT NOT NULL,
        status TEXT NOT NULL,
        result TEXT,
        failure_id TEXT,
        failure_message TEXT,
        workflow_sequence INTEGER,
        accepted_at TEXT NOT NULL,
        applied_at TEXT,
        closed_at TEXT
    );
    CREATE INDEX workflow_updates_run ON workflow_updates (run_id, status);
    """,
    # 4: archiving closed runs (control-plane §7.13).
    """
    ALTER TABLE workflow_runs ADD COLUMN archived_at TEXT;
    ALTER TABLE workflow_runs ADD COLUMN archive_command_id TEXT;
    ALTER TABLE workflow_runs ADD COLUMN archive_reason TEXT;
    """,
    # 5: child workflow links (engine-semantics §12).
    """
    CREATE TABLE child_links (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        parent_workflow_id TEXT NOT NULL,
        parent_run_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        child_call_id TEXT NOT NULL,
        child_workflow_id TEXT NOT NULL,
        parent_close_policy TEXT NOT NULL,
        retry_policy TEXT,
        timeout_policy TEXT,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX child_links_parent ON child_links (parent_run_id, status);
    CREATE INDEX child_links_child ON child_links (child_workflow_id, status);
    """,
    # 6: open-run deadlines, found by the scheduler without a full scan.
    """
    CREATE INDEX workflow_runs_run_deadline ON workflow_runs (run_deadline_at)
        WHERE run_deadline_at IS NOT NULL AND closed_at IS NULL;
    CREATE INDEX workflow_runs_execution_deadline ON workflow_runs (execution_deadline_at)
        WHERE execution_deadline_at IS NOT NULL AND closed_at IS NULL;
    """,
    # 7: custom search attribute definitions and build-id drain intents.
    """
    CREATE TABLE search_attribute_definitions (
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (namespace, name)
    );
    CREATE TABLE build_id_intents (
        namespace TEXT NOT NULL,
        task_queue TEXT NOT NULL,
        build_id TEXT NOT NULL,
        drain_intent TEXT NOT NULL,
        drained_at TEXT,
        first_seen_at TEXT NOT NULL,
        PRIMARY KEY (namespace, task_queue, build_id)
    );
    ALTER TABLE workers ADD COLUMN updated_at TEXT;
    """,
    # 8: schedules and their history (control-plane §9).
    """
    CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        schedule_id TEXT NOT NULL,
        status TEXT NOT NULL,
        spec TEXT NOT NULL,
        action TEXT NOT NULL,
        overlap_policy TEXT NOT NULL,
        jitter_seconds INTEGER NOT NULL DEFAULT 0,
        max_runs INTEGER,
        remaining_actions INTEGER,
        memo TEXT,
        search_attributes TEXT,
        note TEXT,
        next_fire_at TEXT,
        last_fire_at TEXT,
        fires_count INTEGER NOT NULL DEFAULT 0,
        failures_count INTEGER NOT NULL DEFAULT 0,
        buffered TEXT NOT NULL DEFAULT '[]',
        recent_actions TEXT NOT NULL DEFAULT '[]',
        skipped_trigger_count INTEGER NOT NULL DEFAULT 0,
        last_skip_reason TEXT,
        last_skipped_at TEXT,
        latest_workflow_id TEXT,
        paused_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX schedules_lookup ON schedules (namespace, schedule_id, status);
    CREATE INDEX schedules_due ON schedules (status, next_fire_at);
    CREATE TABLE schedule_events (
        id TEXT PRIMARY KEY,
        schedule_row_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        payload TEXT NOT NULL,
        workflow_instance_id TEXT,
        workflow_run_id TEXT,
        recorded_at TEXT NOT NULL,
        UNIQUE (schedule_row_id, sequence)
    );
    """,
    # 9: bridge webhook deliveries (redelivery dedupe, control-plane §14).
    """
    CREATE TABLE bridge_deliveries (
        namespace TEXT NOT NULL,
        adapter TEXT NOT NULL,
        action TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        target_name TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        run_id TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (namespace, adapter, action, idempotency_key, target_name, workflow_id)
    );
    """,
    # 10: hot-path indexes. A claim reads ready tasks in (available_at, id) order straight
    # from the index (no sort of the whole backlog); the scheduler finds open activity
    # executions without scanning every execution ever recorded.
    """
    DROP INDEX tasks_ready;
    CREATE INDEX tasks_ready ON tasks (namespace, queue, task_type, status, available_at, id);
    CREATE INDEX activity_executions_status ON activity_executions (status);
    """,
    # 11: what a generation-2 (2.x) registration adds (capabilities, manifest, command
    # contracts, incarnation token), its deregistration receipts, and the occurrence
    # identity a 1.17+ worker gives a condition wait.
    """
    ALTER TABLE workers ADD COLUMN protocol_registration TEXT;
    CREATE TABLE worker_deregistrations (
        namespace TEXT NOT NULL,
        worker_id TEXT NOT NULL,
        registration_token TEXT NOT NULL,
        receipt TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        PRIMARY KEY (namespace, worker_id, registration_token)
    );
    ALTER TABLE condition_waits ADD COLUMN occurrence_id TEXT;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
