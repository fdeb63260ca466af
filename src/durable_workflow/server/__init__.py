"""The built-in development server: SQLite store, engine, matching, HTTP app.

Start it with ``durable-workflow server start-dev`` or, from tests,
:func:`durable_workflow.testing.dev_server`.

Four layers, each importing only the ones below it:

- ``http/``: the ASGI pipeline routed from the generated ``OPERATIONS`` (``app``), role
  tokens (``auth``), the route handlers per plane, the discovery document
  (``cluster_info``), the error contract (``field_errors``) and response compression;
- ``matching/``: in-process wake-ups, long polls, the scheduler loop, workflow-task poll
  idempotency and the in-memory query-task broker;
- ``engine/``: the state machine as functions ``f(tx, ...)`` per topic (runs, workflow
  tasks, commands and their effects, activities, timers, signals, updates, children,
  schedules, ...), run by :class:`~durable_workflow.server.engine.engine.Engine` as one
  transaction each;
- ``store/``: SQLite (WAL, migrations), the unit of work ``Tx`` and its wake keys, ids,
  timestamps, and the task operations every task type shares.

``config`` (one frozen settings object) and ``runner`` (uvicorn with a shutdown that
releases parked polls) sit beside them.
"""
