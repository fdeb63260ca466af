"""What every generation step shares: the template environment, formatting, write or check."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import jinja2

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "templates"


def templates() -> jinja2.Environment:
    """The templates folder, strict about undefined names, with block whitespace trimmed."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def _ruff(text: str, target: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(target), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if result.returncode not in (0, 1) or not result.stdout:
        raise SystemExit(f"ruff {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def formatted(text: str, target: Path) -> str:
    """``text`` with unused imports dropped, imports sorted and formatted as ``target`` is."""
    text = _ruff(text, target, "check", "--fix-only", "--select", "I,F401", "--exit-zero")
    return _ruff(text, target, "format")


def write_or_check(text: str, target: Path, check: bool) -> int:
    """Write ``target``, or with ``check`` print the diff and return 1 when it is stale."""
    if not check:
        target.write_text(text, encoding="utf-8")
        return 0
    current = target.read_text(encoding="utf-8") if target.exists() else ""
    if current == text:
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"committed/{target.name}",
            f"regenerated/{target.name}",
        )
    )
    return 1
