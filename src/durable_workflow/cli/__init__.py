"""The ``durable-workflow`` console script.

``durable-workflow server start-dev`` runs the built-in development server
on a local SQLite file until Ctrl-C; ``contract check`` / ``diff``, ``config show`` and
``carrier run`` serve external execution (carrier CI, connection settings, the
carrier runner).
"""

from __future__ import annotations

import argparse
import sys
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
    from durable_workflow.cli._carrier import add_carrier_commands
    from durable_workflow.cli._config import add_config_commands
    from durable_workflow.cli._contract import add_contract_commands

    add_contract_commands(commands)
    add_config_commands(commands)
    add_carrier_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:2] == ["carrier", "run"]:
        # The runner parses its own flags (argparse REMAINDER would reject leading options).
        from durable_workflow.carriers.runner import main as runner_main

        return runner_main(arguments[2:])
    args = build_parser().parse_args(arguments)
    if args.command == "server" and args.server_command == "start-dev":
        return start_dev(args)
    if args.command == "contract":
        from durable_workflow.cli._contract import contract_command

        return contract_command(args)
    if args.command == "config":
        from durable_workflow.cli._config import config_show

        return config_show(args)
    if args.command == "carrier":
        from durable_workflow.cli._carrier import carrier_run

        return carrier_run(args)
    if getattr(args, "control_command", None) is not None:
        from durable_workflow.cli._control import dispatch

        return dispatch(args)
    return 2
