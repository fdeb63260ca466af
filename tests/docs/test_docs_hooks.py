"""The mkdocs hooks: the CLI reference is generated from the parsers and misses no command;
Sphinx role prefixes are dropped from rendered docstrings."""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from durable_workflow.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
HOOKS = REPO / "docs" / "_hooks"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", HOOKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    return load("cli_reference")


@pytest.fixture(scope="module")
def page(hook: ModuleType) -> str:
    text: str = hook.on_page_markdown((REPO / "docs" / "cli.md").read_text(), page=None)
    return text


def every_command(parser: argparse.ArgumentParser, path: str) -> list[str]:
    found = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += every_command(sub, f"{path} {name}")
    return found


def test_every_command_of_the_parser_has_a_section(page: str) -> None:
    headings = set(re.findall(r"^#{2,3} `([^`]+)`$", page, re.MULTILINE))
    commands = every_command(build_parser(), "durable-workflow")
    assert len(commands) > 80
    missing = [c for c in commands if c not in headings]
    assert not missing, missing
    for script in ("durable-workflow-replay-verify", "durable-workflow-history-bundle-verify"):
        assert script in headings


def test_a_section_holds_the_commands_own_help(page: str) -> None:
    section = page.split("### `durable-workflow workflow start`", 1)[1].split("\n#", 1)[0]
    assert "usage: durable-workflow workflow start" in section
    assert "--task-queue TASK_QUEUE" in section


def test_carrier_run_shows_the_runners_flags_it_hands_on_to(page: str) -> None:
    section = page.split("`durable-workflow carrier run`", 1)[1].split("\n#", 1)[0]
    assert "usage: durable-workflow carrier run" in section
    assert "--check" in section and "--config" in section


def test_the_marker_is_replaced_and_other_pages_are_untouched(hook: ModuleType, page: str) -> None:
    assert hook.MARKER not in page
    assert hook.MARKER in (REPO / "docs" / "cli.md").read_text()
    assert hook.on_page_markdown("# other", page=None) == "# other"
    assert "docs/_hooks/cli_reference.py" in (REPO / "mkdocs.yml").read_text()


def test_help_text_does_not_depend_on_the_terminal_width(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    wide = hook.render()
    monkeypatch.setenv("COLUMNS", "40")
    assert hook.render() == wide


def test_role_prefixes_are_dropped_before_code_only() -> None:
    roles = load("docstring_roles")
    html = "<p>See :meth:<code>sleep</code> and :class:<code>Client</code>; a:b stays.</p>"
    assert roles.on_page_content(html, page=None) == (
        "<p>See <code>sleep</code> and <code>Client</code>; a:b stays.</p>"
    )
    assert "docs/_hooks/docstring_roles.py" in (REPO / "mkdocs.yml").read_text()
