"""The page runner itself: what it executes, what it checks, what makes it fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from doc_snippets import fence_languages, run_page


def page(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    return path


def run(tmp_path: Path, text: str) -> list[str]:
    return run_page(page(tmp_path, text), tmp_path, dict(os.environ))


def test_blocks_share_a_namespace_and_top_level_await_runs_on_one_loop(tmp_path: Path) -> None:
    run(
        tmp_path,
        """
```python
import asyncio
ticks = []
async def tick():
    while True:
        ticks.append(1)
        await asyncio.sleep(0.01)
task = asyncio.create_task(tick())
```

```python
await asyncio.sleep(0.1)
print(len(ticks) > 2)
#> True
```
""",
    )


def test_a_block_calling_asyncio_run_is_a_program_of_its_own(tmp_path: Path) -> None:
    run(
        tmp_path,
        """
```python
import asyncio

async def main():
    print("ran")

asyncio.run(main())
#> ran
```
""",
    )


def test_printed_output_must_match_the_expected_lines(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="but the page says"):
        run(tmp_path, "```python\nprint('hello')\n#> goodbye\n```\n")


def test_an_ellipsis_matches_any_text(tmp_path: Path) -> None:
    run(tmp_path, "```python\nprint('run 01J9 done')\n#> run ... done\n```\n")


def test_a_failing_block_fails_the_page(tmp_path: Path) -> None:
    with pytest.raises(ZeroDivisionError):
        run(tmp_path, "```python\n1 / 0\n```\n")


def test_bash_blocks_run_and_their_exit_status_counts(tmp_path: Path) -> None:
    run(tmp_path, "```bash\necho hi\n#> hi\n```\n")
    with pytest.raises(AssertionError, match="exit 3"):
        run(tmp_path, "```bash\nexit 3\n```\n")


def test_json_blocks_must_parse(tmp_path: Path) -> None:
    run(tmp_path, '```json\n{"a": 1}\n```\n')
    with pytest.raises(ValueError):
        run(tmp_path, '```json\n{"a": 1,}\n```\n')


def test_invisible_setup_runs_and_a_skip_reports_its_reason(tmp_path: Path) -> None:
    skipped = run(
        tmp_path,
        """
<!-- invisible-code-block: python
hidden = 41
-->

<!-- skip: next "needs a real cluster" -->

```python
raise RuntimeError("never run")
```

```python
print(hidden + 1)
#> 42
```
""",
    )
    assert skipped == ["line 8: needs a real cluster"]


def test_environment_changes_end_with_the_page(tmp_path: Path) -> None:
    run(tmp_path, "```python\nimport os\nos.environ['DOCS_PAGE_ONLY'] = '1'\n```\n")
    assert "DOCS_PAGE_ONLY" not in os.environ


def test_fence_languages_reads_openings_only() -> None:
    text = "```python\nx = 1\n```\n\n```\nplain\n```\n````text\n```python\n````\n"
    assert list(fence_languages(text)) == [(1, "python"), (5, ""), (8, "text")]
