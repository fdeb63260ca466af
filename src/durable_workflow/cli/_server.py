"""``durable-workflow server start-dev``: arguments and the run loop of the dev server.

It prints the URL, the web UI's URL, the database path and which tokens are set (never
their values), logs one JSON line per request with its request id at ``--log-level info``
(or lower), and stops cleanly on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import sys
from pathlib import Path

__all__ = ["add_start_dev_arguments", "default_db_path", "start_dev"]

LOG_LEVELS = ("debug", "info", "warning", "error")


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/durable-workflow/dev.sqlite`` (``~/.local/share`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "durable-workflow" / "dev.sqlite"


def add_start_dev_arguments(dev: argparse.ArgumentParser) -> None:
    dev.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    dev.add_argument("--db", type=Path, default=None, help="SQLite file (default: user data dir)")
    dev.add_argument("--token", default=None, help="legacy bearer token (full access)")
    dev.add_argument("--worker-token", default=None, help="bearer token of the worker role")
    dev.add_argument("--operator-token", default=None, help="bearer token of the operator role")
    dev.add_argument("--admin-token", default=None, help="bearer token of the admin role")
    dev.add_argument(
        "--viewer-token",
        default=None,
        help="read-only token of the web UI (needs one of the tokens above)",
    )
    dev.add_argument(
        "--durability",
        choices=("normal", "full"),
        default="normal",
        help="SQLite synchronous mode: normal survives process kills, full also power loss",
    )
    dev.add_argument(
        "--poll-timeout", type=float, default=30.0, help="long-poll timeout in seconds"
    )
    dev.add_argument(
        "--lease-seconds",
        type=int,
        default=300,
        help="workflow and activity task lease; an expired lease is re-dispatched (default 300)",
    )
    dev.add_argument(
        "--generation",
        type=int,
        choices=(1, 2),
        default=1,
        help="server generation to speak: 1 = the 0.x line (upstream SDK 0.4.x), "
        "2 = the 2.x line (worker protocol 1.20, Avro Value payloads) (default 1)",
    )
    dev.add_argument(
        "--check-responses",
        action="store_true",
        help="generation 2: log every response that does not match the vendored specs "
        "(SPEC MISMATCH warnings)",
    )
    dev.add_argument(
        "--long-poll-capacity",
        type=int,
        default=None,
        help="generation 2: long polls held per wait pool before a typed 429 (default: no limit)",
    )
    dev.add_argument(
        "--cors-origin",
        action="append",
        default=None,
        help="browser origin allowed by CORS (repeatable; default: no CORS headers)",
    )
    dev.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="warning",
        help="info logs one JSON line per request (default warning)",
    )


def _token_lines(args: argparse.Namespace) -> list[str]:
    tokens = [
        ("token (full access)", args.token),
        ("worker token", args.worker_token),
        ("operator token", args.operator_token),
        ("admin token", args.admin_token),
        ("viewer token (web UI, read-only)", getattr(args, "viewer_token", None)),
    ]
    # Tokens are secrets: say which are set, never print them (the caller knows them).
    lines = [f"  {label}: set" for label, value in tokens if value]
    return lines or ["  auth: none (no token required)"]


def port_error(host: str, port: int, exc: OSError) -> str:
    """One line for a port the server cannot listen on, with what to do."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"error: cannot listen on {host}:{port}: the address is already in use (another "
            f"dev server?); stop that process or pick another port: --port {port + 1}"
        )
    return f"error: cannot listen on {host}:{port}: {exc.strerror or exc}"


def start_dev(args: argparse.Namespace) -> int:
    from durable_workflow.server.extra import INSTALL_HINT, missing_server_modules

    missing = missing_server_modules()
    if missing:
        print(
            f"The dev server needs the 'server' extra: {INSTALL_HINT} "
            f"({', '.join(missing)} not installed)",
            file=sys.stderr,
        )
        return 2
    from durable_workflow.server.config import ServerConfig
    from durable_workflow.server.http.request_log import RequestIdFilter
    from durable_workflow.server.runner import bind_socket, build_server
    from durable_workflow.server.store.owner_lock import DatabaseInUse

    level = getattr(args, "log_level", "warning").upper()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdFilter())
    viewer_token = getattr(args, "viewer_token", None)
    tokens = (args.token, args.worker_token, args.operator_token, args.admin_token)
    if viewer_token and not any(tokens):
        print(
            "--viewer-token needs --token or a role token (else there is no auth)", file=sys.stderr
        )
        return 2
    db_path: Path = args.db or default_db_path()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    config = ServerConfig(
        db_path=db_path,
        token=args.token,
        worker_token=args.worker_token,
        operator_token=args.operator_token,
        admin_token=args.admin_token,
        viewer_token=viewer_token,
        durability=args.durability,
        cors_origins=tuple(getattr(args, "cors_origin", None) or ()),
        poll_timeout=args.poll_timeout,
        workflow_lease_seconds=getattr(args, "lease_seconds", 300),
        activity_lease_seconds=getattr(args, "lease_seconds", 300),
        generation=getattr(args, "generation", 1),
        check_responses=getattr(args, "check_responses", False),
        long_poll_capacity=getattr(args, "long_poll_capacity", None),
    )
    try:
        # Bound before the banner: a busy port is reported, not announced as running.
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        print(port_error(args.host, args.port, exc), file=sys.stderr)
        return 2
    try:
        server = build_server(config, host=args.host, port=args.port)
    except DatabaseInUse as exc:
        sock.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    url = f"http://{args.host}:{args.port}"
    print(f"Durable Workflow dev server: {url}  (database: {db_path})", flush=True)
    if config.generation == 2:
        print("  generation 2: worker protocol 1.20, Avro Value payloads", flush=True)
    print(f"  web UI: {url}/ui/", flush=True)
    for line in _token_lines(args):
        print(line, flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    # uvicorn re-raises the captured Ctrl-C after it has shut down cleanly.
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    print("Dev server stopped.", flush=True)
    return 0
