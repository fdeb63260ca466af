"""``durable-workflow contract check`` / ``contract diff``: the contract-compat gates.

``check`` fetches the server's ``/api/cluster/info``, says which server generation it
found, and classifies every entry this SDK depends on as match / additive / breaking
against the contracts of that generation (``_compat.compare_manifest``:
``contracts/manifest.json`` for 0.x servers, ``contracts/server-2.x`` for 2.x ones).
Only a breaking change fails the run, so a server that grows a newer compatible
minor or a new contract does not break carriers' pipelines; a missing entry is
breaking (fail closed). ``check --against OLD`` and ``diff OLD NEW`` judge a bump of the
vendored spec folder instead, offline (``cli/_contract_diff.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from durable_workflow._compat import ADDITIVE, BREAKING, MATCH, ManifestCheck, compare_manifest
from durable_workflow._connection_config import (
    ConnectionConfigError,
    ConnectionFlags,
    resolve_connection,
)
from durable_workflow._transport._negotiation import (
    GENERATION_ENV,
    contracts_of,
    detect_generation,
    forced_generation,
)
from durable_workflow.cli._contract_diff import DEFAULT_CONTRACTS, add_diff_arguments, contract_diff
from durable_workflow.errors import DurableWorkflowError

__all__ = [
    "add_contract_commands",
    "contract_check",
    "contract_command",
    "render_contract_table",
    "report_document",
]

EXIT_BREAKING = 1
EXIT_UNUSABLE = 2


def add_contract_commands(commands: Any) -> None:
    """Register ``contract check`` and ``contract diff`` on the top-level subparsers."""
    contract = commands.add_parser("contract", help="check server contracts against this SDK")
    sub = contract.add_subparsers(dest="contract_command", required=True)
    check = sub.add_parser(
        "check",
        help="compare the server's /api/cluster/info with the manifests this SDK speaks",
        description="Exit 0 when every entry matches or changed additively, 1 on a breaking "
        "change, 2 when the server cannot be reached or the settings are invalid.",
    )
    check.add_argument("--server", default=None, help="server URL (flag > env > profile)")
    check.add_argument("--token", default=None, help="bearer token (never printed)")
    check.add_argument("--namespace", default=None, help="namespace header to send")
    check.add_argument("--profile", default=None, help="connection profile to use")
    check.add_argument("--json", action="store_true", help="print a machine-readable report")
    check.add_argument(
        "--against",
        type=Path,
        default=None,
        metavar="OLD_DIR",
        help="offline: judge the spec folder --contracts against this older copy (no server)",
    )
    check.add_argument(
        "--contracts",
        type=Path,
        default=DEFAULT_CONTRACTS,
        metavar="NEW_DIR",
        help=f"with --against: the new spec folder (default: {DEFAULT_CONTRACTS})",
    )
    diff = sub.add_parser(
        "diff",
        help="classify the change between two copies of a server generation's spec folder",
        description="Exit 0 when the change is additive (or nothing changed), 1 when it is "
        "breaking, 2 when a folder cannot be read.",
    )
    add_diff_arguments(diff)


def contract_command(args: argparse.Namespace) -> int:
    """Run ``contract check`` or ``contract diff``."""
    if args.contract_command == "diff":
        return contract_diff(args.old, args.new, as_json=args.json)
    if args.against is not None:
        return contract_diff(args.against, args.contracts, as_json=args.json)
    return contract_check(args)


def _verdict(rows: list[ManifestCheck]) -> str:
    statuses = {row.status for row in rows}
    if BREAKING in statuses:
        return BREAKING
    return ADDITIVE if ADDITIVE in statuses else MATCH


def report_document(
    server_url: str, rows: list[ManifestCheck], generation: int | None = None, evidence: str = ""
) -> dict[str, Any]:
    """The ``--json`` report: generation, one entry per row, counts and the overall verdict."""
    counts = {
        status: sum(row.status == status for row in rows) for status in (MATCH, ADDITIVE, BREAKING)
    }
    return {
        "server_url": server_url,
        "generation": generation,
        "generation_evidence": evidence,
        "contracts": contracts_of(generation) if generation is not None else None,
        "verdict": _verdict(rows),
        "counts": counts,
        "entries": [
            {"path": row.path, "expected": row.expected, "actual": row.actual, "status": row.status}
            for row in rows
        ],
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def render_contract_table(rows: list[ManifestCheck]) -> str:
    """Plain-text table (no terminal features), so CI logs read the same everywhere."""
    header = ("ENTRY", "EXPECTED", "SERVER", "STATUS")
    table = [header] + [(r.path, _cell(r.expected), _cell(r.actual), r.status) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    lines = [
        f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}".rstrip()
        for a, b, c, d in table
    ]
    return "\n".join(lines)


def _print_rich(rows: list[ManifestCheck]) -> bool:
    """Print with rich when the ``cli`` extra is installed and stdout is a terminal."""
    if not sys.stdout.isatty():
        return False
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        return False
    table = Table("entry", "expected", "server", "status")
    style = {MATCH: "green", ADDITIVE: "yellow", BREAKING: "bold red"}
    for row in rows:
        table.add_row(
            row.path,
            _cell(row.expected),
            _cell(row.actual),
            f"[{style[row.status]}]{row.status}[/]",
        )
    Console().print(table)
    return True


async def _fetch(options: dict[str, Any]) -> dict[str, Any]:
    from durable_workflow.client import Client

    async with Client(**options) as client:
        return await client.get_cluster_info()


def contract_check(args: argparse.Namespace) -> int:
    """Run the check; 0 match/additive, 1 breaking, 2 unusable settings or server."""
    try:
        connection = resolve_connection(
            ConnectionFlags(
                server_url=args.server,
                namespace=args.namespace,
                token=args.token,
                profile=args.profile,
            )
        )
    except ConnectionConfigError as exc:
        sys.stderr.write(f"invalid connection settings: {exc}\n")
        return EXIT_UNUSABLE
    try:
        info = asyncio.run(_fetch(connection.client_options()))
    except (DurableWorkflowError, OSError) as exc:
        from durable_workflow.cli._user_errors import user_error_line

        line = user_error_line(exc, connection.server_url)
        if line == f"error: {exc}":  # not one of the connection mistakes
            line = (
                f"could not read {connection.server_url}/api/cluster/info: "
                f"{type(exc).__name__}: {exc}"
            )
        sys.stderr.write(line + "\n")
        return EXIT_UNUSABLE
    generation, evidence = detect_generation(info)
    forced = forced_generation()
    if forced is not None and forced != generation:
        evidence = f"forced by {GENERATION_ENV}; discovery found {generation}: {evidence}"
        generation = forced
    rows = compare_manifest(info, generation)
    document = report_document(connection.server_url, rows, generation, evidence)
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(f"server: {connection.server_url}\n")
        sys.stdout.write(
            f"server generation: {generation} ({evidence}); judged by {contracts_of(generation)}\n"
        )
        if not _print_rich(rows):
            sys.stdout.write(render_contract_table(rows) + "\n")
        counts = document["counts"]
        sys.stdout.write(
            f"{counts[MATCH]} match, {counts[ADDITIVE]} additive, {counts[BREAKING]} breaking: "
            f"{document['verdict']}\n"
        )
    return EXIT_BREAKING if document["verdict"] == BREAKING else 0
