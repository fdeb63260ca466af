"""The vendored 2.x server specs are the published bytes, each recorded in PROVENANCE.md."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENDORED = REPO / "contracts" / "server-2.x"
PROVENANCE = VENDORED / "PROVENANCE.md"
SHARED = REPO.parent / "shared" / "upstream" / "server-2.x"
ROW = re.compile(
    r"^\| `(?P<file>[^`]+)` \| (?P<repo>[\w.-]+/[\w.-]+) \| `(?P<path>[^`]+)` "
    r"\| (?P<commit>[0-9a-f]{12}|[0-9a-f]{40}) \| .+ \| (?P<sha256>[0-9a-f]{64}) \|$"
)


def _recorded() -> dict[str, str]:
    """File -> sha256 from the provenance table (every table row must parse)."""
    lines = PROVENANCE.read_text(encoding="utf-8").splitlines()
    entries = [line for line in lines if line.startswith("| `")]
    parsed = {}
    for line in entries:
        match = ROW.match(line)
        assert match, f"malformed provenance row: {line}"
        assert match["file"] not in parsed, f"listed twice: {match['file']}"
        parsed[match["file"]] = match["sha256"]
    return parsed


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _vendored_files() -> set[str]:
    return {
        str(p.relative_to(VENDORED)) for p in VENDORED.rglob("*") if p.is_file() and p != PROVENANCE
    }


def test_every_vendored_file_is_recorded_once() -> None:
    recorded = _recorded()
    assert recorded, "PROVENANCE.md lists no file"
    assert set(recorded) == _vendored_files()


@pytest.mark.parametrize("name", sorted(_recorded()))
def test_vendored_file_matches_its_recorded_hash(name: str) -> None:
    assert _sha256(VENDORED / name) == _recorded()[name]


@pytest.mark.parametrize("name", sorted(_recorded()))
def test_vendored_file_is_the_shared_upstream_copy(name: str) -> None:
    if not SHARED.is_dir():
        pytest.skip(f"shared upstream specs not available at {SHARED}")
    upstream = SHARED / name
    assert upstream.is_file(), f"{name} is not in {SHARED}"
    assert _sha256(upstream) == _recorded()[name]


def test_shared_upstream_has_nothing_left_out() -> None:
    if not SHARED.is_dir():
        pytest.skip(f"shared upstream specs not available at {SHARED}")
    shared = {
        str(p.relative_to(SHARED))
        for p in SHARED.rglob("*")
        if p.is_file() and p.name != "PROVENANCE.md"
    }
    assert shared == _vendored_files()


def test_row_format_is_enforced() -> None:
    good = "| `a.json` | o/r | `x/a.json` | 0123456789ab | v1 | " + "0" * 64 + " |"
    assert ROW.match(good)
    assert not ROW.match(good.replace("0" * 64, "0" * 16 + "…"))  # a prefix is not a hash
    assert not ROW.match(good.replace("0123456789ab", "tip"))
