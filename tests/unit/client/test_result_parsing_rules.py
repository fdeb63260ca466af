"""The per-class parse rules of the generated result classes (codegen/results.json).

Upstream's classes read the same response shapes differently; these pin the
differences that the table encodes, so a kind changed in the table fails here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from durable_workflow.client import _results as results


def test_a_php_empty_array_memo_is_empty_for_schedules_and_none_for_runs() -> None:
    assert results.ScheduleDescription.from_dict({"memo": []}).memo == {}
    assert results.ScheduleDescription.from_dict({}).memo is None
    assert results.WorkflowRun.from_dict({"memo": []}).memo is None
    assert results.WorkflowRun.from_dict({"memo": {"a": 1}}).memo == {"a": 1}


def test_counters_default_to_zero_where_upstream_declares_them() -> None:
    assert results.ScheduleDescription.from_dict({"fires_count": "x"}).fires_count == 0
    assert results.ScheduleDescription.from_dict({"fires_count": "4"}).fires_count == 4
    assert results.ScheduleDescription.from_dict({"max_runs": "4"}).max_runs == "4"  # as sent
    assert results.WorkflowCommandResult.from_dict({}).outcome == ""


def test_run_numbers_take_bare_digits_while_other_ints_take_a_sign() -> None:
    assert results.WorkflowRun.from_dict({"run_number": "-3"}).run_number is None
    assert results.WorkflowRun.from_dict({"run_number": " 3 "}).run_number == 3
    assert results.NamespaceDescription.from_dict({"retention_days": "-3"}).retention_days == -3


def test_keyword_fallbacks_replace_a_missing_or_a_falsy_value_as_upstream_does() -> None:
    # copied classes fall back only when the key is missing or null ...
    assert results.WorkerDescription.from_dict({"worker_id": ""}, worker_id="w").worker_id == ""
    assert results.WorkerDescription.from_dict({}, worker_id="w").worker_id == "w"
    # ... parsed ones whenever the parsed value is falsy
    assert results.WorkflowRun.from_dict({"run_id": ""}, run_id="r").run_id == "r"
    assert results.WorkflowExecution.from_dict({}).workflow_id == ""
    assert results.WorkflowExecution.from_dict({}, workflow_id="w").workflow_id == "w"


def test_a_given_activity_result_wins_and_is_not_decoded() -> None:
    calls: list[Any] = []

    def decode(envelope: Mapping[str, Any], codec: str | None) -> Any:
        calls.append(codec)
        return "decoded"

    answer = {"result": {"codec": "json", "blob": "x"}, "payload_codec": "json"}
    given = results.StandaloneActivityExecution.from_dict(answer, result=7, decode=decode)
    assert (given.result, calls) == (7, [])
    parsed = results.StandaloneActivityExecution.from_dict(answer, decode=decode)
    assert (parsed.result, calls) == ("decoded", ["json"])


def test_run_payloads_are_read_from_their_envelopes() -> None:
    answer = {"input": [1], "input_envelope": {"codec": "avro", "blob": "b"}, "output": [2]}
    run = results.WorkflowRun.from_dict(answer, decode=lambda envelope, codec: "in")
    assert (run.input, run.output) == ("in", [2])
    assert results.WorkflowRun.from_dict(answer).input == [1]


def test_a_class_of_copied_fields_reads_a_non_object_as_its_defaults() -> None:
    assert results.ScheduleTriggerResult.from_dict([]) == results.ScheduleTriggerResult()  # type: ignore[arg-type]
    assert results.TaskQueueBuildIdRolloutState.from_dict([]).raw == {}  # type: ignore[arg-type]


def test_a_page_counts_its_items_when_the_server_omits_the_count() -> None:
    page = results.StandaloneActivityList.from_dict({"activities": [{}, "junk", {}]})
    assert (len(page.activities), page.activity_count) == (2, 2)
    assert results.StandaloneActivityList.from_dict({"activity_count": 0}).activity_count == 0


def test_schedule_to_dict_drops_unset_fields_and_encodes_the_input() -> None:
    spec = results.ScheduleSpec(cron_expressions=["* * * * *"])
    assert spec.to_dict() == {"cron_expressions": ["* * * * *"]}
    action = results.ScheduleAction("T", input=[1])
    assert action.to_dict(input_encoder=lambda values: {"n": len(values)}) == {
        "workflow_type": "T",
        "input": {"n": 1},
    }
    assert action.to_dict(input_encoder=lambda values: None) == {"workflow_type": "T"}
    assert results.WorkflowRun(status="COMPLETED").is_terminal
