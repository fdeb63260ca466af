"""The generated models are the ones something uses.

A class counts as used when its name appears in hand-written code, in the
generated operation specs, as a field type of another model, or in a test.
``AWAITING_A_USER`` lists contract models that no code reads yet, each with the
code that should. A new unused class fails here: use it, list it with its
future user, or stop generating it.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "src" / "durable_workflow" / "_generated" / "models"

# Generated classes that no code reads yet, each with the code that should.
# Empty: every generated class has a user. (ErrorBody, WorkerPlaneFields and the
# history ``*Payload`` models are checked against the dev server's replies in
# tests/integration/server/test_error_body_conformance.py and
# test_history_payload_conformance.py.)
AWAITING_A_USER: set[str] = set()


def _generated_classes() -> dict[str, Path]:
    return {
        node.name: path
        for path in sorted(MODELS.glob("*.py"))
        if path.name != "__init__.py"
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.ClassDef)
    }


def _unused(classes: dict[str, Path]) -> set[str]:
    """Classes whose name occurs nowhere but in their own ``class`` line."""
    here = Path(__file__).resolve()
    seen: Counter[str] = Counter()
    for root in (REPO / "src", REPO / "tests"):
        for path in root.rglob("*.py"):
            if path.resolve() != here:
                seen.update(re.findall(r"\w+", path.read_text(encoding="utf-8")))
    return {name for name in classes if seen[name] <= 1}


def test_every_generated_class_is_used_or_awaits_a_named_user() -> None:
    classes = _generated_classes()
    assert set(classes) >= AWAITING_A_USER, AWAITING_A_USER - set(classes)
    unexpected = _unused(classes) - AWAITING_A_USER
    assert not unexpected, f"generated but used nowhere: {sorted(unexpected)}"


def test_family_roots_are_not_generated() -> None:
    names = _generated_classes()
    assert not [n for n in names if n.endswith("SchemaFamily")]
    assert "ExternalExecutionContractManifestsAndExecutorConfig" not in names
