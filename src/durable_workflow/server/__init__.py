"""The built-in development server: SQLite store, engine, matching, HTTP app.

Start it with ``durable-workflow server start-dev`` or, from tests,
:func:`durable_workflow.testing.dev_server`.

Where things live:

- ``store`` (SQLite schema, WAL, migrations, transactions), ``tx`` (one unit of work and
  its wake keys), ``ulid``, ``timefmt``, ``payload_codec``;
- ``engine`` (the facade: one transaction per operation) over ``runs``, ``run_views``,
  ``history``, ``workflow_tasks``, ``commands`` (validation), ``effects`` (applying
  commands), ``activities``, ``activity_heartbeats``, ``activity_timeouts``, ``timers``,
  ``conditions``, ``signals``, ``updates``, ``children``, ``closing`` (cancel/terminate),
  ``run_deadlines``, ``maintenance`` (repair/archive), ``history_export``, ``debug_view``,
  ``workers``, ``worker_views``, ``task_queues``, ``search_attributes``,
  ``storage_policy``, ``schedules`` + ``schedule_spec``, ``bridge``, ``system``;
- ``queries`` (the in-memory query-task broker) and ``query_targets``;
- ``matching`` (long-poll wake-ups, the scheduler loop, poll idempotency);
- ``app`` (the ASGI pipeline routed from the generated ``OPERATIONS``) with ``auth``
  (role tokens), ``control_routes``, ``worker_routes``, ``query_routes``,
  ``update_routes``, ``management_routes``, ``schedule_routes``, ``system_routes``,
  ``cluster_info``, ``control_plane_block``, ``http_errors``, ``compression``;
  ``runner`` (uvicorn with a shutdown that releases parked polls); ``config``.
"""
