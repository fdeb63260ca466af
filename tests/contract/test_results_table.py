"""codegen/results.py refuses a results table that disagrees with itself or the contracts."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _codegen import step as load_step

step = load_step("results")
TABLE: dict[str, Any] = json.loads(step.TABLE.read_text(encoding="utf-8"))


def _load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Callable[[Any], None]) -> Any:
    table = copy.deepcopy(TABLE)
    edit(table["classes"])
    path = tmp_path / "results.json"
    path.write_text(json.dumps(table), encoding="utf-8")
    monkeypatch.setattr(step, "TABLE", path)
    return step.load()


def test_the_committed_table_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    classes = _load(tmp_path, monkeypatch, lambda c: None)
    assert len(classes) == len(TABLE["classes"]) == 31


def _set(cls: str, field: str, spec: Any) -> Callable[[Any], None]:
    def edit(classes: Any) -> None:
        classes[cls]["fields"][field] = spec

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set("WorkflowRun", "no_such_key", "str"), "not a key of workflow.WorkflowRunView"),
        (
            _set("WorkflowRun", "run_id", {"kind": "str", "not_a_key": "x"}),
            "is a key of workflow.WorkflowRunView",
        ),
        (_set("WorkflowRun", "run_id", "no_such_kind"), "unknown kind"),
        (_set("WorkflowRun", "run_id", {"kind": "str", "or": ["nobody"]}), "keywords ['nobody']"),
        (
            _set("NamespaceList", "namespaces", {"kind": "nested", "of": "NamespaceDescription"}),
            "must take anything",
        ),
        (_set("WorkflowRun", "run_id", {"kind": "str", "typo": 1}), "unknown options"),
        (lambda c: c["WorkflowList"].pop("unmodelled"), "states why"),
        (lambda c: c["WorkflowRun"].update(model="workflow.Nope"), "not in contracts/schemas"),
    ],
)
def test_an_inconsistent_table_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Callable[[Any], None], message: str
) -> None:
    with pytest.raises(step.TableError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _load(tmp_path, monkeypatch, edit)
