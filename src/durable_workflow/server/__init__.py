"""The built-in development server: SQLite store, engine, matching, HTTP app.

Start it with ``durable-workflow server start-dev`` or, from tests,
:func:`durable_workflow.testing.dev_server`.
"""
