"""The typed-call misuse cases fail type checking on exactly their lines, with their codes.

tests/typing/typed_calls_misuse.py marks each must-fail line with the
``type: ignore[code]`` it needs (test_client_typing.py proves none is unused);
here the ignores are stripped and mypy --strict must report those lines and
codes and nothing else, so a case cannot pass by failing for another reason.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[3]
CASES = ROOT / "tests" / "typing" / "typed_calls_misuse.py"
IGNORE = re.compile(r"\s*# type: ignore\[([a-z-]+)\]")
ERROR = re.compile(r"^[^:]+:(\d+): error: (.*)  \[([a-z-]+)\]$")


@pytest.mark.timeout(300)
def test_each_misuse_line_fails_with_its_code(tmp_path: Path) -> None:
    expected: set[tuple[int, str]] = set()
    stripped: list[str] = []
    for number, line in enumerate(CASES.read_text(encoding="utf-8").splitlines(), start=1):
        match = IGNORE.search(line)
        if match:
            expected.add((number, match.group(1)))
            line = line[: match.start()]
        stripped.append(line)
    assert len(expected) >= 8
    target = tmp_path / "typed_calls_misuse.py"
    target.write_text("\n".join(stripped) + "\n", encoding="utf-8")
    env_path = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = str(ROOT / "src")
    try:
        stdout, stderr, _ = api.run(
            [
                "--strict",
                "--no-incremental",
                "--config-file",
                str(ROOT / "pyproject.toml"),
                "--show-error-codes",
                "--no-pretty",
                str(target),
            ]
        )
    finally:
        if env_path is None:
            os.environ.pop("MYPYPATH", None)
        else:
            os.environ["MYPYPATH"] = env_path
    reported = {
        (int(m.group(1)), m.group(3))
        for m in (ERROR.match(line) for line in stdout.splitlines())
        if m is not None
    }
    assert reported == expected, stdout + stderr
