"""``durable-workflow-history-bundle-verify``: integrity report for an exported history bundle.

Checks the structure of a ``durable-workflow.v2.history-export`` bundle
(control-plane.md §8.2) and its integrity block: the SHA-256 checksum of the
canonical JSON and, with ``--signing-key``, the HMAC signature. The rule
names, severities and report shape are upstream's (sdk-surface.md §13.2), so
CI gates written for upstream read this report unchanged.

Canonical JSON: the bundle without ``integrity``, keys sorted recursively,
``json.dumps(separators=(",", ":"), ensure_ascii=False)`` as upstream's
verifier does. The PHP server escapes non-ASCII characters instead, so a
bundle with non-ASCII text would fail upstream's check; this verifier also
accepts the ASCII-escaped form and says so with an ``info`` finding
(``integrity.checksum_ascii_escaped``) instead of reporting a mismatch.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from durable_workflow._generated import manifest as _manifest
from durable_workflow.workflow._replay.console import render_table

__all__ = [
    "BUNDLE_SCHEMA",
    "HISTORY_BUNDLE_SCHEMA",
    "HISTORY_BUNDLE_SCHEMA_VERSION",
    "HISTORY_BUNDLE_VERIFICATION_REPORT_SCHEMA",
    "HISTORY_BUNDLE_VERIFICATION_REPORT_SCHEMA_VERSION",
    "REPORT_SCHEMA",
    "REPORT_SCHEMA_VERSION",
    "SEVERITY_ERROR",
    "SEVERITY_INFO",
    "SEVERITY_WARNING",
    "STATUS_FAILED",
    "STATUS_OK",
    "STATUS_WARNING",
    "SUPPORTED_CANONICALIZATIONS",
    "SUPPORTED_CHECKSUM_ALGORITHMS",
    "SUPPORTED_SIGNATURE_ALGORITHMS",
    "canonical_json",
    "main",
    "verify_bundle",
    "verify_bundle_json",
    "verify_history_bundle_json",
]

BUNDLE_SCHEMA = _manifest.HISTORY_EXPORT_SCHEMA
BUNDLE_SCHEMA_VERSION = _manifest.HISTORY_EXPORT_VERSION
# The report format is this verifier's own output (upstream's names kept).
REPORT_SCHEMA = "durable-workflow.v2.history-bundle-verification"
REPORT_SCHEMA_VERSION = 1
HISTORY_BUNDLE_SCHEMA = BUNDLE_SCHEMA
HISTORY_BUNDLE_SCHEMA_VERSION = BUNDLE_SCHEMA_VERSION
HISTORY_BUNDLE_VERIFICATION_REPORT_SCHEMA = REPORT_SCHEMA
HISTORY_BUNDLE_VERIFICATION_REPORT_SCHEMA_VERSION = REPORT_SCHEMA_VERSION
CANONICALIZATION = "json-recursive-ksort-v1"
SUPPORTED_CANONICALIZATIONS = frozenset({CANONICALIZATION})
SUPPORTED_CHECKSUM_ALGORITHMS = frozenset({"sha256"})
SUPPORTED_SIGNATURE_ALGORITHMS = frozenset({"hmac-sha256"})
# A report's ``status`` and each finding's ``severity``.
STATUS_OK = "ok"
STATUS_WARNING = "warning"
STATUS_FAILED = "failed"
SEVERITY_INFO = "info"
SEVERITY_WARNING = "warning"
SEVERITY_ERROR = "error"
_OBJECT_SECTIONS = (
    "workflow",
    "payloads",
    "links",
    "redaction",
    "codec_schemas",
    "payload_manifest",
)
_LIST_SECTIONS = (
    "history_events",
    "commands",
    "signals",
    "updates",
    "tasks",
    "activities",
    "timers",
    "failures",
)
_SETTLED = ("applied", "rejected")


def _ksort(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _ksort(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_ksort(item) for item in value]
    return value


def canonical_json(bundle: Mapping[str, Any], *, ensure_ascii: bool = False) -> str:
    """``json-recursive-ksort-v1`` of ``bundle`` without its ``integrity`` block."""
    body = {k: v for k, v in bundle.items() if k != "integrity"}
    return json.dumps(_ksort(body), separators=(",", ":"), ensure_ascii=ensure_ascii)


class _Findings:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(
        self,
        rule: str,
        severity: str,
        message: str,
        path: str,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        finding: dict[str, Any] = {
            "rule": rule,
            "severity": severity,
            "message": message,
            "path": path,
        }
        if context:
            finding["context"] = dict(context)
        self.items.append(finding)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _check_header(bundle: Mapping[str, Any], findings: _Findings) -> None:
    schema = bundle.get("schema")
    if not schema:
        findings.add("bundle.schema_missing", SEVERITY_ERROR, "bundle has no schema", "schema")
    elif schema != BUNDLE_SCHEMA:
        findings.add(
            "bundle.schema_unexpected",
            SEVERITY_ERROR,
            f"schema is {schema!r}, expected {BUNDLE_SCHEMA!r}",
            "schema",
        )
    version = bundle.get("schema_version")
    if version is None:
        findings.add(
            "bundle.schema_version_missing",
            SEVERITY_ERROR,
            "bundle has no schema_version",
            "schema_version",
        )
    elif version != BUNDLE_SCHEMA_VERSION or isinstance(version, bool):
        findings.add(
            "bundle.schema_version_unsupported",
            SEVERITY_ERROR,
            f"schema_version {version!r} is not supported (expected 1)",
            "schema_version",
        )
    if not _text(bundle.get("exported_at")):
        findings.add(
            "bundle.exported_at_missing", SEVERITY_WARNING, "exported_at is empty", "exported_at"
        )
    for name in _OBJECT_SECTIONS + _LIST_SECTIONS:
        expected: type = dict if name in _OBJECT_SECTIONS else list
        if name not in bundle:
            findings.add(
                "bundle.section_missing", SEVERITY_ERROR, f"section {name!r} is missing", name
            )
        elif not isinstance(bundle[name], expected):
            kind = "an object" if expected is dict else "a list"
            findings.add(
                "bundle.section_invalid", SEVERITY_ERROR, f"section {name!r} is not {kind}", name
            )


def _check_workflow(bundle: Mapping[str, Any], findings: _Findings, highest: int | None) -> None:
    workflow = bundle.get("workflow")
    if not isinstance(workflow, Mapping):
        return
    for key, rule in (
        ("run_id", "workflow.run_id_missing"),
        ("instance_id", "workflow.instance_id_missing"),
        ("workflow_type", "workflow.workflow_type_missing"),
    ):
        if not _text(workflow.get(key)):
            findings.add(rule, SEVERITY_ERROR, f"workflow.{key} is empty", f"workflow.{key}")
    declared = workflow.get("last_history_sequence")
    if isinstance(declared, int) and highest is not None and declared < highest:
        findings.add(
            "workflow.last_history_sequence_stale",
            SEVERITY_WARNING,
            f"last_history_sequence {declared} is below the highest event sequence {highest}",
            "workflow.last_history_sequence",
            {"declared": declared, "highest_event_sequence": highest},
        )


def _check_events(bundle: Mapping[str, Any], findings: _Findings) -> int | None:
    events = bundle.get("history_events")
    if not isinstance(events, list):
        return None
    previous: int | None = None
    seen_ids: set[str] = set()
    for i, event in enumerate(events):
        path = f"history_events.{i}"
        if not isinstance(event, Mapping):
            findings.add(
                "history_events.entry_invalid", SEVERITY_ERROR, "event is not an object", path
            )
            continue
        sequence = event.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool):
            findings.add(
                "history_events.sequence_missing",
                SEVERITY_ERROR,
                "event has no integer sequence",
                f"{path}.sequence",
            )
        else:
            if previous is not None and sequence <= previous:
                findings.add(
                    "history_events.sequence_not_monotonic",
                    SEVERITY_ERROR,
                    f"sequence {sequence} does not follow {previous}",
                    f"{path}.sequence",
                    {"previous": previous, "sequence": sequence},
                )
            previous = sequence if previous is None else max(previous, sequence)
        if not _text(event.get("type")):
            findings.add(
                "history_events.type_missing", SEVERITY_ERROR, "event has no type", f"{path}.type"
            )
        event_id = event.get("id")
        if event_id is not None:
            key = str(event_id)
            if key in seen_ids:
                findings.add(
                    "history_events.id_duplicate",
                    SEVERITY_ERROR,
                    f"event id {key!r} appears more than once",
                    f"{path}.id",
                )
            seen_ids.add(key)
    return previous


def _check_commands(bundle: Mapping[str, Any], findings: _Findings) -> None:
    commands = bundle.get("commands")
    if not isinstance(commands, list):
        return
    events = bundle.get("history_events")
    referenced = {
        str(e.get("workflow_command_id"))
        for e in (events if isinstance(events, list) else [])
        if isinstance(e, Mapping) and e.get("workflow_command_id") is not None
    }
    for i, command in enumerate(commands):
        if not isinstance(command, Mapping):
            continue
        command_id = command.get("id")
        if command_id is None or command_id == "":
            findings.add(
                "commands.id_missing", SEVERITY_ERROR, "command has no id", f"commands.{i}.id"
            )
            continue
        settled = (
            command.get("status") in _SETTLED
            or command.get("outcome") in _SETTLED
            or bool(command.get("applied_at"))
            or bool(command.get("rejected_at"))
        )
        if settled and str(command_id) not in referenced:
            findings.add(
                "commands.history_event_missing",
                SEVERITY_WARNING,
                f"settled command {command_id!r} is not referenced by any history event",
                f"commands.{i}",
                {"command_id": command_id},
            )


def _fingerprint(schema: Any) -> str:
    text = schema if isinstance(schema, str) else json.dumps(schema, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_manifest(bundle: Mapping[str, Any], findings: _Findings) -> None:
    manifest = bundle.get("payload_manifest")
    entries = manifest.get("entries") if isinstance(manifest, Mapping) else None
    if not isinstance(entries, list):
        return
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            continue
        # A finding names the payload's own path (as upstream's do); the entry is in its detail.
        entry_path = f"payload_manifest.entries.{i}"
        payload_path = entry.get("path")
        path = payload_path if isinstance(payload_path, str) and payload_path else entry_path
        where = {"payload_path": payload_path, "manifest_entry": entry_path}
        codec = entry.get("codec")
        if not codec:
            findings.add(
                "payload_manifest.codec_missing", SEVERITY_ERROR, "entry has no codec", path, where
            )
        available = bool(entry.get("available"))
        if available and not entry.get("redacted") and entry.get("diagnostic") == "payload_missing":
            findings.add(
                "payload_manifest.payload_missing",
                SEVERITY_ERROR,
                f"payload at {entry.get('path')!r} is declared available but missing",
                path,
                where,
            )
        if codec == "avro" and available and not entry.get("avro_framing"):
            findings.add(
                "payload_manifest.avro_framing_missing",
                SEVERITY_WARNING,
                f"avro payload at {entry.get('path')!r} has no avro_framing",
                path,
                where,
            )
        schema, declared = entry.get("writer_schema"), entry.get("writer_schema_fingerprint")
        if schema is not None and declared and _fingerprint(schema) != declared:
            findings.add(
                "payload_manifest.writer_schema_fingerprint_mismatch",
                SEVERITY_ERROR,
                f"writer_schema fingerprint of {entry.get('path')!r} does not match",
                path,
                {**where, "declared": declared, "recomputed": _fingerprint(schema)},
            )


def _check_redaction(bundle: Mapping[str, Any], findings: _Findings) -> None:
    redaction = bundle.get("redaction")
    if (
        isinstance(redaction, Mapping)
        and redaction.get("applied") is True
        and not redaction.get("paths")
    ):
        findings.add(
            "redaction.empty_paths",
            SEVERITY_INFO,
            "redaction is applied but lists no paths",
            "redaction.paths",
        )


def _check_integrity(
    bundle: Mapping[str, Any], findings: _Findings, signing_key: str | None
) -> dict[str, Any]:
    integrity = bundle.get("integrity")
    report: dict[str, Any] = {
        "present": isinstance(integrity, Mapping),
        "canonicalization": None,
        "checksum_algorithm": None,
        "expected_checksum": None,
        "recomputed_checksum": None,
        "checksum_matches": False,
        "signature_algorithm": None,
        "signature_present": False,
        "signature_verified": False,
        "key_id": None,
        "checksum": None,
        "checksum_ok": False,
        "signature_ok": False,
        "signing_key_provided": signing_key is not None,
    }
    if not isinstance(integrity, Mapping):
        findings.add(
            "integrity.missing", SEVERITY_ERROR, "bundle has no integrity block", "integrity"
        )
        return report
    canonicalization = integrity.get("canonicalization")
    algorithm = integrity.get("checksum_algorithm")
    expected = integrity.get("checksum")
    signature_algorithm = integrity.get("signature_algorithm")
    signature = integrity.get("signature")
    report.update(
        canonicalization=canonicalization,
        checksum_algorithm=algorithm,
        expected_checksum=expected,
        checksum=expected,
        signature_algorithm=signature_algorithm,
        signature_present=bool(signature),
        key_id=integrity.get("key_id"),
    )
    if canonicalization not in SUPPORTED_CANONICALIZATIONS:
        findings.add(
            "integrity.canonicalization_unsupported",
            SEVERITY_ERROR,
            f"canonicalization {canonicalization!r} is not {CANONICALIZATION!r}",
            "integrity.canonicalization",
        )
    if algorithm not in SUPPORTED_CHECKSUM_ALGORITHMS:
        findings.add(
            "integrity.checksum_algorithm_unsupported",
            SEVERITY_ERROR,
            f"checksum_algorithm {algorithm!r} is not 'sha256'",
            "integrity.checksum_algorithm",
        )
    canonical: str | None = None
    try:
        canonical = canonical_json(bundle)
        escaped = canonical_json(bundle, ensure_ascii=True)
    except (TypeError, ValueError) as exc:
        findings.add(
            "integrity.canonicalization_failed",
            SEVERITY_ERROR,
            f"cannot canonicalise the bundle: {exc}",
            "integrity",
        )
        escaped = None
    if canonical is not None and escaped is not None:
        recomputed = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        report["recomputed_checksum"] = recomputed
        if not expected:
            findings.add(
                "integrity.checksum_missing", SEVERITY_ERROR, "no checksum", "integrity.checksum"
            )
        elif algorithm == "sha256":
            if expected == recomputed:
                report["checksum_matches"] = True
            elif escaped != canonical and expected == _sha256(escaped):
                report["checksum_matches"] = True
                report["recomputed_checksum"] = _sha256(escaped)
                canonical = escaped
                findings.add(
                    "integrity.checksum_ascii_escaped",
                    SEVERITY_INFO,
                    "checksum matches the canonical JSON with non-ASCII characters escaped "
                    "(server encoding), not the raw UTF-8 form",
                    "integrity.checksum",
                )
            else:
                findings.add(
                    "integrity.checksum_mismatch",
                    SEVERITY_ERROR,
                    "checksum does not match the bundle contents",
                    "integrity.checksum",
                    {"expected": expected, "recomputed": recomputed},
                )
    report["checksum_ok"] = report["checksum_matches"]
    report["signature_ok"] = _check_signature(
        report, findings, canonical, signature_algorithm, signature, signing_key
    )
    return report


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_signature(
    report: dict[str, Any],
    findings: _Findings,
    canonical: str | None,
    algorithm: Any,
    signature: Any,
    signing_key: str | None,
) -> bool | None:
    if not algorithm and not signature:
        return True  # unsigned bundles are valid; signing is optional
    if signature and algorithm not in SUPPORTED_SIGNATURE_ALGORITHMS:
        findings.add(
            "integrity.signature_algorithm_unsupported",
            SEVERITY_ERROR,
            f"signature_algorithm {algorithm!r} is not 'hmac-sha256'",
            "integrity.signature_algorithm",
        )
        return False
    if not signature:
        findings.add(
            "integrity.signature_missing",
            SEVERITY_ERROR,
            f"signature_algorithm is {algorithm!r} but there is no signature",
            "integrity.signature",
        )
        return False
    if signing_key is None:
        findings.add(
            "integrity.signature_key_unavailable",
            SEVERITY_WARNING,
            "bundle is signed but no --signing-key was given",
            "integrity.signature",
        )
        return None  # not checked: neither valid nor invalid
    if canonical is None:
        return False
    digest = hmac.new(signing_key.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256)
    if hmac.compare_digest(digest.hexdigest(), str(signature)):
        report["signature_verified"] = True
        return True
    findings.add(
        "integrity.signature_mismatch",
        SEVERITY_ERROR,
        "HMAC-SHA256 signature does not match",
        "integrity.signature",
    )
    return False


def _bundle_summary(bundle: Mapping[str, Any]) -> dict[str, Any]:
    workflow = bundle.get("workflow")
    workflow = workflow if isinstance(workflow, Mapping) else {}
    events = bundle.get("history_events")
    return {
        "schema": bundle.get("schema"),
        "schema_version": bundle.get("schema_version"),
        "instance_id": workflow.get("instance_id"),
        "run_id": workflow.get("run_id"),
        "workflow_instance_id": workflow.get("instance_id"),
        "workflow_run_id": workflow.get("run_id"),
        "history_event_count": len(events) if isinstance(events, list) else 0,
    }


def _report(
    bundle_info: dict[str, Any], integrity: dict[str, Any], findings: _Findings
) -> dict[str, Any]:
    counts = {SEVERITY_ERROR: 0, SEVERITY_WARNING: 0, SEVERITY_INFO: 0}
    by_rule: dict[str, int] = {}
    for finding in findings.items:
        counts[finding["severity"]] += 1
        by_rule[finding["rule"]] = by_rule.get(finding["rule"], 0) + 1
    status = (
        STATUS_FAILED
        if counts[SEVERITY_ERROR]
        else STATUS_WARNING
        if counts[SEVERITY_WARNING]
        else STATUS_OK
    )
    return {
        "schema": REPORT_SCHEMA,
        "schema_version": REPORT_SCHEMA_VERSION,
        "status": status,
        "bundle": bundle_info,
        "integrity": integrity,
        "findings": findings.items,
        "summary": {
            "findings": len(findings.items),
            "errors": counts[SEVERITY_ERROR],
            "warnings": counts[SEVERITY_WARNING],
            "info": counts[SEVERITY_INFO],
            "findings_by_rule": by_rule,
        },
    }


def verify_bundle(bundle: Any, signing_key: str | None = None) -> dict[str, Any]:
    """The verification report of one parsed bundle (never raises on bad input)."""
    findings = _Findings()
    if not isinstance(bundle, Mapping):
        findings.add("bundle.unparseable", SEVERITY_ERROR, "bundle is not a JSON object", "$")
        integrity = _check_integrity({}, _Findings(), signing_key)
        return _report(_bundle_summary({}), integrity, findings)
    _check_header(bundle, findings)
    highest = _check_events(bundle, findings)
    _check_workflow(bundle, findings, highest)
    _check_commands(bundle, findings)
    _check_manifest(bundle, findings)
    _check_redaction(bundle, findings)
    integrity = _check_integrity(bundle, findings, signing_key)
    return _report(_bundle_summary(bundle), integrity, findings)


def verify_bundle_json(payload: str | bytes, signing_key: str | None = None) -> dict[str, Any]:
    """:func:`verify_bundle` of a JSON text; unparseable text is a ``bundle.unparseable`` error."""
    try:
        bundle = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        findings = _Findings()
        findings.add("bundle.unparseable", SEVERITY_ERROR, f"bundle is not valid JSON: {exc}", "$")
        return _report(
            _bundle_summary({}), _check_integrity({}, _Findings(), signing_key), findings
        )
    return verify_bundle(bundle, signing_key)


# Upstream's top-level name for the same function.
verify_history_bundle_json = verify_bundle_json


def exit_code(report: Mapping[str, Any], *, strict_warnings: bool = False) -> int:
    """1 when the report fails the gate (``failed``, or ``warning`` when strict), else 0."""
    status = report.get("status")
    return 1 if status == STATUS_FAILED or (strict_warnings and status == STATUS_WARNING) else 0


def findings_table(report: Mapping[str, Any]) -> str:
    """The findings as a text table (severity, rule, path) plus the final status."""
    rows = [(f["severity"], f["rule"], f["path"]) for f in report.get("findings", [])]
    table = render_table(("severity", "rule", "path"), rows) if rows else "no findings\n"
    summary = report.get("summary", {})
    return (
        f"{table}status: {report.get('status')} ({summary.get('errors', 0)} errors, "
        f"{summary.get('warnings', 0)} warnings, {summary.get('info', 0)} info)\n"
    )


def write_report(report: Mapping[str, Any], output: str | None) -> None:
    """Pretty, key-sorted JSON to ``output`` (parents created) or stdout."""
    text = json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if output:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="durable-workflow-history-bundle-verify",
        description="Verify the structure and integrity of an exported history bundle.",
    )
    parser.add_argument("bundle", help="path of the history-export bundle (JSON)")
    parser.add_argument("--signing-key", default=None, help="HMAC key to verify the signature")
    parser.add_argument("--output", default=None, help="write the report here instead of stdout")
    parser.add_argument(
        "--strict-warnings", action="store_true", help="exit 1 on warnings as well as errors"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no findings table on stderr (report only)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        payload = Path(args.bundle).read_bytes()
    except OSError as exc:
        print(f"durable-workflow-history-bundle-verify: {exc}", file=sys.stderr)
        return 2
    report = verify_bundle_json(payload, args.signing_key)
    write_report(report, args.output)
    if not args.quiet:
        sys.stderr.write(findings_table(report))
    return exit_code(report, strict_warnings=args.strict_warnings)


if __name__ == "__main__":
    raise SystemExit(main())
