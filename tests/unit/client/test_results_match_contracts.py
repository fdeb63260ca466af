"""Every result dataclass field is a key of the generated model of the same answer.

The result dataclasses keep upstream's names, field order and defaults (users
construct and compare them); they are generated from ``codegen/results.json``,
whose generator refuses a field that is not a key of the class's model. This
test checks the generated classes themselves against the generated pydantic
models, so a key renamed or dropped in ``contracts/`` fails here too.
"""

from __future__ import annotations

import dataclasses

import pytest

from durable_workflow._generated.models import (
    bridge,
    namespace,
    schedule,
    search_attribute,
    storage,
    task_queue,
    worker_management,
    workflow,
)
from durable_workflow.client import _results as results

# result class -> the generated model of the answer it parses
MODELS: dict[type, type] = {
    results.BridgeAdapterOutcome: bridge.BridgeAdapterOutcome,
    results.NamespaceDescription: namespace.Namespace,
    results.NamespaceList: namespace.NamespaceListResponse,
    results.ScheduleAction: schedule.ScheduleAction,
    results.ScheduleBackfillResult: schedule.ScheduleBackfillResponse,
    results.ScheduleDescription: schedule.ScheduleDescription,
    results.ScheduleHistoryEvent: schedule.ScheduleHistoryEvent,
    results.ScheduleHistoryPage: schedule.ScheduleHistoryResponse,
    results.ScheduleList: schedule.ScheduleListResponse,
    results.ScheduleSpec: schedule.ScheduleSpec,
    results.ScheduleTriggerResult: schedule.ScheduleCommandResponse,
    results.SearchAttributeList: search_attribute.SearchAttributeListResponse,
    results.StoragePayloadTestResult: storage.StorageProbeResult,
    results.StorageTestResult: storage.StorageTestResponse,
    results.TaskQueueBuildIdCohort: task_queue.TaskQueueBuildId,
    results.TaskQueueBuildIdRollout: task_queue.TaskQueueBuildIdsResponse,
    results.TaskQueueBuildIdRolloutState: task_queue.TaskQueueBuildIdRolloutState,
    results.TaskQueueDescription: task_queue.TaskQueueDescription,
    results.TaskQueueList: task_queue.TaskQueueListResponse,
    results.WorkerDescription: worker_management.WorkerDescription,
    results.WorkerList: worker_management.WorkerListResponse,
    results.WorkflowCommandResult: workflow.WorkflowCommandResponse,
    results.WorkflowExecution: workflow.WorkflowRunView,
    results.WorkflowRun: workflow.WorkflowRunView,
    results.WorkflowRunList: workflow.WorkflowRunsResponse,
}

# Fields that are not response keys: the whole object, or upstream's own names.
NOT_KEYS: dict[type, set[str]] = {
    results.BridgeAdapterOutcome: {"raw", "schema"},  # ``schema`` is upstream's extra field
    results.StorageTestResult: {"raw"},
    results.TaskQueueBuildIdCohort: {"raw"},
    results.TaskQueueBuildIdRolloutState: {"raw"},
    results.TaskQueueDescription: {"raw"},
    results.WorkflowCommandResult: {"raw"},
    # the worker's own registration fields, which the server echoes (not yet in contracts/)
    results.WorkerDescription: {
        "raw",
        "task_slots",
        "process_metrics",
        "heartbeat_interval_seconds",
    },
}

# Results of answers the contracts do not describe (yet); reason per entry.
UNMODELLED = {
    results.TaskQueueAdmission: "admission is an untyped object in task_queue.json",
    results.TaskQueueTaskAdmission: "admission is an untyped object in task_queue.json",
    results.TaskQueueQueryAdmission: "admission is an untyped object in task_queue.json",
    results.StandaloneActivityExecution: "standalone-activity routes are not in operations.json",
    results.StandaloneActivityList: "standalone-activity routes are not in operations.json",
    results.WorkflowList: "``executions`` is upstream's name for the response's ``workflows``",
}


def test_every_result_class_is_accounted_for() -> None:
    classes = {
        getattr(results, name)
        for name in results.__all__
        if dataclasses.is_dataclass(getattr(results, name))
    }
    assert classes == set(MODELS) | set(UNMODELLED)


@pytest.mark.parametrize("cls", sorted(MODELS, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_result_fields_are_keys_of_the_generated_model(cls: type) -> None:
    fields = {f.name for f in dataclasses.fields(cls)} - NOT_KEYS.get(cls, set())
    keys = {info.alias or name for name, info in MODELS[cls].model_fields.items()}
    assert fields - keys == set()
