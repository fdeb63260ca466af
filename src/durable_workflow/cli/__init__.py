"""The ``durable-workflow`` console script.

``durable-workflow server start-dev`` runs the built-in development server
on a local SQLite file until Ctrl-C.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from durable_workflow.cli._server import add_start_dev_arguments, default_db_path, start_dev

__all__ = ["build_parser", "default_db_path", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="durable-workflow", description="Durable Workflow command line tools."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("server", help="run a Durable Workflow server")
    server_commands = server.add_subparsers(dest="server_command", required=True)
    dev = server_commands.add_parser(
        "start-dev", help="start the built-in development server (SQLite)"
    )
    add_start_dev_arguments(dev)
    from durable_workflow.cli._control import add_control_commands

    add_control_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "server" and args.server_command == "start-dev":
        return start_dev(args)
    if getattr(args, "control_command", None) is not None:
        from durable_workflow.cli._control import dispatch

        return dispatch(args)
    return 2
