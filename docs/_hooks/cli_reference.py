"""mkdocs hook: writes the CLI reference from the argparse parsers at build time.

``docs/cli.md`` holds the marker ``<!-- cli-reference -->``; this hook puts in
its place one section per command, with the parser's own ``--help`` text, so
the page can never drift from the code. ``tests/docs/test_cli_reference.py``
checks that every command reaches the page.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

MARKER = "<!-- cli-reference -->"
WIDTH = 96

# The build documents this checkout's source, installed or not.
_SRC = Path(__file__).resolve().parents[2] / "src"
if str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))


def _carrier_runner() -> argparse.ArgumentParser:
    from durable_workflow.carriers.runner import _parser

    return _parser()


def _replay_verify() -> argparse.ArgumentParser:
    from durable_workflow.replay_verify import _parser

    return _parser()


def _history_bundle_verify() -> argparse.ArgumentParser:
    from durable_workflow.history_bundle_verify import _parser

    return _parser()


#: Commands whose arguments another parser reads (``carrier run`` hands them on).
DELEGATED: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "durable-workflow carrier run": _carrier_runner,
}
#: The other console scripts the package installs.
SCRIPTS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "durable-workflow-replay-verify": _replay_verify,
    "durable-workflow-history-bundle-verify": _history_bundle_verify,
}


def main_parser() -> argparse.ArgumentParser:
    from durable_workflow.cli import build_parser

    return build_parser()


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            found += [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return found


def commands(
    parser: argparse.ArgumentParser, path: str, summary: str = ""
) -> Iterator[tuple[str, str, argparse.ArgumentParser, bool]]:
    """(command path, one-line help, parser, is a group) for the tree under ``parser``."""
    children = _subcommands(parser)
    if path in DELEGATED:
        yield path, summary, DELEGATED[path](), False
        return
    yield path, summary, parser, bool(children)
    for name, help_text, child in children:
        yield from commands(child, f"{path} {name}", help_text)


def help_text(parser: argparse.ArgumentParser) -> str:
    """``--help`` at a fixed width, so the page does not depend on the terminal."""
    formatter: Any = parser.formatter_class
    parser.formatter_class = functools.partial(formatter, width=WIDTH)
    try:
        return parser.format_help().rstrip()
    finally:
        parser.formatter_class = formatter


def _section(path: str, summary: str, parser: argparse.ArgumentParser, level: int) -> str:
    lines = [f"{'#' * level} `{path}`", ""]
    if summary:
        lines += [summary[0].upper() + summary[1:] + ("" if summary.endswith(".") else "."), ""]
    lines += ["```text", help_text(parser), "```", ""]
    return "\n".join(lines)


def render() -> str:
    """The whole reference as Markdown."""
    out = []
    for path, summary, parser, group in commands(main_parser(), "durable-workflow"):
        depth = path.count(" ")
        level = 2 if depth <= 1 else 3
        if group and depth >= 1:
            level = 2
        out.append(_section(path, summary, parser, level))
    for name, build in SCRIPTS.items():
        out.append(_section(name, "", build(), 2))
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
