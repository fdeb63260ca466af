"""Upstream control-plane parity fixtures, read in place from ../shared/upstream.

The fixtures are illustrative projections written upstream; requests they
show must be accepted, and the keys of their response examples must appear in
ours (control-plane.md marks them [F]).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from server_http_helpers import Api

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "upstream" / "control-plane"


def _fixture(name: str) -> dict[str, Any]:
    path = FIXTURES / f"{name}-parity.json"
    if not path.exists():
        pytest.skip(f"upstream parity fixtures not available at {FIXTURES}")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_start_bodies_from_cli_and_sdk_fixtures_are_accepted(api: Api) -> None:
    fixture = _fixture("workflow-start")
    cli = api.control("POST", "/workflows", json=fixture["cli"]["expected_body"])
    assert cli.status_code == 201, cli.text
    sdk_body = {
        **fixture["sdk_python"]["expected_body"],
        "input": {"codec": "avro", "blob": "AARbXQI="},
    }
    again = api.control("POST", "/workflows", json=sdk_body)
    assert again.status_code == 200 and again.json()["outcome"] == "returned_existing_active"


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("workflow-describe", "/workflows/{wf}"),
        ("workflow-show-run", "/workflows/{wf}/runs/{run}"),
        ("workflow-list", "/workflows"),
        ("namespace-list", "/namespaces"),
    ],
)
def test_response_examples_keys_are_present(api: Api, name: str, path: str) -> None:
    start = _fixture("workflow-start")["cli"]["expected_body"]
    started = api.control("POST", "/workflows", json=start).json()
    expected = _fixture(name)["response_body"]
    mine = api.control("GET", path.format(wf=started["workflow_id"], run=started["run_id"])).json()
    assert set(expected) <= set(mine)
    for key in ("workflows", "namespaces"):
        if expected.get(key):
            assert set(expected[key][0]) <= set(mine[key][0])
