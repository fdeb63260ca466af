"""pytest plugin (``-p outcomes``) for the upstream-test runner: record, and optionally restrict.

``--upstream-record PATH`` writes ``{"durable_workflow": <file imported>, "passed": [node ids]}``;
a test counts as passed only when its setup, call and teardown all passed.
``--upstream-select PATH`` (a JSON list of node ids) deselects every other collected test,
so the second run executes exactly the tests that passed against upstream.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

_PHASES = ("setup", "call", "teardown")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upstream")
    group.addoption("--upstream-record", metavar="PATH", help="write passed node ids as JSON")
    group.addoption("--upstream-select", metavar="PATH", help="run only these node ids (JSON)")


def pytest_configure(config: pytest.Config) -> None:
    record = config.getoption("upstream_record")
    select = config.getoption("upstream_select")
    if record or select:
        config.pluginmanager.register(_Outcomes(record, select), "upstream-outcomes")


class _Outcomes:
    def __init__(self, record: str | None, select: str | None) -> None:
        self._record = Path(record) if record else None
        self._select = set(json.loads(Path(select).read_text())) if select else None
        self._phases: dict[str, set[str]] = {}

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if self._select is None:
            return
        keep = [item for item in items if item.nodeid in self._select]
        drop = [item for item in items if item.nodeid not in self._select]
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.passed and not hasattr(report, "wasxfail"):
            self._phases.setdefault(report.nodeid, set()).add(report.when)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._record is None:
            return
        passed = sorted(node for node, phases in self._phases.items() if phases.issuperset(_PHASES))
        module = sys.modules.get("durable_workflow")
        imported = getattr(module, "__file__", None) if module else None
        self._record.write_text(json.dumps({"durable_workflow": imported, "passed": passed}))
