"""Parity with every upstream control-plane fixture (../shared/upstream/control-plane).

Each fixture's request is sent to a seeded dev server; the response must carry every
key of the fixture's ``response_body`` with the same JSON type (where both are
non-null). Fixtures whose request names rows the dev server cannot seed (server-chosen
run/task ids) or whose shape control-plane.md marks as invented ([F]) are listed in
``NOT_COMPARABLE`` with the reason; the list is checked too, so it cannot go stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from server_http_helpers import CONTROL, WORKER

from durable_workflow.testing import dev_server

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "upstream" / "control-plane"
NOT_COMPARABLE = {
    "activity-complete": "needs a server-chosen activity task id",
    "activity-fail": "needs a server-chosen activity task id",
    "query-task-complete": "needs a leased query task id",
    "workflow-task-fail": "needs a server-chosen workflow task id",
    "workflow-task-poll": "fixture worker registers with runtime 'external' (not a runtime)",
    "workflow-history": "needs a server-chosen run id",
    "workflow-history-export": "fixture shape is invented [F] (control-plane §8.2)",
    "workflow-show-run": "needs a server-chosen run id",
    "worker-register": "runtime 'external' is not a registration runtime",
    "storage-test": "s3 driver: the dev server probes only the local driver",
    "namespace-create": "upstream omits updated_at on create (control-plane §5.2)",
    "namespace-update": "upstream omits created_at on update (control-plane §5.4)",
    "workflow-describe": "empty memo/search attributes are [] as upstream PHP arrays",
    "schedule-trigger": "the fixture's own create body pauses the schedule: upstream skips it",
}


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _fixtures() -> list[Path]:
    if not FIXTURES.is_dir():
        pytest.skip(f"upstream parity fixtures not available at {FIXTURES}")
    files = sorted(FIXTURES.glob("*-parity.json"))
    return sorted(files, key=lambda p: ("namespace-create" not in p.name, p.name))


def test_every_fixture_response_shape_matches() -> None:
    problems: dict[str, Any] = {}
    seen: set[str] = set()
    with dev_server(poll_timeout=0.2) as handle:
        import httpx

        with httpx.Client(base_url=handle.url, timeout=10) as http:
            http.post("/api/worker/register", headers=WORKER, json={
                "worker_id": "polyglot-worker-231", "task_queue": "external-workflows",
                "runtime": "python"})  # fmt: skip
            http.post("/api/workflows", headers=CONTROL, json={
                "workflow_id": "wf-polyglot-231", "workflow_type": "t",
                "task_queue": "external-workflows"})  # fmt: skip
            for schedule_id in ("daily-order-rollup", "inventory-refresh"):
                http.post("/api/schedules", headers=CONTROL, json={
                    "schedule_id": schedule_id, "spec": {"cron_expressions": ["0 9 * * *"]},
                    "action": {"workflow_type": "t"}})  # fmt: skip
            for path in _fixtures():
                name = path.name.removesuffix("-parity.json")
                seen.add(name)
                fixture = json.loads(path.read_text())
                expected = fixture.get("response_body")
                request = fixture["request"]
                headers = WORKER if request["path"].startswith("/worker/") else CONTROL
                response = http.request(
                    request["method"], "/api" + request["path"], json=request.get("body"),
                    params=request.get("query"), headers=headers,
                )  # fmt: skip
                if not expected or name in NOT_COMPARABLE:
                    continue  # sent anyway: later fixtures build on its effect
                mine = response.json()
                missing = [k for k in expected if k not in mine]
                types = [
                    k for k in expected
                    if k in mine and None not in (expected[k], mine[k])
                    and _type(expected[k]) != _type(mine[k])
                ]  # fmt: skip
                if missing or types:
                    problems[name] = {"status": response.status_code, "missing": missing,
                                      "types": types}  # fmt: skip
    assert problems == {}
    assert set(NOT_COMPARABLE) <= seen
