"""Failure flags of an external task result: kind or classification, on failure and result."""

from __future__ import annotations

import pytest

from durable_workflow.auth_composition import AuthCompositionContractError
from durable_workflow.external_task_input import ExternalTaskInputError
from durable_workflow.external_task_result import (
    ExternalTaskFailure,
    ExternalTaskIdentity,
    ExternalTaskResult,
    ExternalTaskResultError,
)


def _failure(
    kind: str = "application", classification: str = "application_error", **extra: object
) -> ExternalTaskFailure:
    fields: dict[str, object] = {
        "message": "boom",
        "type": None,
        "stack_trace": None,
        "timeout_type": None,
        "cancelled": False,
        "details": None,
    }
    fields.update(extra)
    return ExternalTaskFailure(kind=kind, classification=classification, **fields)


FLAGS = ("deadline_exceeded", "handler_crash", "decode_failure", "unsupported_payload")


@pytest.mark.parametrize(
    ("failure", "flag"),
    [
        (_failure(classification="deadline_exceeded"), "deadline_exceeded"),
        (_failure("timeout", "timeout", timeout_type="deadline_exceeded"), "deadline_exceeded"),
        (_failure(kind="handler_crash"), "handler_crash"),
        (_failure(classification="handler_crash"), "handler_crash"),
        (_failure(kind="decode_failure"), "decode_failure"),
        (_failure(classification="decode_failure"), "decode_failure"),
        (_failure(kind="unsupported_payload"), "unsupported_payload"),
        (_failure(classification="unsupported_payload_codec"), "unsupported_payload"),
        (_failure(classification="unsupported_payload_reference"), "unsupported_payload"),
    ],
)
def test_each_flag_follows_kind_or_classification(failure: ExternalTaskFailure, flag: str) -> None:
    assert {name for name in FLAGS if getattr(failure, name)} == {flag}
    result = ExternalTaskResult(
        kind="failure",
        task=ExternalTaskIdentity(id="t", kind="activity_task", attempt=1, idempotency_key="k"),
        recorded=False,
        metadata={},
        failure=failure,
    )
    assert {name for name in FLAGS if getattr(result, name)} == {flag}


def test_a_plain_application_failure_sets_no_flag() -> None:
    failure = _failure()
    assert not any(getattr(failure, name) for name in FLAGS)


@pytest.mark.parametrize(
    "error", [ExternalTaskResultError, ExternalTaskInputError, AuthCompositionContractError]
)
def test_contract_errors_carry_their_message(error: type[ValueError]) -> None:
    raised = error("'task.id' is required")
    assert raised.message == "'task.id' is required" == str(raised)


def test_kind_aliases_name_exactly_the_kinds_the_parsers_know() -> None:
    import typing

    from durable_workflow.external_task_input import KNOWN_INPUT_FIELDS, ExternalTaskInputKind
    from durable_workflow.external_task_result import KNOWN_RESULT_FIELDS, ExternalTaskResultKind

    assert set(typing.get_args(ExternalTaskInputKind)) == set(KNOWN_INPUT_FIELDS)
    assert set(typing.get_args(ExternalTaskResultKind)) == set(KNOWN_RESULT_FIELDS)
