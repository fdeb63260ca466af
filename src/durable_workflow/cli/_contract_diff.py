"""``durable-workflow contract diff OLD NEW``: is a server's contract bump additive or breaking?

Offline: compares two copies of a generation's spec folder (``contracts/server-2.x/``
before and after dropping in a new server release) with ``_contract_diff.diff_folders``.
``contract check --against OLD`` runs the same comparison for carrier CI. Exit codes follow
``contract check``: 0 match or additive, 1 breaking, 2 when a folder cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from durable_workflow._contract_diff import ADDITIVE, BREAKING, Change, diff_folders, verdict

__all__ = ["DEFAULT_CONTRACTS", "add_diff_arguments", "contract_diff", "render_changes"]

DEFAULT_CONTRACTS = Path("contracts") / "server-2.x"
EXIT_BREAKING = 1
EXIT_UNUSABLE = 2


def add_diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=Path, help="the spec folder this SDK was generated from")
    parser.add_argument("new", type=Path, help="the spec folder of the new server release")
    parser.add_argument("--json", action="store_true", help="print a machine-readable report")


def render_changes(changes: list[Change]) -> str:
    """Plain text, breaking changes first, one change per line."""
    ordered = sorted(changes, key=lambda c: (c.kind != BREAKING, c.where))
    return "\n".join(f"{c.kind.upper():<9} {c.where}: {c.what}" for c in ordered)


def _document(old: Path, new: Path, changes: list[Change]) -> dict[str, Any]:
    return {
        "old": str(old),
        "new": str(new),
        "verdict": verdict(changes),
        "counts": {kind: sum(c.kind == kind for c in changes) for kind in (ADDITIVE, BREAKING)},
        "changes": [{"kind": c.kind, "where": c.where, "what": c.what} for c in changes],
    }


def contract_diff(old: Path, new: Path, *, as_json: bool = False) -> int:
    """Print the classified changes from ``old`` to ``new``; 1 when any is breaking."""
    try:
        changes = diff_folders(old, new)
    except ImportError:
        sys.stderr.write("contract diff reads YAML: pip install 'durable-workflow[cli]'\n")
        return EXIT_UNUSABLE
    except (OSError, ValueError, KeyError, TypeError) as exc:
        sys.stderr.write(f"cannot compare {old} with {new}: {type(exc).__name__}: {exc}\n")
        return EXIT_UNUSABLE
    document = _document(old, new, changes)
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(f"contracts: {old} -> {new}\n")
        if changes:
            sys.stdout.write(render_changes(changes) + "\n")
        counts = document["counts"]
        sys.stdout.write(
            f"{counts[ADDITIVE]} additive, {counts[BREAKING]} breaking: {document['verdict']}\n"
        )
    return EXIT_BREAKING if document["verdict"] == BREAKING else 0
