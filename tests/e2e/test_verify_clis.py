"""The two verify console scripts, run as a CI job would, plus their library rules."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from durable_workflow import history_bundle_verify as hbv
from durable_workflow import replay_verify as rv
from durable_workflow.history_bundle_verify import canonical_json, verify_bundle, verify_bundle_json
from durable_workflow.replay_verify import (
    aggregate_verdicts,
    promotion_decision_for,
    promotion_decision_for_report,
    simulate_bundles,
    verify_golden_history,
)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
UNIT_TESTS = REPO / "tests" / "unit" / "workflow"
GOLDEN_DIR = REPO.parent / "shared" / "upstream" / "golden_history"
needs_golden = pytest.mark.skipif(
    not GOLDEN_DIR.is_dir(), reason=f"upstream golden fixtures not found at {GOLDEN_DIR}"
)


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(UNIT_TESTS)}
    return subprocess.run(
        [str(BIN / script), *args], capture_output=True, text=True, env=env, timeout=120
    )


def golden_fixture() -> dict[str, Any]:
    return dict(json.loads(next(GOLDEN_DIR.glob("*.json")).read_text(encoding="utf-8")))


# -- bundles -------------------------------------------------------------------------
def bundle(signing_key: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A minimal well-formed history export with a correct integrity block."""
    body: dict[str, Any] = {
        "schema": "durable-workflow.v2.history-export",
        "schema_version": 1,
        "exported_at": "2026-04-25T07:28:01.000000Z",
        "workflow": {
            "instance_id": "wf-1",
            "run_id": "run-1",
            "workflow_type": "greeting",
            "last_history_sequence": 2,
        },
        "payloads": {"codec": "json", "arguments": {"available": True, "data": '["Ada"]'}},
        "links": {"parents": [], "children": []},
        "redaction": {"applied": False, "policy": None, "paths": []},
        "codec_schemas": {},
        "payload_manifest": {
            "version": 1,
            "entries": [{"path": "payloads.arguments.data", "codec": "json", "available": True}],
        },
        "history_events": [
            {"id": "e1", "sequence": 1, "type": "WorkflowStarted", "workflow_command_id": "c1"},
            {"id": "e2", "sequence": 2, "type": "ActivityScheduled"},
        ],
        "commands": [{"id": "c1", "status": "applied"}],
        "signals": [],
        "updates": [],
        "tasks": [],
        "activities": [],
        "timers": [],
        "failures": [],
    }
    body.update(overrides)
    return seal(body, signing_key)


def seal(body: dict[str, Any], signing_key: str | None = None) -> dict[str, Any]:
    body = {k: v for k, v in body.items() if k != "integrity"}
    text = canonical_json(body)
    body["integrity"] = {
        "canonicalization": "json-recursive-ksort-v1",
        "checksum_algorithm": "sha256",
        "checksum": hashlib.sha256(text.encode()).hexdigest(),
        "signature_algorithm": "hmac-sha256" if signing_key else None,
        "signature": (
            hmac.new(signing_key.encode(), text.encode(), hashlib.sha256).hexdigest()
            if signing_key
            else None
        ),
        "key_id": "k1" if signing_key else None,
    }
    return body


def rules(report: dict[str, Any]) -> set[str]:
    return {finding["rule"] for finding in report["findings"]}


def test_clean_bundle_is_ok_with_full_report_shape() -> None:
    report = verify_bundle(bundle())
    assert report["status"] == "ok", report["findings"]
    assert report["schema"] == "durable-workflow.v2.history-bundle-verification"
    assert report["bundle"]["run_id"] == "run-1"
    assert report["bundle"]["history_event_count"] == 2
    assert report["integrity"]["checksum_matches"] is True
    assert report["summary"] == {
        "findings": 0,
        "errors": 0,
        "warnings": 0,
        "info": 0,
        "findings_by_rule": {},
    }


@pytest.mark.parametrize(
    ("mutate", "rule", "status"),
    [
        (lambda b: b.update(schema="other"), "bundle.schema_unexpected", "failed"),
        (lambda b: b.pop("schema_version"), "bundle.schema_version_missing", "failed"),
        (lambda b: b.update(exported_at=""), "bundle.exported_at_missing", "warning"),
        (lambda b: b.pop("timers"), "bundle.section_missing", "failed"),
        (lambda b: b.update(links=[]), "bundle.section_invalid", "failed"),
        (lambda b: b["workflow"].update(run_id=""), "workflow.run_id_missing", "failed"),
        (
            lambda b: b["workflow"].update(last_history_sequence=1),
            "workflow.last_history_sequence_stale",
            "warning",
        ),
        (
            lambda b: b["history_events"][1].update(sequence=1),
            "history_events.sequence_not_monotonic",
            "failed",
        ),
        (lambda b: b["history_events"][1].update(id="e1"), "history_events.id_duplicate", "failed"),
        (lambda b: b["history_events"][1].pop("type"), "history_events.type_missing", "failed"),
        (
            lambda b: b["commands"].append({"id": "c2", "applied_at": "x"}),
            "commands.history_event_missing",
            "warning",
        ),
        (lambda b: b["commands"].append({"status": "applied"}), "commands.id_missing", "failed"),
        (
            lambda b: b["payload_manifest"]["entries"][0].pop("codec"),
            "payload_manifest.codec_missing",
            "failed",
        ),
        (
            lambda b: b["payload_manifest"]["entries"].append(
                {"path": "p", "codec": "avro", "available": True}
            ),
            "payload_manifest.avro_framing_missing",
            "warning",
        ),
        (
            lambda b: b["payload_manifest"]["entries"].append(
                {
                    "path": "p",
                    "codec": "json",
                    "writer_schema": "{}",
                    "writer_schema_fingerprint": "x",
                }
            ),
            "payload_manifest.writer_schema_fingerprint_mismatch",
            "failed",
        ),
        (
            lambda b: b.update(redaction={"applied": True, "policy": "p", "paths": []}),
            "redaction.empty_paths",
            "ok",
        ),
    ],
)
def test_structure_rules(mutate: Any, rule: str, status: str) -> None:
    body = bundle()
    mutate(body)
    report = verify_bundle(seal(body))
    assert rule in rules(report)
    assert report["status"] == status
    assert report["summary"]["findings_by_rule"][rule] >= 1


def test_integrity_rules() -> None:
    tampered = bundle()
    tampered["workflow"]["workflow_type"] = "changed"
    assert "integrity.checksum_mismatch" in rules(verify_bundle(tampered))

    missing = bundle()
    del missing["integrity"]
    assert "integrity.missing" in rules(verify_bundle(missing))

    signed = bundle(signing_key="secret")
    assert verify_bundle(signed, "secret")["integrity"]["signature_verified"] is True
    assert verify_bundle(signed, "secret")["status"] == "ok"
    unchecked = verify_bundle(signed)
    assert "integrity.signature_key_unavailable" in rules(unchecked)
    assert unchecked["status"] == "warning"
    assert "integrity.signature_mismatch" in rules(verify_bundle(signed, "wrong"))

    unsigned = bundle()
    unsigned["integrity"]["signature_algorithm"] = "hmac-sha256"
    assert "integrity.signature_missing" in rules(verify_bundle(unsigned))

    assert rules(verify_bundle_json("{not json")) == {"bundle.unparseable"}
    assert rules(verify_bundle([1, 2])) == {"bundle.unparseable"}


def test_report_vocabulary_constants_are_what_reports_use() -> None:
    clean = bundle(signing_key="secret")
    integrity = clean["integrity"]
    assert integrity["canonicalization"] in hbv.SUPPORTED_CANONICALIZATIONS
    assert integrity["checksum_algorithm"] in hbv.SUPPORTED_CHECKSUM_ALGORITHMS
    assert integrity["signature_algorithm"] in hbv.SUPPORTED_SIGNATURE_ALGORITHMS
    assert verify_bundle(clean, "secret")["status"] == hbv.STATUS_OK
    unchecked = verify_bundle(clean)
    assert unchecked["status"] == hbv.STATUS_WARNING
    assert {f["severity"] for f in unchecked["findings"]} == {hbv.SEVERITY_WARNING}
    for field, value in [
        ("canonicalization", "json-c14n"),
        ("checksum_algorithm", "md5"),
        ("signature_algorithm", "rsa-sha256"),
    ]:
        assert value not in hbv.SUPPORTED_CANONICALIZATIONS | hbv.SUPPORTED_CHECKSUM_ALGORITHMS
        assert value not in hbv.SUPPORTED_SIGNATURE_ALGORITHMS
        odd = bundle(signing_key="secret")
        odd["integrity"][field] = value
        report = verify_bundle(odd, "secret")
        assert report["status"] == hbv.STATUS_FAILED
        assert any(
            f["severity"] == hbv.SEVERITY_ERROR and f["path"] == f"integrity.{field}"
            for f in report["findings"]
        )
    escaped = bundle()
    escaped["workflow"]["workflow_type"] = "grüße"
    escaped = seal(escaped)
    escaped["integrity"]["checksum"] = hashlib.sha256(
        canonical_json(escaped, ensure_ascii=True).encode()
    ).hexdigest()
    severities = {f["severity"] for f in verify_bundle(escaped)["findings"]}
    assert severities == {hbv.SEVERITY_INFO}


def test_non_ascii_bundle_checksummed_by_the_server_encoding_is_accepted() -> None:
    body = bundle()
    body["workflow"]["workflow_type"] = "grüße"
    body = {k: v for k, v in body.items() if k != "integrity"}
    escaped = canonical_json(body, ensure_ascii=True)
    body["integrity"] = {
        "canonicalization": "json-recursive-ksort-v1",
        "checksum_algorithm": "sha256",
        "checksum": hashlib.sha256(escaped.encode()).hexdigest(),
    }
    report = verify_bundle(body)
    assert report["status"] == "ok"
    assert rules(report) == {"integrity.checksum_ascii_escaped"}


def test_history_bundle_verify_cli_exit_codes_and_output(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(bundle()), encoding="utf-8")
    result = run("durable-workflow-history-bundle-verify", str(good))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "ok"
    assert result.stdout == json.dumps(report, indent=2, sort_keys=True) + "\n"
    assert "status: ok" in result.stderr

    signed = tmp_path / "signed.json"
    signed.write_text(json.dumps(bundle(signing_key="k")), encoding="utf-8")
    assert run("durable-workflow-history-bundle-verify", str(signed)).returncode == 0
    strict = run("durable-workflow-history-bundle-verify", str(signed), "--strict-warnings")
    assert strict.returncode == 1
    out = tmp_path / "nested" / "report.json"
    keyed = run(
        "durable-workflow-history-bundle-verify",
        str(signed),
        "--signing-key",
        "k",
        "--output",
        str(out),
    )
    assert keyed.returncode == 0 and keyed.stdout == ""
    assert json.loads(out.read_text())["integrity"]["signature_verified"] is True

    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    failed = run("durable-workflow-history-bundle-verify", str(broken))
    assert failed.returncode == 1
    assert "bundle.unparseable" in failed.stderr
    assert run("durable-workflow-history-bundle-verify").returncode == 2


# -- replay-verify ---------------------------------------------------------------------
def test_verdict_vocabulary() -> None:
    assert aggregate_verdicts(["ok", "warning"]) == "warning"
    assert aggregate_verdicts(["ok", "drifted", "warning"]) == "drifted"
    assert aggregate_verdicts([]) == "failed"
    assert aggregate_verdicts(["ok", "weird"]) == "failed"
    assert [promotion_decision_for(v) for v in ("ok", "warning", "drifted", "failed", "?")] == [
        "safe_to_promote",
        "review_before_promote",
        "block_until_compatible",
        "block_and_investigate",
        "block_and_investigate",
    ]
    assert promotion_decision_for_report("ok", {"replay_skipped": True}) == "review_before_promote"
    assert promotion_decision_for_report("ok", {"replay_skipped": False}) == "safe_to_promote"


def test_reports_are_upstream_records_filled_by_the_verifiers(tmp_path: Path) -> None:
    # Built by hand with upstream's fields, a report says what it was given.
    case = rv.CaseReport(id="c1", status=rv.STATUS_DRIFTED, reason=rv.REASON_SHAPE_MISMATCH)
    golden = rv.GoldenHistoryReport(
        status=rv.STATUS_DRIFTED,
        cases=[case],
        covered_families=["activity"],
        missing_families=[],
        summary={"cases": 1, "drifted": 1},
    )
    data = golden.to_dict()
    assert (data["schema"], data["schema_version"]) == (rv.REPORT_SCHEMA, rv.REPORT_SCHEMA_VERSION)
    assert data["status"] == rv.STATUS_DRIFTED and data["summary"] == {"cases": 1, "drifted": 1}
    assert data["verdict"] == rv.VERDICT_DRIFTED
    assert data["promotion_decision"] == rv.PROMOTION_BLOCK_UNTIL_COMPATIBLE
    assert data["evidence"]["covered_families"] == ["activity"]

    # Filled by the verifier: status, families and summary come from the cases.
    empty = verify_golden_history(tmp_path / "absent", [])
    assert empty.status == rv.STATUS_FAILED
    assert empty.missing_families == list(rv.REQUIRED_FAMILIES)
    assert empty.summary == {"cases": 0, "replayed": 0, "drifted": 0, "failed": 0, "fixtures": 0}

    (tmp_path / "ok.json").write_text(json.dumps(bundle()))
    tampered = bundle()
    tampered["workflow"]["workflow_type"] = "changed"
    (tmp_path / "bad.json").write_text(json.dumps(tampered))
    simulation = simulate_bundles(tmp_path)
    assert [type(b) for b in simulation.bundles] == [rv.BundleEntry, rv.BundleEntry]
    bad, ok = simulation.bundles
    assert (ok.verdict, ok.promotion_decision) == (
        rv.VERDICT_OK,
        rv.PROMOTION_REVIEW_BEFORE_PROMOTE,
    )
    assert ok.reason == rv.REASON_NONE and ok.path == str(tmp_path / "ok.json")
    assert bad.verdict == rv.VERDICT_FAILED and bad.reason == "integrity_failed"
    assert simulation.verdict == rv.VERDICT_FAILED
    assert simulation.promotion_decision == rv.PROMOTION_BLOCK_AND_INVESTIGATE
    assert simulation.summary == {"total": 2, "ok": 1, "warning": 0, "drifted": 0, "failed": 1}
    assert simulation.to_dict()["schema"] == rv.SIMULATION_REPORT_SCHEMA
    assert simulation.to_dict()["bundles"][1] == ok.to_dict()
    assert ok.to_dict()["bundle_path"] == ok.path

    # Upstream's replay names are importable from replay_verify too.
    from durable_workflow import workflow

    assert rv.ReplayOutcome is workflow.ReplayOutcome
    assert rv.ScheduleActivity is workflow.ScheduleActivity
    assert rv.StartChildWorkflow is workflow.StartChildWorkflow
    assert rv.CompleteWorkflow is workflow.CompleteWorkflow


@needs_golden
def test_replay_verify_golden_mode_passes_on_upstream_fixtures(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "replay.json"
    result = run(
        "durable-workflow-replay-verify",
        str(GOLDEN_DIR),
        "--workflows",
        "test_golden_history:golden_workflows",
        "--output",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["schema"] == "durable-workflow.v2.replay-diff"
    assert (report["status"], report["verdict"], report["promotion_decision"]) == (
        "replayed",
        "ok",
        "safe_to_promote",
    )
    assert report["evidence"]["missing_families"] == []
    assert report["summary"]["replayed"] == report["summary"]["cases"] == 5
    assert all(case["id"].startswith("sdk-python@0.3.1::") for case in report["cases"])
    assert "verdict: ok" in result.stderr and "saga-compensation" in result.stderr


@needs_golden
def test_replay_verify_reports_drift_missing_families_and_bad_fixtures(tmp_path: Path) -> None:
    fixture = golden_fixture()
    drifted = copy.deepcopy(fixture)
    drifted["cases"] = [c for c in drifted["cases"] if c["family"] != "activity"]
    drifted["cases"][0]["expected"] = {"command_type": "CompleteWorkflow", "result": "other"}
    (tmp_path / "a.json").write_text(json.dumps(drifted), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"fixture_schema": "nope"}), encoding="utf-8")

    result = run(
        "durable-workflow-replay-verify",
        str(tmp_path),
        "--workflows",
        "test_golden_history:golden_workflows",
    )
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["status"] == "failed"
    assert report["verdict"] == "failed"
    assert report["promotion_decision"] == "block_and_investigate"
    assert report["missing_families"] == ["activity"]
    reasons = {case["reason"] for case in report["cases"]}
    assert {"expectation_mismatch", "bundle_invalid", "none"} <= reasons
    assert "2/2" in result.stderr  # progress over the two files


@needs_golden
def test_missing_families_alone_fail_only_with_the_strict_flag(tmp_path: Path) -> None:
    fixture = golden_fixture()
    fixture["cases"] = fixture["cases"][:1]
    (tmp_path / "one.json").write_text(json.dumps(fixture), encoding="utf-8")
    args = ("--workflows", "test_golden_history:golden_workflows", "--quiet")
    lenient = run("durable-workflow-replay-verify", str(tmp_path), *args)
    assert lenient.returncode == 0 and lenient.stderr == ""
    assert json.loads(lenient.stdout)["verdict"] == "failed"
    strict = run(
        "durable-workflow-replay-verify", str(tmp_path), *args, "--strict-missing-families"
    )
    assert strict.returncode == 1


@needs_golden
def test_non_determinism_is_a_shape_mismatch_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(UNIT_TESTS))
    from test_golden_history import golden_workflows

    fixture = golden_fixture()
    case = next(c for c in fixture["cases"] if c["family"] == "activity")
    case["workflow_type"] = "golden.version-marker"  # other code, same history
    directory = tmp_path
    (directory / "f.json").write_text(json.dumps({**fixture, "cases": [case]}), encoding="utf-8")
    report = verify_golden_history(directory, golden_workflows())
    (case_report,) = report.cases
    assert (case_report.status, case_report.reason) == ("drifted", "shape_mismatch")
    assert case_report.verdict == "drifted"
    assert case_report.error is not None and "step" in case_report.error["message"]


def test_replay_verify_requires_workflows_in_golden_mode(tmp_path: Path) -> None:
    assert run("durable-workflow-replay-verify", str(tmp_path)).returncode == 2


def test_simulate_bundles(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text(json.dumps(bundle()), encoding="utf-8")
    (tmp_path / "signed.json").write_text(json.dumps(bundle(signing_key="k")), encoding="utf-8")
    result = run("durable-workflow-replay-verify", str(tmp_path), "--simulate-bundles")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == "durable-workflow.v2.replay-simulation.report"
    assert report["verdict"] == "warning"  # signature not checkable without the key
    assert report["promotion_decision"] == "review_before_promote"
    assert report["summary"] == {"total": 2, "ok": 1, "warning": 1, "drifted": 0, "failed": 0}
    assert report["evidence"]["replay_skipped"] is True
    assert report["evidence"]["integrity_checked_count"] == 2

    keyed = run(
        "durable-workflow-replay-verify", str(tmp_path), "--simulate-bundles", "--signing-key", "k"
    )
    keyed_report = json.loads(keyed.stdout)
    assert keyed_report["verdict"] == "ok"
    assert keyed_report["promotion_decision"] == "review_before_promote"  # replay skipped

    strict = run(
        "durable-workflow-replay-verify", str(tmp_path), "--simulate-bundles", "--strict-warnings"
    )
    assert strict.returncode == 1
    assert json.loads(strict.stdout)["verdict"] == "failed"

    (tmp_path / "gone.json").symlink_to(tmp_path / "does-not-exist.json")
    missing = simulate_bundles(tmp_path, signing_key="k")
    assert missing.verdict == "failed" and len(missing.missing_bundles) == 1

    empty = run("durable-workflow-replay-verify", str(tmp_path / "none"), "--simulate-bundles")
    assert empty.returncode == 1
    assert json.loads(empty.stdout)["error"]
