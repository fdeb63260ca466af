"""Test helpers: the built-in dev server in-process, the in-memory ``WorkflowEnvironment``,
``ActivityEnvironment`` for one activity, and the pytest plugin (``pytest_plugin``).

Private modules: ``_dev_server`` (``dev_server()``/``async_dev_server()``:
uvicorn on 127.0.0.1, a real SQLite file, nothing mocked), ``_environment``
(run workflow code to completion without a server) and ``_history_folder``
(``replay_histories()``: replay exported histories in a test, raising on a mismatch).
"""

from __future__ import annotations

from durable_workflow.errors import WorkflowCancelled, WorkflowFailed, WorkflowTerminated
from durable_workflow.testing._activity_environment import ActivityEnvironment
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
from durable_workflow.testing._history_folder import HistoryReplayMismatch, replay_histories
from durable_workflow.workflow import (
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    RecordSideEffect,
    RecordVersionMarker,
    ReplayOutcome,
    ScheduleActivity,
    StartChildWorkflow,
    StartTimer,
    UpsertSearchAttributes,
    registry,
    replay,
)

# Beyond the helpers: upstream's testing module also exposes the commands a
# replayed workflow yields, the replay entry points and the terminal errors.
__all__ = [
    "ActivityEnvironment",
    "CompleteWorkflow",
    "ContinueAsNew",
    "DevServerHandle",
    "FailWorkflow",
    "HistoryReplayMismatch",
    "RecordSideEffect",
    "RecordVersionMarker",
    "ReplayOutcome",
    "ScheduleActivity",
    "StartChildWorkflow",
    "StartTimer",
    "UpsertSearchAttributes",
    "WorkflowCancelled",
    "WorkflowEnvironment",
    "WorkflowFailed",
    "WorkflowRunRecord",
    "WorkflowTerminated",
    "async_dev_server",
    "dev_server",
    "registry",
    "replay",
    "replay_histories",
    "replay_history",
    "replay_history_file",
]
