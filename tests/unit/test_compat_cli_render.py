"""The contract-check report shapes: plain table, JSON document and the rich table on a tty."""

from __future__ import annotations

import io
import sys

import pytest

from durable_workflow._compat import ADDITIVE, BREAKING, MATCH, ManifestCheck
from durable_workflow.cli import _contract

ROWS = [
    ManifestCheck("control_plane.version", "2", "2", True, MATCH),
    ManifestCheck(
        "worker_protocol.accepted_request_versions", ["1.0"], ["1.0", "1.2"], True, ADDITIVE
    ),
    ManifestCheck(
        "history_export.schema", "durable-workflow.v2.history-export", None, False, BREAKING
    ),
]


def test_plain_table_one_row_per_entry_with_its_status() -> None:
    lines = _contract.render_contract_table(ROWS).splitlines()
    assert lines[0].split() == ["ENTRY", "EXPECTED", "SERVER", "STATUS"]
    assert lines[1].split() == ["control_plane.version", "2", "2", "match"]
    assert lines[2].split()[0] == "worker_protocol.accepted_request_versions"
    assert '["1.0", "1.2"]' in lines[2] and lines[2].endswith("additive")
    assert lines[3].split() == [
        "history_export.schema",
        "durable-workflow.v2.history-export",
        "-",
        "breaking",
    ]


def test_report_document_verdict_is_the_worst_status() -> None:
    report = _contract.report_document("http://x", ROWS)
    assert report["verdict"] == BREAKING
    assert report["counts"] == {MATCH: 1, ADDITIVE: 1, BREAKING: 1}
    assert report["entries"][2] == {
        "path": "history_export.schema",
        "expected": "durable-workflow.v2.history-export",
        "actual": None,
        "status": BREAKING,
    }
    assert _contract.report_document("http://x", ROWS[:2])["verdict"] == ADDITIVE
    assert _contract.report_document("http://x", ROWS[:1])["verdict"] == MATCH


def test_rich_is_only_used_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert _contract._print_rich(ROWS) is False  # not a tty: plain text for CI logs


def test_rich_table_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("rich", reason="rich comes with the 'cli' extra")

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    monkeypatch.setattr(sys, "stdout", out)
    assert _contract._print_rich(ROWS) is True
    text = out.getvalue()
    assert "history_export.schema" in text and "breaking" in text and "additive" in text


def test_report_document_names_the_generation_and_its_contracts() -> None:
    report = _contract.report_document("http://x", ROWS[:1], 2, "evidence")
    assert (report["generation"], report["contracts"]) == (2, "contracts/server-2.x")
    report = _contract.report_document("http://x", ROWS[:1], 1, "evidence")
    assert report["contracts"] == "contracts/manifest.json"
