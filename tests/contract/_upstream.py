"""Locate upstream-produced fixtures in place (never copied into the repo)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
UPSTREAM = REPO.parent / "shared" / "upstream"


def upstream_files(folder: str) -> list[Path]:
    """Fixture files of one upstream folder; empty when the folder is absent."""
    root = UPSTREAM / folder
    return sorted(root.glob("*.json")) if root.is_dir() else []


def require_upstream(folder: str) -> Path:
    root = UPSTREAM / folder
    if not root.is_dir():
        pytest.skip(f"upstream fixtures not available at {root}")
    return root


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]
