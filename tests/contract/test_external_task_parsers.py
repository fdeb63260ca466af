"""Upstream fixtures through the drop-in parsers, and mutated copies that must fail.

Envelopes come from ../shared/upstream; the published artifacts (with sha256)
from the cluster-info example in ../shared/protocol. Both are read in place.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from _upstream import REPO, ids, load, require_upstream, upstream_files

from durable_workflow.external_task_input import (
    ExternalTaskInputError,
    parse_external_task_input,
    parse_external_task_input_artifact,
)
from durable_workflow.external_task_result import (
    ExternalTaskResultError,
    parse_external_task_result,
    parse_external_task_result_artifact,
)

INPUTS = upstream_files("external-task-input")
RESULTS = upstream_files("external-task-result")
CLUSTER_INFO = REPO.parent / "shared" / "protocol" / "cluster-info.example.json"

# One required field per envelope family: (path, a value of the wrong type).
INPUT_REQUIRED = [("task.attempt", "1"), ("lease.owner", 7), ("payloads.arguments", "blob")]
RESULT_REQUIRED = [("task.idempotency_key", 5), ("outcome.recorded", "yes"), ("metadata", [])]


def _delete(data: dict[str, Any], path: str) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        data = data[key]
    del data[leaf]


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        data = data[key]
    data[leaf] = value


def _cluster_info() -> dict[str, Any]:
    if not CLUSTER_INFO.is_file():
        pytest.skip(f"protocol cluster-info example not available at {CLUSTER_INFO}")
    data: dict[str, Any] = load(CLUSTER_INFO)
    return data


def _contract(name: str) -> dict[str, Any]:
    contract: dict[str, Any] = _cluster_info()["worker_protocol"][name]
    return contract


@pytest.mark.parametrize("path", INPUTS or [None], ids=ids(INPUTS) or ["absent"])
def test_input_fixture_parses(path: Path | None) -> None:
    require_upstream("external-task-input")
    assert path is not None
    data = load(path)
    parsed = parse_external_task_input(data)
    assert parsed.kind == data["task"]["kind"]
    assert parsed.task.id == data["task"]["id"]
    assert parsed.task.idempotency_key == data["task"]["idempotency_key"]
    assert parsed.lease.owner == data["lease"]["owner"]
    assert parsed.is_activity_task == (parsed.kind == "activity_task")
    if parsed.is_activity_task:
        assert parsed.deadlines == data["deadlines"]
        assert parsed.task.activity_attempt_id == data["task"]["activity_attempt_id"]
    else:
        assert parsed.history is not None
        assert parsed.history["last_sequence"] == data["history"]["last_sequence"]


@pytest.mark.parametrize("path", RESULTS or [None], ids=ids(RESULTS) or ["absent"])
def test_result_fixture_parses(path: Path | None) -> None:
    require_upstream("external-task-result")
    assert path is not None
    data = load(path)
    parsed = parse_external_task_result(data)
    assert parsed.task.id == data["task"]["id"]
    assert parsed.recorded is data["outcome"]["recorded"]
    if data["outcome"]["status"] == "succeeded":
        assert parsed.succeeded and parsed.failure is None
        assert parsed.retryable is False  # upstream 0.4.53: a success is never retryable
    else:
        assert parsed.failure is not None
        assert parsed.failure.kind == data["failure"]["kind"]
        assert parsed.retryable is data["outcome"]["retryable"]
        assert parsed.malformed_output == ("raw_output" in data)


@pytest.mark.parametrize("stated", [True, False])
def test_success_retryable_is_false_whatever_the_outcome_says(stated: bool) -> None:
    """Upstream 0.4.53 reads ``outcome.retryable`` only on failures; a success reports False."""
    require_upstream("external-task-result")
    data = load(next(p for p in RESULTS if p.name.startswith("success")))
    data["outcome"]["retryable"] = stated
    assert parse_external_task_result(data).retryable is False


@pytest.mark.parametrize("path", INPUTS or [None], ids=ids(INPUTS) or ["absent"])
@pytest.mark.parametrize(("field", "wrong"), INPUT_REQUIRED)
def test_input_mutations_name_the_field(path: Path | None, field: str, wrong: Any) -> None:
    require_upstream("external-task-input")
    assert path is not None
    original = load(path)
    missing = copy.deepcopy(original)
    _delete(missing, field)
    with pytest.raises(ExternalTaskInputError, match=f"'{field}' is required") as err:
        parse_external_task_input(missing)
    assert err.value.field == field
    mistyped = copy.deepcopy(original)
    _set(mistyped, field, wrong)
    with pytest.raises(ExternalTaskInputError, match=f"'{field}' must be") as err:
        parse_external_task_input(mistyped)
    assert err.value.field == field


@pytest.mark.parametrize("path", RESULTS or [None], ids=ids(RESULTS) or ["absent"])
@pytest.mark.parametrize(("field", "wrong"), RESULT_REQUIRED)
def test_result_mutations_name_the_field(path: Path | None, field: str, wrong: Any) -> None:
    require_upstream("external-task-result")
    assert path is not None
    original = load(path)
    missing = copy.deepcopy(original)
    _delete(missing, field)
    with pytest.raises(ExternalTaskResultError, match=f"'{field}' is required") as err:
        parse_external_task_result(missing)
    assert err.value.field == field
    mistyped = copy.deepcopy(original)
    _set(mistyped, field, wrong)
    with pytest.raises(ExternalTaskResultError, match=f"'{field}' must be") as err:
        parse_external_task_result(mistyped)
    assert err.value.field == field


@pytest.mark.parametrize("path", INPUTS or [None], ids=ids(INPUTS) or ["absent"])
def test_input_unknown_fields(path: Path | None) -> None:
    """Unknown optional keys are ignored; a required one we do not know is refused."""
    require_upstream("external-task-input")
    assert path is not None
    data = load(path)
    data["x_additive"] = {"anything": True}
    data["task"]["x_additive"] = 1
    assert parse_external_task_input(data).task.id == data["task"]["id"]
    contract = copy.deepcopy(_contract("external_task_input_contract"))
    assert parse_external_task_input(data, contract=contract).kind == data["task"]["kind"]
    contract["envelopes"][data["task"]["kind"]]["required_fields"].append("x_priority")
    with pytest.raises(ExternalTaskInputError, match=r"'x_priority'.*unknown required") as err:
        parse_external_task_input(data, contract=contract)
    assert err.value.field == "x_priority"


@pytest.mark.parametrize("path", RESULTS or [None], ids=ids(RESULTS) or ["absent"])
def test_result_unknown_fields(path: Path | None) -> None:
    require_upstream("external-task-result")
    assert path is not None
    data = load(path)
    data["x_additive"] = "ignored"
    parsed = parse_external_task_result(data)
    contract = copy.deepcopy(_contract("external_task_result_contract"))
    assert parse_external_task_result(data, contract=contract).kind == parsed.kind
    contract["envelopes"][parsed.kind]["required_fields"].append("x_signature")
    with pytest.raises(ExternalTaskResultError, match="'x_signature'") as err:
        parse_external_task_result(data, contract=contract)
    assert err.value.field == "x_signature"


def test_unsupported_version_is_refused() -> None:
    require_upstream("external-task-input")
    data = load(INPUTS[0])
    data["version"] = 2
    with pytest.raises(ExternalTaskInputError, match="'version' must be 1") as err:
        parse_external_task_input(data)
    assert err.value.field == "version"


def test_unsupported_input_kind_is_named() -> None:
    require_upstream("external-task-input")
    data = load(INPUTS[0])
    data["task"]["kind"] = "query_task"
    with pytest.raises(ExternalTaskInputError, match="Unsupported external task input kind"):
        parse_external_task_input(data)


def test_failure_rules() -> None:
    require_upstream("external-task-result")
    cancel = load(next(p for p in RESULTS if p.stem.startswith("cancellation")))
    cancel["failure"]["cancelled"] = False
    with pytest.raises(ExternalTaskResultError, match=r"'failure\.cancelled' must be true"):
        parse_external_task_result(cancel)
    failure = load(next(p for p in RESULTS if p.stem.startswith("failure")))
    failure["failure"]["classification"] = "gremlins"
    with pytest.raises(ExternalTaskResultError, match=r"'failure\.classification'"):
        parse_external_task_result(failure)
    failure["outcome"]["status"] = "maybe"
    with pytest.raises(ExternalTaskResultError, match=r"'outcome\.status'"):
        parse_external_task_result(failure)


def _artifacts(contract: str) -> list[tuple[str, dict[str, Any]]]:
    if not CLUSTER_INFO.is_file():
        return []
    fixtures = load(CLUSTER_INFO)["worker_protocol"][contract]["fixtures"]
    return sorted(fixtures.items())


INPUT_ARTIFACTS = _artifacts("external_task_input_contract")
RESULT_ARTIFACTS = _artifacts("external_task_result_contract")


@pytest.mark.parametrize(
    ("key", "artifact"), INPUT_ARTIFACTS or [("absent", {})], ids=lambda v: str(v)[:30]
)
def test_input_artifacts_verify_and_tamper_fails(key: str, artifact: dict[str, Any]) -> None:
    contract = _contract("external_task_input_contract")
    parsed = parse_external_task_input_artifact(artifact, contract=contract)
    assert parsed.kind == key
    tampered = copy.deepcopy(artifact)
    tampered["example"]["task"]["id"] = "acttask_tampered"
    with pytest.raises(ExternalTaskInputError, match="'sha256' does not match") as err:
        parse_external_task_input_artifact(tampered)
    assert err.value.field == "sha256"
    renamed = copy.deepcopy(artifact)
    renamed["artifact"] = "something.else"
    with pytest.raises(ExternalTaskInputError, match="'artifact' must start with"):
        parse_external_task_input_artifact(renamed)


@pytest.mark.parametrize(
    ("key", "artifact"), RESULT_ARTIFACTS or [("absent", {})], ids=lambda v: str(v)[:30]
)
def test_result_artifacts_verify_and_tamper_fails(key: str, artifact: dict[str, Any]) -> None:
    contract = _contract("external_task_result_contract")
    parsed = parse_external_task_result_artifact(artifact, contract=contract)
    assert parsed.task.attempt >= 1
    expected_kind = "success" if key == "success" else parsed.kind
    assert parsed.kind == expected_kind
    bad = copy.deepcopy(artifact)
    bad["sha256"] = "0" * 64
    with pytest.raises(ExternalTaskResultError, match="'sha256' does not match") as err:
        parse_external_task_result_artifact(bad)
    assert err.value.field == "sha256"
    missing = copy.deepcopy(artifact)
    del missing["example"]
    with pytest.raises(ExternalTaskResultError, match="'example' is required"):
        parse_external_task_result_artifact(missing)


def test_upstream_envelopes_equal_the_published_artifact_examples() -> None:
    """The two upstream sources agree, so the sha256 check covers the fixture files too."""
    require_upstream("external-task-result")
    by_artifact = {a["artifact"]: a for _, a in RESULT_ARTIFACTS + INPUT_ARTIFACTS}
    if not by_artifact:
        pytest.skip("protocol cluster-info example not available")
    for path in INPUTS + RESULTS:
        folder = path.parent.name
        name = f"durable-workflow.v2.{folder}.{path.stem}"
        assert load(path) == by_artifact[name]["example"], name
