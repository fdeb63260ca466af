"""Bounded Schemathesis run for CI (``nox -s fuzz`` is the long one): every operation of
``/api/openapi.json`` fuzzed against a running dev server, no failure allowed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fuzz_server import fuzz_server
from schemathesis_fuzz import database_problems, fuzz

BUDGET = int(os.environ.get("DW_FUZZ_CI_REQUESTS", "3000"))


@pytest.mark.timeout(600)
def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    db = tmp_path / "fuzz.sqlite"
    with fuzz_server(db) as url:
        report = fuzz(url, BUDGET, seed_value=1, per_round=10)
    print(report.summary())
    assert report.requests >= BUDGET
    assert report.statuses["2xx"] > 0 and report.statuses["4xx"] > 0
    assert report.failures == [], "\n".join(report.failures[:20])
    assert database_problems(db) == []
