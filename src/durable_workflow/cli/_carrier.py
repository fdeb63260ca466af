"""``durable-workflow carrier run``: the external-executor carrier runner.

All behaviour lives in ``durable_workflow.carriers.runner``; this module only
hands the remaining arguments over, so ``carrier run --help`` is the runner's
own help and both entry points stay identical.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_carrier_commands", "carrier_run"]


def add_carrier_commands(commands: Any) -> None:
    """Register ``carrier run``; its arguments are parsed by the runner itself."""
    carrier = commands.add_parser("carrier", help="run external activity carriers")
    sub = carrier.add_subparsers(dest="carrier_command", required=True)
    run = sub.add_parser(
        "run",
        help="lease activity tasks and deliver them to invocable HTTP endpoints",
        add_help=False,
    )
    run.add_argument("carrier_args", nargs=argparse.REMAINDER)


def carrier_run(args: argparse.Namespace) -> int:
    """Delegate to ``carriers.runner.main`` with the untouched argument list."""
    from durable_workflow.carriers.runner import main as runner_main

    return runner_main(list(args.carrier_args))
