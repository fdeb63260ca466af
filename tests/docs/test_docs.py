"""Every code block of docs/ runs, in page order, against one dev server.

A page's Python blocks share a namespace and an event loop; its bash blocks
run the console scripts. ``DURABLE_WORKFLOW_SERVER_URL`` and
``DURABLE_WORKFLOW_AUTH_TOKEN`` point both at the module's dev server, which
is what the pages tell a reader to set for ``durable-workflow server
start-dev --token dev-token``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from doc_snippets import EXECUTED, NOT_CODE, fence_languages, run_page

from durable_workflow.testing import DevServerHandle, dev_server

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
TOKEN = "dev-token"


@pytest.fixture(scope="module")
def server() -> Iterator[DevServerHandle]:
    with dev_server(token=TOKEN, poll_timeout=5.0) as handle:
        yield handle


@pytest.fixture
def page_env(server: DevServerHandle, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    settings = {
        "DURABLE_WORKFLOW_SERVER_URL": server.url,
        "DURABLE_WORKFLOW_AUTH_TOKEN": TOKEN,
        "DURABLE_WORKFLOW_NAMESPACE": "default",
    }
    for name in list(os.environ):
        if name.startswith(("DURABLE_WORKFLOW_", "DW_")):
            monkeypatch.delenv(name)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    # The console scripts of this interpreter come first, for bash blocks and subprocesses.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return dict(os.environ)


@pytest.mark.parametrize("page", PAGES)
def test_every_block_of_the_page_runs(
    page: str, page_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    skipped = run_page(DOCS / page, tmp_path, page_env)
    for reason in skipped:
        print(f"{page}: skipped {reason}")


@pytest.mark.parametrize("page", PAGES)
def test_every_fence_is_a_known_language(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    unknown = [
        f"line {n}: {language or '(none)'}"
        for n, language in fence_languages(text)
        if language not in EXECUTED + NOT_CODE
    ]
    assert not unknown, (
        f"docs/{page}: label these fences with one of {EXECUTED + NOT_CODE} "
        f"(executed: {EXECUTED}): {unknown}"
    )


def test_every_skip_gives_its_reason() -> None:
    bare = [
        f"{page}: {line.strip()}"
        for page in PAGES
        for line in (DOCS / page).read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*<!--\s*skip:", line) and not re.search(r'skip:\s*\w+\s+"[^"]+"', line)
    ]
    assert not bare, f"a skipped block needs a quoted reason: {bare}"
