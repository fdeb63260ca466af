"""``durable-workflow-replay-verify``: a CI gate that replays recorded histories against new code.

Two modes (sdk-surface.md §13.1):

* golden-history mode: every ``*.json`` fixture (``durable-workflow.golden-history.v1``)
  in a directory is replayed against the workflow classes returned by
  ``--workflows module:callable``; each case must replay without
  non-determinism and produce its expected next command. History-export
  bundles (``durable-workflow.v2.history-export``, what ``workflow
  history-export`` and ``Client.export_history`` write) in the same directory
  are replayed too, one case each, with the codec the bundle declares (beyond
  upstream, which rejected them); the required fixture families apply only
  when golden fixtures are present. The report is a
  ``durable-workflow.v2.replay-diff``.
* ``--simulate-bundles``: every exported history bundle in a directory is
  integrity-checked (no workflow code runs), giving a
  ``durable-workflow.v2.replay-simulation.report``.

Verdicts and promotion decisions use upstream's vocabulary so a deployment
pipeline built for upstream reads these reports unchanged. The JSON report
goes to stdout or ``--output``; progress and a summary table go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from durable_workflow._generated.manifest import HISTORY_EXPORT_SCHEMA
from durable_workflow.converter import DataConverter
from durable_workflow.converter._cli import add_converter_arguments, converter_from_arguments
from durable_workflow.errors import ChildWorkflowFailed, NonDeterministicReplayError, WorkflowFailed
from durable_workflow.history_bundle_verify import verify_bundle_json, write_report
from durable_workflow.workflow import (
    CompleteWorkflow,
    Replayer,
    ReplayOutcome,
    ScheduleActivity,
    StartChildWorkflow,
    replay,
)
from durable_workflow.workflow._entry import bundle_codec
from durable_workflow.workflow._replay.console import Progress, render_table
from durable_workflow.workflow._replay.history import history_list
from durable_workflow.workflow._replay.names import workflow_type_name

__all__ = [
    "DIFF_SCHEMA",
    "FIXTURE_SCHEMA",
    "PROMOTION_BLOCK_AND_INVESTIGATE",
    "PROMOTION_BLOCK_UNTIL_COMPATIBLE",
    "PROMOTION_REVIEW_BEFORE_PROMOTE",
    "PROMOTION_SAFE_TO_PROMOTE",
    "REASON_BUNDLE_INVALID",
    "REASON_EXPECTATION_MISMATCH",
    "REASON_NONE",
    "REASON_REPLAY_ERROR",
    "REASON_SHAPE_MISMATCH",
    "REPORT_SCHEMA",
    "REPORT_SCHEMA_VERSION",
    "REQUIRED_FAMILIES",
    "SIMULATION_REPORT_SCHEMA",
    "SIMULATION_REPORT_SCHEMA_VERSION",
    "SIMULATION_SCHEMA",
    "STATUS_DRIFTED",
    "STATUS_FAILED",
    "STATUS_REPLAYED",
    "VERDICT_DRIFTED",
    "VERDICT_FAILED",
    "VERDICT_OK",
    "VERDICT_WARNING",
    "BundleEntry",
    "CaseReport",
    "CompleteWorkflow",
    "GoldenHistoryReport",
    "ReplayOutcome",
    "ScheduleActivity",
    "SimulationReport",
    "StartChildWorkflow",
    "aggregate_verdicts",
    "main",
    "promotion_decision_for",
    "promotion_decision_for_report",
    "simulate_bundles",
    "verify_golden_history",
    "verify_replay",
]

FIXTURE_SCHEMA = "durable-workflow.golden-history.v1"
REPORT_SCHEMA = DIFF_SCHEMA = "durable-workflow.v2.replay-diff"
REPORT_SCHEMA_VERSION = 1
SIMULATION_REPORT_SCHEMA = SIMULATION_SCHEMA = "durable-workflow.v2.replay-simulation.report"
SIMULATION_REPORT_SCHEMA_VERSION = 1
# A case's (and golden report's) replay ``status``.
STATUS_REPLAYED = "replayed"
STATUS_DRIFTED = "drifted"
STATUS_FAILED = "failed"
# The promotion-facing ``verdict``, and what a deployment gate should do with it.
VERDICT_OK = "ok"
VERDICT_WARNING = "warning"
VERDICT_DRIFTED = "drifted"
VERDICT_FAILED = "failed"
PROMOTION_SAFE_TO_PROMOTE = "safe_to_promote"
PROMOTION_REVIEW_BEFORE_PROMOTE = "review_before_promote"
PROMOTION_BLOCK_UNTIL_COMPATIBLE = "block_until_compatible"
PROMOTION_BLOCK_AND_INVESTIGATE = "block_and_investigate"
# Why a case is not clean.
REASON_NONE = "none"
REASON_SHAPE_MISMATCH = "shape_mismatch"
REASON_REPLAY_ERROR = "replay_error"
REASON_BUNDLE_INVALID = "bundle_invalid"
REASON_EXPECTATION_MISMATCH = "expectation_mismatch"
REQUIRED_FAMILIES = (
    "activity",
    "saga-compensation",
    "signal-update",
    "version-marker",
    "wait-condition",
)
_VERDICT_RANK = {VERDICT_OK: 0, VERDICT_WARNING: 1, VERDICT_DRIFTED: 2, VERDICT_FAILED: 3}
_DECISIONS = {
    VERDICT_OK: PROMOTION_SAFE_TO_PROMOTE,
    VERDICT_WARNING: PROMOTION_REVIEW_BEFORE_PROMOTE,
    VERDICT_DRIFTED: PROMOTION_BLOCK_UNTIL_COMPATIBLE,
    VERDICT_FAILED: PROMOTION_BLOCK_AND_INVESTIGATE,
}
_STATUS_VERDICT = {
    STATUS_REPLAYED: VERDICT_OK,
    STATUS_DRIFTED: VERDICT_DRIFTED,
    STATUS_FAILED: VERDICT_FAILED,
}
# Exceptions that mean "the code no longer fits this history" rather than a crash.
_SHAPE_ERRORS = (
    NonDeterministicReplayError,
    TypeError,
    ValueError,
    WorkflowFailed,
    ChildWorkflowFailed,
)


# -- verdict vocabulary ----------------------------------------------------------
def aggregate_verdicts(verdicts: Iterable[str]) -> str:
    """The worst verdict (ok < warning < drifted < failed); unknown or none -> failed."""
    values = list(verdicts)
    if not values or any(v not in _VERDICT_RANK for v in values):
        return VERDICT_FAILED
    return max(values, key=_VERDICT_RANK.__getitem__)


def promotion_decision_for(verdict: str) -> str:
    """What a deployment gate should do with a verdict."""
    return _DECISIONS.get(verdict, PROMOTION_BLOCK_AND_INVESTIGATE)


def promotion_decision_for_report(verdict: str, evidence: Mapping[str, Any] | None = None) -> str:
    """As :func:`promotion_decision_for`, but a clean result without replay needs review."""
    decision = promotion_decision_for(verdict)
    if (
        decision == PROMOTION_SAFE_TO_PROMOTE
        and evidence
        and evidence.get("replay_skipped") is True
    ):
        return PROMOTION_REVIEW_BEFORE_PROMOTE
    return decision


# -- one replay --------------------------------------------------------------------
@dataclass
class CaseReport:
    """The result of replaying one history against the code."""

    id: str
    status: str
    reason: str = REASON_NONE
    workflow_type: str | None = None
    family: str | None = None
    source: Any = None
    divergence: Any = None
    expected: Any = None
    observed: Any = None
    #: ``{"class": ..., "message": ...}`` (upstream's shape), or None.
    error: Mapping[str, Any] | None = None

    @property
    def verdict(self) -> str:
        return _STATUS_VERDICT.get(self.status, VERDICT_FAILED)

    @property
    def promotion_decision(self) -> str:
        return promotion_decision_for(self.verdict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "verdict": self.verdict,
            "promotion_decision": self.promotion_decision,
            "reason": self.reason,
            "workflow_type": self.workflow_type,
            "family": self.family,
            "source": self.source,
            "divergence": self.divergence,
            "expected": self.expected,
            "observed": self.observed,
            "error": dict(self.error) if self.error is not None else None,
        }


def _describe(command: Any) -> dict[str, Any]:
    observed: dict[str, Any] = {"command_type": type(command).__name__}
    for key in ("result", "activity_type", "arguments", "workflow_type", "message"):
        if hasattr(command, key):
            observed[key] = getattr(command, key)
    return observed


def _error(kind: str, message: str) -> dict[str, str]:
    """A case's error as upstream reports it: the exception class and its message."""
    return {"class": kind, "message": message}


def _divergence(expected: Mapping[str, Any], observed: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"field": key, "expected": value, "observed": observed.get(key)}
        for key, value in expected.items()
        if observed.get(key) != value
    ]


def verify_replay(
    workflow_cls: type,
    history: Any,
    *,
    start_input: Any = None,
    expected: Mapping[str, Any] | None = None,
    case_id: str = "verify_replay",
    workflow_type: str | None = None,
    converter: DataConverter | None = None,
) -> CaseReport:
    """Replay ``history`` and compare the next command with ``expected`` (if given).

    Never raises for a bad replay: the problem becomes the report's status.
    ``converter`` (beyond upstream) reads stored or codec-chained values.
    """
    report = CaseReport(
        id=case_id,
        status=STATUS_REPLAYED,
        workflow_type=workflow_type or workflow_type_name(workflow_cls),
        expected=dict(expected) if expected is not None else None,
    )
    try:
        if start_input is None:
            start_input = Replayer._start_input(history_list(history))
        outcome = replay(
            workflow_cls,
            history,
            start_input,
            run_id=case_id,
            converter=converter,
            payload_codec=bundle_codec(history),
        )
    except _SHAPE_ERRORS as exc:
        report.status, report.reason = STATUS_DRIFTED, REASON_SHAPE_MISMATCH
        report.error = _error(type(exc).__name__, str(exc))
        report.divergence = {"error": str(exc), "exception_type": type(exc).__name__}
        return report
    except Exception as exc:
        report.status, report.reason = STATUS_FAILED, REASON_REPLAY_ERROR
        report.error = _error(type(exc).__name__, str(exc))
        return report
    report.observed = _describe(outcome.commands[-1]) if outcome.commands else None
    if expected is not None:
        differences = _divergence(expected, report.observed or {})
        if differences:
            report.status, report.reason = STATUS_DRIFTED, REASON_EXPECTATION_MISMATCH
            report.divergence = differences
            report.error = _error(
                "ExpectationMismatch",
                "; ".join(
                    f"{d['field']} {d['observed']!r} does not match expected {d['expected']!r}"
                    for d in differences
                ),
            )
    return report


# -- golden-history mode --------------------------------------------------------------
@dataclass
class GoldenHistoryReport:
    """Every case of every fixture, plus the family coverage a release needs.

    The fields are upstream's record; :func:`verify_golden_history` fills
    ``status``, the family lists and ``summary`` from the cases it replayed.
    """

    schema: str = REPORT_SCHEMA
    schema_version: int = REPORT_SCHEMA_VERSION
    status: str = STATUS_REPLAYED
    fixture_schema: str | None = FIXTURE_SCHEMA
    cases: list[CaseReport] = field(default_factory=list)
    missing_families: list[str] = field(default_factory=list)
    required_families: Sequence[str] = REQUIRED_FAMILIES
    covered_families: list[str] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    fixture_count: int = 0
    error: str | None = None

    def _settle(self) -> GoldenHistoryReport:
        """Derive status, family coverage and summary from the cases (and any error)."""
        self.covered_families = sorted({c.family for c in self.cases if c.family})
        covered = set(self.covered_families)
        self.missing_families = [f for f in self.required_families if f not in covered]
        statuses = {c.status for c in self.cases}
        if self.error or STATUS_FAILED in statuses or self.missing_families:
            self.status = STATUS_FAILED
        elif STATUS_DRIFTED in statuses:
            self.status = STATUS_DRIFTED
        else:
            self.status = STATUS_REPLAYED
        self.summary = {
            "cases": len(self.cases),
            **{s: sum(c.status == s for c in self.cases) for s in _STATUS_VERDICT},
            "fixtures": self.fixture_count,
        }
        return self

    @property
    def verdict(self) -> str:
        if self.missing_families or self.error:
            return VERDICT_FAILED
        return aggregate_verdicts(c.verdict for c in self.cases)

    @property
    def promotion_decision(self) -> str:
        return promotion_decision_for_report(self.verdict, self.evidence)

    @property
    def evidence(self) -> dict[str, Any]:
        return {
            "fixture_count": self.fixture_count,
            "case_count": len(self.cases),
            "required_families": list(self.required_families),
            "covered_families": list(self.covered_families),
            "missing_family_count": len(self.missing_families),
            "missing_families": list(self.missing_families),
        }

    def to_dict(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "schema": self.schema,
            "schema_version": self.schema_version,
            "status": self.status,
            "verdict": self.verdict,
            "promotion_decision": self.promotion_decision,
            "evidence": self.evidence,
            "fixture_schema": self.fixture_schema,
            "summary": dict(self.summary),
            "missing_families": list(self.missing_families),
            "cases": [c.to_dict() for c in self.cases],
        }
        if self.error:
            report["error"] = self.error
        return report


def _json_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.json") if p.is_file() or p.is_symlink())


def _invalid_fixture(path: Path, message: str) -> CaseReport:
    return CaseReport(
        id=path.name,
        status=STATUS_FAILED,
        reason=REASON_BUNDLE_INVALID,
        error=_error("BundleInvalid", message),
    )


def _fixture_cases(
    path: Path, workflows: Mapping[str, type], converter: DataConverter | None = None
) -> tuple[list[CaseReport], str | None]:
    try:
        fixture = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [_invalid_fixture(path, f"cannot read fixture: {exc}")], None
    if isinstance(fixture, Mapping) and fixture.get("schema") == HISTORY_EXPORT_SCHEMA:
        return [_bundle_case(path, fixture, workflows, converter)], HISTORY_EXPORT_SCHEMA
    if not isinstance(fixture, Mapping) or fixture.get("fixture_schema") != FIXTURE_SCHEMA:
        schema = fixture.get("fixture_schema") if isinstance(fixture, Mapping) else None
        return [
            _invalid_fixture(
                path,
                f"fixture_schema is {schema!r}, not {FIXTURE_SCHEMA!r} (nor a "
                f"{HISTORY_EXPORT_SCHEMA!r} bundle)",
            )
        ], None
    source = fixture.get("source")
    cases = fixture.get("cases")
    if not isinstance(source, Mapping) or not isinstance(cases, list):
        return [_invalid_fixture(path, "fixture has no source object or cases list")], None
    prefix = f"{source.get('runtime')}@{source.get('version')}"
    reports: list[CaseReport] = []
    for position, case in enumerate(cases):
        if not isinstance(case, Mapping):
            reports.append(_invalid_fixture(path, f"case #{position + 1} is not an object"))
            continue
        case_id = f"{prefix}::{case.get('name', position + 1)}"
        workflow_type = case.get("workflow_type")
        cls = workflows.get(workflow_type) if isinstance(workflow_type, str) else None
        if cls is None:
            report = CaseReport(
                id=case_id,
                status=STATUS_FAILED,
                reason=REASON_REPLAY_ERROR,
                workflow_type=workflow_type if isinstance(workflow_type, str) else None,
                error=_error(
                    "WorkflowNotRegistered",
                    f"no workflow class registered for type {workflow_type!r}",
                ),
                expected=case.get("expected"),
            )
        else:
            report = verify_replay(
                cls,
                case.get("history") or [],
                start_input=case.get("start_input"),
                expected=case.get("expected"),
                case_id=case_id,
                workflow_type=workflow_type,
                converter=converter,
            )
        report.family = case.get("family") if isinstance(case.get("family"), str) else None
        report.source = dict(source)
        reports.append(report)
    return reports, str(fixture.get("fixture_schema"))


def _bundle_case(
    path: Path,
    bundle: Mapping[str, Any],
    workflows: Mapping[str, type],
    converter: DataConverter | None,
) -> CaseReport:
    """One history-export bundle as a case: it must replay without non-determinism."""
    block = bundle.get("workflow")
    run = block if isinstance(block, Mapping) else {}
    workflow_type = run.get("workflow_type")
    workflow_id = run.get("workflow_id") or run.get("instance_id")
    case_id = f"{path.name}::{workflow_id}/{run.get('run_id')}"
    cls = workflows.get(workflow_type) if isinstance(workflow_type, str) else None
    if cls is None:
        return CaseReport(
            id=case_id,
            status=STATUS_FAILED,
            reason=REASON_REPLAY_ERROR,
            workflow_type=workflow_type if isinstance(workflow_type, str) else None,
            error=_error(
                "WorkflowNotRegistered", f"no workflow class registered for type {workflow_type!r}"
            ),
        )
    report = verify_replay(
        cls, bundle, case_id=case_id, workflow_type=workflow_type, converter=converter
    )
    report.source = {"bundle": path.name, "schema": HISTORY_EXPORT_SCHEMA}
    return report


def _by_name(workflows: Iterable[type]) -> dict[str, type]:
    table: dict[str, type] = {}
    for cls in workflows:
        table[workflow_type_name(cls)] = cls
    return table


def verify_golden_history(
    fixture_dir: str | Path,
    workflows: Iterable[type],
    *,
    required_families: Sequence[str] = REQUIRED_FAMILIES,
    progress: TextIO | None = None,
    converter: DataConverter | None = None,
) -> GoldenHistoryReport:
    """Replay every case of every fixture in ``fixture_dir`` (values read with ``converter``)."""
    report = GoldenHistoryReport(required_families=tuple(required_families))
    directory = Path(fixture_dir)
    if not directory.is_dir():
        report.error = f"fixture directory {str(directory)!r} does not exist"
        return report._settle()
    files = _json_files(directory)
    if not files:
        report.error = f"no *.json fixtures in {str(directory)!r}"
        report.cases.append(_invalid_fixture(directory / "*.json", report.error))
        return report._settle()
    table = _by_name(workflows)
    bar = Progress(len(files), progress or sys.stderr, enabled=progress is not None)
    schemas: set[str] = set()
    for path in files:
        cases, schema = _fixture_cases(path, table, converter)
        report.cases.extend(cases)
        report.fixture_count += 1
        if schema:
            schemas.add(schema)
        bar.advance(path.name)
    if schemas == {HISTORY_EXPORT_SCHEMA}:
        report.required_families = ()  # families are a property of golden fixtures
    report.fixture_schema = schemas.pop() if len(schemas) == 1 else FIXTURE_SCHEMA
    return report._settle()


# -- bundle simulation ------------------------------------------------------------
@dataclass
class BundleEntry:
    """One bundle's integrity result inside a simulation report."""

    path: str
    verdict: str
    promotion_decision: str
    integrity: Mapping[str, Any] | None = None
    evidence: Mapping[str, Any] | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        evidence = dict(self.evidence) if self.evidence is not None else None
        return {
            "bundle_path": self.path,
            "verdict": self.verdict,
            "promotion_decision": promotion_decision_for_report(self.verdict, evidence),
            "reason": self.reason,
            "evidence": evidence,
            "integrity": dict(self.integrity) if self.integrity is not None else None,
        }


@dataclass
class SimulationReport:
    """Integrity results for every bundle; replay is skipped by design.

    The fields are upstream's record; :func:`simulate_bundles` fills
    ``verdict``, ``promotion_decision`` and ``summary`` from the bundles.
    """

    schema: str = SIMULATION_REPORT_SCHEMA
    schema_version: int = SIMULATION_REPORT_SCHEMA_VERSION
    verdict: str = VERDICT_OK
    promotion_decision: str = PROMOTION_SAFE_TO_PROMOTE
    summary: dict[str, int] = field(default_factory=dict)
    bundles: list[BundleEntry] = field(default_factory=list)
    missing_bundles: list[str] = field(default_factory=list)
    error: str | None = None
    strict_warnings: bool = False

    def _settle(self) -> SimulationReport:
        """Derive verdict, decision and summary from the bundles (and any error)."""
        verdicts = [b.verdict for b in self.bundles]
        failed = self.error or self.missing_bundles
        self.verdict = VERDICT_FAILED if failed else aggregate_verdicts(verdicts)
        self.promotion_decision = promotion_decision_for_report(self.verdict, self.evidence)
        self.summary = {"total": len(self.bundles), **{v: verdicts.count(v) for v in _VERDICT_RANK}}
        return self

    @property
    def evidence(self) -> dict[str, Any]:
        return {
            "bundle_count": len(self.bundles),
            "missing_bundle_count": len(self.missing_bundles),
            "integrity_checked_count": sum(
                bool((b.evidence or {}).get("integrity_checked")) for b in self.bundles
            ),
            "replay_checked_count": 0,
            "replay_skipped": True,
            "strict_warnings": self.strict_warnings,
        }

    def to_dict(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "schema": self.schema,
            "schema_version": self.schema_version,
            "verdict": self.verdict,
            "promotion_decision": self.promotion_decision,
            "evidence": self.evidence,
            "summary": dict(self.summary),
            "bundles": [b.to_dict() for b in self.bundles],
            "missing_bundles": list(self.missing_bundles),
        }
        if self.error:
            report["error"] = self.error
        return report


def _bundle_entry(path: Path, integrity: dict[str, Any], strict_warnings: bool) -> BundleEntry:
    status = integrity.get("status")
    if status == "ok":
        verdict = VERDICT_OK
    elif status == "warning":
        verdict = VERDICT_FAILED if strict_warnings else VERDICT_WARNING
    else:
        verdict = VERDICT_FAILED
    evidence = {
        "integrity_checked": True,
        "integrity_status": status,
        "integrity_finding_count": len(integrity.get("findings", [])),
        "replay_checked": False,
        "replay_status": None,
        "replay_skipped": True,
        "strict_warnings": strict_warnings,
    }
    return BundleEntry(
        path=str(path),
        verdict=verdict,
        promotion_decision=promotion_decision_for_report(verdict, evidence),
        integrity=integrity,
        evidence=evidence,
        reason=REASON_NONE if verdict == VERDICT_OK else f"integrity_{status}",
    )


def simulate_bundles(
    bundle_dir: str | Path,
    *,
    signing_key: str | None = None,
    strict_warnings: bool = False,
    progress: TextIO | None = None,
) -> SimulationReport:
    """Integrity-check every ``*.json`` bundle in ``bundle_dir``."""
    report = SimulationReport(strict_warnings=strict_warnings)
    directory = Path(bundle_dir)
    if not directory.is_dir():
        report.error = f"bundle directory {str(directory)!r} does not exist"
        report.missing_bundles.append(str(directory))  # what upstream reports as missing
        return report._settle()
    files = _json_files(directory)
    if not files:
        report.error = f"no *.json bundles in {str(directory)!r}"
        report.missing_bundles.append(str(directory / "*.json"))
        return report._settle()
    bar = Progress(len(files), progress or sys.stderr, enabled=progress is not None)
    for path in files:
        try:
            payload = path.read_bytes()
        except OSError:
            report.missing_bundles.append(str(path))  # e.g. a dangling link: evidence is gone
        else:
            integrity = verify_bundle_json(payload, signing_key)
            report.bundles.append(_bundle_entry(path, integrity, strict_warnings))
        bar.advance(path.name)
    return report._settle()


# -- command line ----------------------------------------------------------------
def _load_workflows(spec: str) -> list[type]:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"--workflows must be module:callable, got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a module of the project it runs in, as uvicorn does
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    value = target() if callable(target) and not isinstance(target, type) else target
    if isinstance(value, type):
        return [value]
    if isinstance(value, Mapping):
        return list(value.values())
    return list(value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="durable-workflow-replay-verify",
        description="Replay golden histories against workflow code, or integrity-check "
        "exported history bundles (--simulate-bundles).",
    )
    parser.add_argument("fixture_dir", help="directory of *.json fixtures or bundles")
    parser.add_argument(
        "--workflows", help="module:callable returning the workflow classes (golden mode)"
    )
    parser.add_argument("--output", help="write the JSON report here instead of stdout")
    parser.add_argument(
        "--strict-missing-families",
        action="store_true",
        help="exit 1 when required fixture families are missing",
    )
    parser.add_argument(
        "--simulate-bundles", action="store_true", help="integrity-verify bundles, no replay"
    )
    parser.add_argument("--signing-key", help="HMAC key for bundle signatures (simulation)")
    parser.add_argument(
        "--strict-warnings", action="store_true", help="bundle warnings fail (simulation)"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress or summary table on stderr"
    )
    add_converter_arguments(parser)
    return parser


def _golden_table(report: GoldenHistoryReport) -> str:
    rows = [(c.id, c.family or "-", c.status, c.reason) for c in report.cases]
    table = render_table(("case", "family", "status", "reason"), rows) if rows else ""
    missing = ", ".join(report.missing_families) or "none"
    tail = f"error: {report.error}\n" if report.error else ""
    return (
        f"{table}{tail}status: {report.status}  verdict: {report.verdict}  "
        f"promotion: {report.promotion_decision}  missing families: {missing}\n"
    )


def _simulation_table(report: SimulationReport) -> str:
    rows = [
        (
            Path(b.path).name,
            (b.integrity or {}).get("status"),
            b.verdict,
            (b.evidence or {}).get("integrity_finding_count"),
        )
        for b in report.bundles
    ]
    rows += [(Path(p).name, "missing", "failed", "-") for p in report.missing_bundles]
    table = render_table(("bundle", "integrity", "verdict", "findings"), rows) if rows else ""
    tail = f"error: {report.error}\n" if report.error else ""
    return f"{table}{tail}verdict: {report.verdict}  promotion: {report.promotion_decision}\n"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    stream: TextIO | None = None if args.quiet else sys.stderr
    summary: Callable[[], str]
    if args.simulate_bundles:
        simulation = simulate_bundles(
            args.fixture_dir,
            signing_key=args.signing_key,
            strict_warnings=args.strict_warnings,
            progress=stream,
        )
        write_report(simulation.to_dict(), args.output)
        summary = lambda: _simulation_table(simulation)  # noqa: E731
        code = 1 if simulation.verdict in (VERDICT_DRIFTED, VERDICT_FAILED) else 0
    else:
        if not args.workflows:
            parser.error("--workflows module:callable is required unless --simulate-bundles")
        try:
            workflows = _load_workflows(args.workflows)
        except (ImportError, AttributeError, ValueError, TypeError) as exc:
            parser.error(f"cannot load --workflows {args.workflows!r}: {exc}")
        golden = verify_golden_history(
            args.fixture_dir,
            workflows,
            progress=stream,
            converter=converter_from_arguments(args),
        )
        write_report(golden.to_dict(), args.output)
        summary = lambda: _golden_table(golden)  # noqa: E731
        # Missing families alone fail the status, but the exit code only with the strict flag.
        failing = golden.error is not None or any(
            case.status in (STATUS_FAILED, STATUS_DRIFTED) for case in golden.cases
        )
        code = 1 if failing or (args.strict_missing_families and golden.missing_families) else 0
    if stream is not None:
        stream.write(summary())
    return code


if __name__ == "__main__":
    raise SystemExit(main())
