"""The upstream tests we do not hold ourselves to, each with its reason (``exclusions.txt``).

A line is ``<node id> | <reason>``; ``#`` starts a comment line. Every excluded node id must
also appear in docs/compat.md ("Upstream test suite"), so the reasons are published.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
EXCLUSIONS = HERE / "exclusions.txt"
COMPAT_DOC = HERE.parents[1] / "docs" / "compat.md"


def load_exclusions(path: Path = EXCLUSIONS) -> dict[str, str]:
    """Node id -> reason; malformed, reasonless or repeated lines are errors."""
    found: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        node, sep, reason = (part.strip() for part in line.rpartition("|"))
        if not sep or not node or not reason:
            raise ValueError(f"{path.name}:{number}: expected '<node id> | <reason>'")
        if node in found:
            raise ValueError(f"{path.name}:{number}: {node} is listed twice")
        found[node] = reason
    return found


def undocumented(exclusions: dict[str, str], doc: Path = COMPAT_DOC) -> list[str]:
    """Excluded node ids that docs/compat.md does not name."""
    text = doc.read_text(encoding="utf-8")
    return [node for node in exclusions if f"`{node}`" not in text]
