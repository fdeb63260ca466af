"""The control-plane CLI as data: one command per catalogued operation.

Command words come from the operation name (``task_queue.build_id.drain`` ->
``task-queue build-id drain``); each argument says where its value goes in
the request (a path parameter, a query parameter or a dotted body field), so
one generic builder turns parsed arguments into the exact request of the
upstream CLI (the ``cli.argv`` of the parity fixtures is the contract).
"""

from __future__ import annotations

from durable_workflow.cli._control_spec_types import Arg, Command, command_words
from durable_workflow.cli._control_specs_worker import WORKER_PLANE_COMMANDS

__all__ = ["COMMANDS", "Arg", "Command", "command_words"]

WF = Arg("workflow-id", "path:workflowId", help="workflow instance id")
RUN = Arg("run-id", "path:runId", help="run id")
SCHED = Arg("schedule-id", "path:scheduleId", help="schedule id")
NS = Arg("name", "path:namespace", help="namespace name")
TQ = Arg("task-queue", "path:taskQueue", help="task queue name")
WORKER = Arg("worker-id", "path:workerId", help="worker id")
INPUT = Arg("--input", "body:input", "json", help="arguments as a JSON array")
REASON = Arg("--reason", "body:reason", help="reason recorded with the command")
REQUEST_ID = Arg("--request-id", "body:request_id", help="idempotency key")
NOTE = Arg("--note", "body:note", help="note recorded with the change")
OVERLAP = Arg("--overlap-policy", "body:overlap_policy", help="skip, buffer_one, allow_all, ...")
DEBUG = Arg("--include-last-event-payload", "query:include_last_event_payload", "flag")

_SCHEDULE_BODY = (
    Arg("--cron", "body:spec.cron_expressions", "list", help="cron expression (repeatable)"),
    Arg("--interval", "body:spec.intervals", "jsonlist", help='JSON, e.g. {"every":"PT1H"}'),
    Arg("--timezone", "body:spec.timezone", help="timezone of the spec (default UTC)"),
    Arg("--workflow-type", "body:action.workflow_type", help="workflow type to start"),
    Arg("--task-queue", "body:action.task_queue", help="task queue of started workflows"),
    Arg("--input", "body:action.input", "json", help="workflow arguments as a JSON array"),
    Arg("--execution-timeout", "body:action.execution_timeout_seconds", "int"),
    Arg("--run-timeout", "body:action.run_timeout_seconds", "int"),
    OVERLAP,
    Arg("--jitter", "body:jitter_seconds", "int", help="random delay per fire, seconds"),
    Arg("--max-runs", "body:max_runs", "int", help="stop after this many fires"),
    Arg("--memo", "body:memo", "json", help="memo JSON object"),
    Arg("--search-attr", "body:search_attributes", "kv", help="KEY=VALUE (repeatable)"),
    NOTE,
)

_COMMANDS: tuple[Command, ...] = (
    Command("health.check", help="server liveness"),
    Command("health.ready", help="server readiness"),
    Command("cluster.info", help="versions, contracts and capabilities of the server"),
    # -- namespaces and storage
    Command("namespace.list", help="list namespaces"),
    Command(
        "namespace.create",
        (
            Arg("name", "body:name"),
            Arg("--description", "body:description"),
            Arg("--retention", "body:retention_days", "int", help="retention in days"),
        ),
        help="create a namespace",
    ),
    Command("namespace.describe", (NS,), help="describe a namespace"),
    Command(
        "namespace.update",
        (
            NS,
            Arg("--description", "body:description"),
            Arg("--retention", "body:retention_days", "int", help="retention in days"),
        ),
        help="update a namespace",
    ),
    Command(
        "namespace.set_storage_driver",
        (
            NS,
            Arg("--driver", "body:driver", help="local, s3, gcs or azure"),
            Arg("--disabled", "body:enabled", "off", help="store the policy disabled"),
            Arg("--threshold-bytes", "body:threshold_bytes", "int"),
            Arg("--config", "body:config", "json", help="driver config JSON object"),
        ),
        help="set the namespace's external payload storage policy",
    ),
    Command(
        "storage.test",
        (
            Arg("--driver", "body:driver"),
            Arg("--small-bytes", "body:small_payload_bytes", "int"),
            Arg("--large-bytes", "body:large_payload_bytes", "int"),
        ),
        help="round-trip test payloads through external storage",
    ),
    # -- workflows
    Command(
        "workflow.list",
        (
            Arg("--type", "query:workflow_type", help="exact workflow type"),
            Arg("--status", "query:status", help="running, completed or failed"),
            Arg("--query", "query:query", help="substring of workflow id or business key"),
            Arg("--limit", "query:page_size", "int", help="page size (1..200)"),
            Arg("--next-page-token", "query:next_page_token"),
        ),
        help="list workflows",
    ),
    Command(
        "workflow.start",
        (
            Arg("--type", "body:workflow_type", help="workflow type"),
            Arg("--workflow-id", "body:workflow_id"),
            Arg("--task-queue", "body:task_queue"),
            INPUT,
            Arg("--business-key", "body:business_key"),
            Arg("--memo", "body:memo", "json", help="memo JSON object"),
            Arg("--search-attr", "body:search_attributes", "kv", help="KEY=VALUE (repeatable)"),
            Arg("--execution-timeout", "body:execution_timeout_seconds", "int"),
            Arg("--run-timeout", "body:run_timeout_seconds", "int"),
            Arg("--duplicate-policy", "body:duplicate_policy", help="fail or use-existing"),
        ),
        help="start a workflow",
    ),
    Command("workflow.describe", (WF,), help="describe a workflow's current run"),
    Command("workflow.debug", (WF, DEBUG), help="diagnose a workflow"),
    Command("workflow.list_runs", (WF,), help="list the runs of a workflow"),
    Command("workflow.show_run", (WF, RUN), help="describe one run"),
    Command("workflow.debug_run", (WF, RUN, DEBUG), help="diagnose one run"),
    Command(
        "workflow.signal",
        (WF, Arg("signal-name", "path:signalName"), INPUT, REQUEST_ID),
        help="signal a workflow",
    ),
    Command("workflow.query", (WF, Arg("query-name", "path:queryName"), INPUT), help="query"),
    Command(
        "workflow.update",
        (
            WF,
            Arg("update-name", "path:updateName"),
            INPUT,
            REQUEST_ID,
            Arg("--wait-for", "body:wait_for", help="accepted or completed"),
            Arg("--wait-timeout", "body:wait_timeout_seconds", "int"),
        ),
        help="send an update",
    ),
    Command("workflow.cancel", (WF, REASON, REQUEST_ID), help="cancel a workflow"),
    Command("workflow.terminate", (WF, REASON, REQUEST_ID), help="terminate a workflow"),
    Command("workflow.repair", (WF, REQUEST_ID), help="repair a stuck workflow"),
    Command("workflow.archive", (WF, REASON, REQUEST_ID), help="archive a closed workflow"),
    Command(
        "workflow.signal_run",
        (WF, RUN, Arg("signal-name", "path:signalName"), INPUT, REQUEST_ID),
        help="signal one run",
    ),
    Command(
        "workflow.query_run", (WF, RUN, Arg("query-name", "path:queryName"), INPUT), help="query"
    ),
    Command(
        "workflow.update_run",
        (
            WF,
            RUN,
            Arg("update-name", "path:updateName"),
            INPUT,
            REQUEST_ID,
            Arg("--wait-for", "body:wait_for"),
            Arg("--wait-timeout", "body:wait_timeout_seconds", "int"),
        ),
        help="send an update to one run",
    ),
    Command("workflow.cancel_run", (WF, RUN, REASON, REQUEST_ID), help="cancel one run"),
    Command("workflow.terminate_run", (WF, RUN, REASON, REQUEST_ID), help="terminate one run"),
    Command(
        "workflow.history",
        (
            WF,
            RUN,
            Arg("--page-size", "query:page_size", "int"),
            Arg("--next-page-token", "query:next_page_token"),
            Arg("--wait-new-event", "query:wait_new_event", "flag", default=False),
        ),
        help="one page of a run's history",
    ),
    Command("workflow.history_export", (WF, RUN), help="export a run's history bundle"),
    # -- bridge
    Command(
        "bridge.webhook",
        (
            Arg("adapter", "path:adapter"),
            Arg("--action", "body:action"),
            Arg("--idempotency-key", "body:idempotency_key"),
            Arg("--target", "body:target", "json", help="target JSON object"),
            Arg("--input", "body:input", "json"),
            Arg("--correlation", "body:correlation", "json"),
        ),
        help="send a webhook bridge event",
    ),
    # -- workers
    Command(
        "worker.list",
        (Arg("--task-queue", "query:task_queue"), Arg("--status", "query:status")),
        help="list workers",
    ),
    Command("worker.describe", (WORKER,), help="describe a worker"),
    Command("worker.deregister", (WORKER,), help="deregister a worker"),
    Command(
        "worker.register",
        (
            Arg("worker-id", "body:worker_id"),
            Arg("--task-queue", "body:task_queue"),
            Arg("--runtime", "body:runtime"),
            Arg("--sdk-version", "body:sdk_version"),
            Arg("--build-id", "body:build_id"),
            Arg("--workflow-type", "body:supported_workflow_types", "list"),
            Arg("--activity-type", "body:supported_activity_types", "list"),
            Arg("--max-workflow-tasks", "body:max_concurrent_workflow_tasks", "int"),
            Arg("--max-activity-tasks", "body:max_concurrent_activity_tasks", "int"),
        ),
        help="register an external worker",
    ),
    Command("worker.heartbeat", (Arg("worker-id", "body:worker_id"),), help="worker heartbeat"),
    # -- task queues
    Command("task_queue.list", help="list task queues"),
    Command("task_queue.describe", (TQ,), help="backlog, admission and pollers of a queue"),
    Command("task_queue.build_ids", (TQ,), help="build-id rollout of a queue"),
    Command(
        "task_queue.build_id.drain",
        (TQ, Arg("--build-id", "body:build_id")),
        help="drain a build id",
    ),
    Command(
        "task_queue.build_id.resume",
        (TQ, Arg("--build-id", "body:build_id")),
        help="resume a drained build id",
    ),
    # -- schedules
    Command("schedule.list", help="list schedules"),
    Command(
        "schedule.create",
        (
            Arg("--schedule-id", "body:schedule_id"),
            *(
                Arg(a.name, a.target, a.kind, "UTC", a.help) if a.name == "--timezone" else a
                for a in _SCHEDULE_BODY
            ),
            Arg("--paused", "body:paused", "flag", help="create paused"),
        ),
        help="create a schedule",
    ),
    Command("schedule.describe", (SCHED,), help="describe a schedule"),
    Command(
        "schedule.history",
        (
            SCHED,
            Arg("--limit", "query:limit", "int"),
            Arg("--after-sequence", "query:after_sequence", "int"),
        ),
        help="a schedule's event log",
    ),
    Command("schedule.update", (SCHED, *_SCHEDULE_BODY), help="update a schedule"),
    Command("schedule.delete", (SCHED,), help="delete a schedule"),
    Command("schedule.pause", (SCHED, NOTE), help="pause a schedule"),
    Command("schedule.resume", (SCHED, NOTE), help="resume a schedule"),
    Command("schedule.trigger", (SCHED, OVERLAP), help="fire a schedule now"),
    Command(
        "schedule.backfill",
        (
            SCHED,
            Arg("--start-time", "body:start_time", help="ISO-8601"),
            Arg("--end-time", "body:end_time", help="ISO-8601"),
            OVERLAP,
        ),
        help="fire a schedule for a past time range",
    ),
    # -- search attributes
    Command("search_attribute.list", help="list search attributes"),
    Command(
        "search_attribute.create",
        (Arg("name", "body:name"), Arg("type", "body:type", help="keyword, text, int, ...")),
        help="create a custom search attribute",
    ),
    Command("search_attribute.delete", (Arg("name", "path:name"),), help="delete one"),
    # -- system
    Command("system.metrics", help="server metrics"),
    Command("system.operator_metrics", help="operator metrics"),
    Command("system.repair.status", help="repair sweep status"),
    Command(
        "system.repair.pass",
        (Arg("--run-id", "body:run_ids", "list"), Arg("--instance-id", "body:instance_id")),
        help="run one repair pass",
    ),
    Command(
        "system.activity_timeout.status",
        (Arg("--limit", "query:limit", "int"),),
        help="expired activity status",
    ),
    Command(
        "system.activity_timeout.pass",
        (Arg("--execution-id", "body:execution_ids", "list"), Arg("--limit", "body:limit", "int")),
        help="enforce activity timeouts once",
    ),
    Command("system.retention.status", (Arg("--limit", "query:limit", "int"),), help="retention"),
    Command(
        "system.retention.pass",
        (Arg("--run-id", "body:run_ids", "list"), Arg("--limit", "body:limit", "int")),
        help="run one retention pass",
    ),
)

COMMANDS: dict[str, Command] = {
    command.operation: command for command in (*_COMMANDS, *WORKER_PLANE_COMMANDS)
}
