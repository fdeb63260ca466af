"""Test helpers: the built-in dev server in-process, and the in-memory ``WorkflowEnvironment``.

Private modules: ``_dev_server`` (``dev_server()``/``async_dev_server()``:
uvicorn on 127.0.0.1, a real SQLite file, nothing mocked) and
``_environment`` (run workflow code to completion without a server).
"""

from __future__ import annotations

from durable_workflow.testing._dev_server import (
    DevServerHandle,
    async_dev_server,
    dev_server,
)
from durable_workflow.testing._environment import (
    WorkflowEnvironment,
    WorkflowRunRecord,
    replay_history,
    replay_history_file,
)

__all__ = [
    "DevServerHandle",
    "WorkflowEnvironment",
    "WorkflowRunRecord",
    "async_dev_server",
    "dev_server",
    "replay_history",
    "replay_history_file",
]
