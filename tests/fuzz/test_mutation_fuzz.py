"""Bounded one-mutation fuzz from upstream's parity fixtures (``nox -s fuzz`` runs a long one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_server import fuzz_server
from mutation_fuzz import FIXTURES, run
from schemathesis_fuzz import database_problems


@pytest.mark.timeout(600)
def test_one_mutation_requests_find_no_failure(tmp_path: Path) -> None:
    if not FIXTURES.is_dir():
        pytest.skip(f"parity fixtures not available at {FIXTURES}")
    db = tmp_path / "mutate.sqlite"
    with fuzz_server(db) as url:
        statuses, failures = run(url, 2000, seed_value=5)
    assert statuses["2xx"] > 0 and statuses["4xx"] > 0
    assert failures == [], "\n".join(failures[:20])
    assert database_problems(db) == []
