"""The top-level public surface: exactly upstream 0.4.53's names (sdk-surface.md §0.1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import durable_workflow

SDK_SURFACE = Path(__file__).resolve().parents[2].parent / "shared" / "protocol" / "sdk-surface.md"

EXPECTED = [
    "AUTH_COMPOSITION_CONTRACT_SCHEMA",
    "AUTH_COMPOSITION_CONTRACT_VERSION",
    "AUTH_COMPOSITION_REQUIRED_EFFECTIVE_CONFIG_FIELDS",
    "ActivityCancelled",
    "ActivityContext",
    "ActivityFailed",
    "ActivityHandler",
    "ActivityInfo",
    "ActivityInterceptorContext",
    "ActivityRetryPolicy",
    "AuthCompositionContract",
    "AuthCompositionContractError",
    "AzureBlobExternalStorage",
    "BridgeAdapterOutcome",
    "ChildWorkflowFailed",
    "ChildWorkflowRetryPolicy",
    "Client",
    "ContinueAsNew",
    "DurableWorkflowError",
    "EXTERNAL_PAYLOAD_REFERENCE_SCHEMA",
    "EXTERNAL_TASK_INPUT_CONTRACT_SCHEMA",
    "EXTERNAL_TASK_INPUT_MEDIA_TYPE",
    "EXTERNAL_TASK_INPUT_SCHEMA",
    "EXTERNAL_TASK_INPUT_VERSION",
    "EXTERNAL_TASK_RESULT_CONTRACT_SCHEMA",
    "EXTERNAL_TASK_RESULT_MEDIA_TYPE",
    "EXTERNAL_TASK_RESULT_SCHEMA",
    "EXTERNAL_TASK_RESULT_VERSION",
    "ExternalPayloadCache",
    "ExternalPayloadIntegrityError",
    "ExternalPayloadReference",
    "ExternalPayloadStoragePolicy",
    "ExternalStorageDriver",
    "ExternalTaskFailure",
    "ExternalTaskIdentity",
    "ExternalTaskInput",
    "ExternalTaskInputError",
    "ExternalTaskInputIdentity",
    "ExternalTaskLease",
    "ExternalTaskResult",
    "ExternalTaskResultError",
    "ExternalTaskWorkflowContext",
    "GCSExternalStorage",
    "GoldenHistoryReport",
    "HISTORY_BUNDLE_SCHEMA",
    "HISTORY_BUNDLE_SCHEMA_VERSION",
    "HISTORY_BUNDLE_VERIFICATION_REPORT_SCHEMA",
    "HISTORY_BUNDLE_VERIFICATION_REPORT_SCHEMA_VERSION",
    "InMemoryMetrics",
    "InvalidArgument",
    "InvocableActivityHandler",
    "InvocableHttpResponse",
    "LocalFilesystemExternalStorage",
    "MetricsRecorder",
    "NamespaceDescription",
    "NamespaceList",
    "NamespaceNotFound",
    "NonDeterministicReplayError",
    "NonRetryableError",
    "NoopMetrics",
    "PassthroughWorkerInterceptor",
    "PayloadSizeWarningConfig",
    "PayloadSizeWarningContext",
    "PrometheusMetrics",
    "QueryFailed",
    "QueryTaskHandler",
    "QueryTaskInterceptorContext",
    "ReplayCaseReport",
    "ReplayOutcome",
    "Replayer",
    "RetryPolicy",
    "S3ExternalStorage",
    "ScheduleAction",
    "ScheduleAlreadyExists",
    "ScheduleBackfillResult",
    "ScheduleDescription",
    "ScheduleHandle",
    "ScheduleHistoryEvent",
    "ScheduleHistoryPage",
    "ScheduleList",
    "ScheduleNotFound",
    "ScheduleSpec",
    "ScheduleTriggerResult",
    "SearchAttributeList",
    "ServerError",
    "SignalFailed",
    "SimulationReport",
    "StandaloneActivityExecution",
    "StandaloneActivityHandle",
    "StandaloneActivityList",
    "StartChildWorkflow",
    "StoragePayloadTestResult",
    "StorageTestResult",
    "TaskQueueAdmission",
    "TaskQueueBuildIdCohort",
    "TaskQueueBuildIdRollout",
    "TaskQueueBuildIdRolloutState",
    "TaskQueueDescription",
    "TaskQueueList",
    "TaskQueueQueryAdmission",
    "TaskQueueTaskAdmission",
    "TransportRetryPolicy",
    "Unauthorized",
    "UpdateRejected",
    "Worker",
    "WorkerInterceptor",
    "WorkflowAlreadyStarted",
    "WorkflowCancelled",
    "WorkflowCommandResult",
    "WorkflowExecution",
    "WorkflowFailed",
    "WorkflowHandle",
    "WorkflowList",
    "WorkflowNotFound",
    "WorkflowPayloadDecodeError",
    "WorkflowRun",
    "WorkflowRunList",
    "WorkflowTaskHandler",
    "WorkflowTaskInterceptorContext",
    "WorkflowTerminated",
    "__version__",
    "activity",
    "aggregate_verdicts",
    "delete_external_payload",
    "external_storage_driver_from_policy",
    "external_storage_envelope",
    "fetch_external_payload",
    "handle_invocable_activity",
    "handle_invocable_http_request",
    "handle_invocable_lambda_event",
    "lambda_invocable_activity_handler",
    "parse_auth_composition_contract",
    "parse_external_task_input",
    "parse_external_task_input_artifact",
    "parse_external_task_result",
    "parse_external_task_result_artifact",
    "promotion_decision_for",
    "promotion_decision_for_report",
    "replay",
    "serializer",
    "simulate_bundles",
    "store_external_payload",
    "sync",
    "testing",
    "to_avro_payload_value",
    "to_avro_payload_values",
    "verify_golden_history",
    "verify_history_bundle",
    "verify_history_bundle_json",
    "verify_replay",
    "workflow",
]


def test_all_is_exactly_the_pinned_public_surface() -> None:
    assert sorted(durable_workflow.__all__) == EXPECTED


def test_every_exported_name_resolves() -> None:
    for name in durable_workflow.__all__:
        assert getattr(durable_workflow, name) is not None, name


def _upstream_top_level_names(text: str) -> set[str]:
    section = text.split("### 0.1", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in section.splitlines():
        if not row.startswith("| ") or row.startswith("| Group") or row.startswith("|---"):
            continue
        cell = row.split("|")[2]
        # Names after "live in" are documented as NOT top-level.
        cell = re.sub(r"\(`[^)]*live in[^)]*\)", "", cell)
        # "(= module.Name)" notes name the implementation, not an export.
        cell = re.sub(r"\(= [^)]*\)", "", cell)
        cell = re.sub(r"\(plus [^)]*\)", "", cell)
        names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", cell))
    return names


def test_every_upstream_top_level_name_is_exported() -> None:
    if not SDK_SURFACE.exists():
        pytest.skip(f"{SDK_SURFACE} is absent (installed package without ../shared)")
    upstream = _upstream_top_level_names(SDK_SURFACE.read_text(encoding="utf-8"))
    assert len(upstream) > 100
    assert sorted(upstream - set(durable_workflow.__all__)) == []
