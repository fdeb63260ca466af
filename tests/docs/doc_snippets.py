"""Runs the code blocks of a Markdown page in order, as a reader would type them.

Sybil finds the blocks; the evaluators here run them:

- ``python``: one namespace per page; blocks run as in ``python -m asyncio``,
  on the page's own event loop with top-level ``await`` allowed, so a worker
  task started in one block keeps running while later blocks await. A block
  that calls ``asyncio.run()`` is a whole program and runs outside that loop.
- ``bash``: each block runs in ``bash -euo pipefail`` with the console scripts
  of this interpreter first on ``PATH``.
- ``json``: must parse.

Expected output is written as comment lines starting with ``#>`` after the
line that prints it; when a block has any, everything it prints must match
them line by line (``...`` inside an expected line matches any text).
``<!-- skip: next "reason" -->`` skips the next block, and
``<!-- invisible-code-block: python -->`` runs setup code the page does not show.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sybil import Document, Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, SkipParser

#: Fenced-block languages and what happens to them; any other language fails the page test.
EXECUTED = ("python", "bash", "json")
NOT_CODE = ("text", "mermaid")
EXPECT = re.compile(r"^\s*#>(?: (.*))?$")


@dataclass
class PageRun:
    """What one page's blocks share besides the Python namespace."""

    workdir: Path
    env: dict[str, str]
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    #: Cleanups that hidden setup blocks register (``__page__.cleanup.enter_context(...)``).
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def close(self) -> None:
        try:
            self._close_loop()
        finally:
            self.cleanup.close()
            os.environ.clear()
            os.environ.update(self.environ)

    def _close_loop(self) -> None:
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()


def expected_lines(source: str) -> list[str]:
    return [m.group(1) or "" for line in source.splitlines() if (m := EXPECT.match(line))]


def check_output(example: Example, printed: str) -> None:
    expected = expected_lines(example.parsed)
    if not expected:
        return
    got = [line.rstrip() for line in printed.rstrip("\n").splitlines()]
    patterns = [re.escape(line.rstrip()).replace(re.escape("..."), ".*") for line in expected]
    if len(got) != len(patterns) or not all(
        re.fullmatch(p, g) for p, g in zip(patterns, got, strict=True)
    ):
        raise AssertionError(
            f"{example.path}, line {example.line}: printed\n"
            + "\n".join(got)
            + "\n\nbut the page says\n"
            + "\n".join(expected)
        )


def _page(example: Example) -> PageRun:
    run = example.namespace.get("__page__")
    assert isinstance(run, PageRun), "run pages through run_page()"
    return run


def is_script(tree: ast.Module) -> bool:
    """A block that calls ``asyncio.run()`` itself is a whole program, run outside the loop."""
    for statement in tree.body:
        for node in ast.walk(statement):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "run"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "asyncio"
            ):
                return True
    return False


def evaluate_python(example: Example) -> None:
    """Run a block as in ``python -m asyncio``: on the page's loop, ``await`` allowed."""
    source = "\n" * (example.line + example.parsed.line_offset) + example.parsed
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(source, example.path, "exec", flags=flags, dont_inherit=True)
    script = is_script(ast.parse(source))
    namespace = example.namespace

    async def in_loop() -> None:
        result = eval(code, namespace)
        if inspect.iscoroutine(result):
            await result

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        if script:
            exec(code, namespace)
        else:
            _page(example).loop.run_until_complete(in_loop())
    sys.stdout.write(printed.getvalue())
    check_output(example, printed.getvalue())


def evaluate_bash(example: Example) -> None:
    run = _page(example)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", str(example.parsed)],
        cwd=run.workdir,
        env=run.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{example.path}, line {example.line}: exit {result.returncode}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    check_output(example, result.stdout)


def evaluate_json(example: Example) -> None:
    json.loads(str(example.parsed))


SYBIL = Sybil(
    parsers=[
        CodeBlockParser("python", evaluate_python),
        CodeBlockParser("bash", evaluate_bash),
        CodeBlockParser("json", evaluate_json),
        SkipParser(),
    ],
)

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)(?P<info>[^`\n]*)$", re.MULTILINE)


def fence_languages(text: str) -> Iterator[tuple[int, str]]:
    """(line number, language) of each opening fence; an unlabelled fence gives ''."""
    inside: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if match is None:
            continue
        if inside is None:
            inside = match.group("fence")
            yield number, match.group("info").strip().split(" ")[0]
        elif match.group("fence").startswith(inside) and not match.group("info").strip():
            inside = None


def run_page(path: Path, workdir: Path, env: dict[str, str]) -> list[str]:
    """Evaluate every example of ``path`` in order; returns the skip reasons met."""
    document: Document = SYBIL.parse(path)
    run = PageRun(workdir=workdir, env=env)
    document.namespace.update({"__page__": run, "__name__": f"docs_{path.stem}"})
    skipped: list[str] = []
    try:
        for example in document.examples():
            try:
                example.evaluate()
            except Exception as exc:
                if type(exc).__name__ == "SkipTest":
                    skipped.append(f"line {example.line}: {exc}")
                    continue
                raise
    finally:
        run.close()
    return skipped
