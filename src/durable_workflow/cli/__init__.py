"""The ``durable-workflow`` console script.

``durable-workflow server start-dev`` runs the built-in development server
on a local SQLite file until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["build_parser", "default_db_path", "main"]


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/durable-workflow/dev.sqlite`` (``~/.local/share`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "durable-workflow" / "dev.sqlite"


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
    dev.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    dev.add_argument("--db", type=Path, default=None, help="SQLite file (default: user data dir)")
    dev.add_argument("--token", default=None, help="require this bearer token (full access)")
    dev.add_argument(
        "--durability",
        choices=("normal", "full"),
        default="normal",
        help="SQLite synchronous mode: normal survives process kills, full also power loss",
    )
    dev.add_argument(
        "--poll-timeout", type=float, default=30.0, help="long-poll timeout in seconds"
    )
    from durable_workflow.cli._control import add_control_commands

    add_control_commands(commands)
    return parser


def _start_dev(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401  (only to give a clear message when it is missing)
    except ImportError:
        print(
            "The dev server needs the 'server' extra: pip install 'durable-workflow[server]'",
            file=sys.stderr,
        )
        return 2
    from durable_workflow.server.config import ServerConfig
    from durable_workflow.server.runner import build_server

    db_path: Path = args.db or default_db_path()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    config = ServerConfig(
        db_path=db_path,
        token=args.token,
        durability=args.durability,
        poll_timeout=args.poll_timeout,
    )
    server = build_server(config, host=args.host, port=args.port)
    url = f"http://{args.host}:{args.port}"
    print(f"Durable Workflow dev server: {url}  (database: {db_path})", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    # uvicorn re-raises the captured Ctrl-C after it has shut down cleanly.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    print("Dev server stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "server" and args.server_command == "start-dev":
        return _start_dev(args)
    if getattr(args, "control_command", None) is not None:
        from durable_workflow.cli._control import dispatch

        return dispatch(args)
    return 2
