"""``durable-workflow config show``: the effective connection and who supplied each field.

Resolution is the auth-composition contract's (flag > environment > selected
profile > default, ``_connection_config.resolve_connection``); this module only
parses flags and prints. A token is never printed, only ``redacted`` and the
name of the variable it came from.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from durable_workflow._connection_config import (
    ConnectionConfigError,
    ConnectionFlags,
    redact_secrets,
    render_config_show,
    resolve_connection,
)

__all__ = ["add_config_commands", "config_show"]


def add_config_commands(commands: Any) -> None:
    """Register ``config show`` on the top-level subparsers."""
    config = commands.add_parser("config", help="inspect connection settings")
    sub = config.add_subparsers(dest="config_command", required=True)
    show = sub.add_parser(
        "show",
        help="print the effective connection config with the source of each field",
        description="Exit 2 when a flag, variable or profile value is unusable.",
    )
    show.add_argument("--server", default=None, help="server URL")
    show.add_argument("--namespace", default=None, help="namespace")
    show.add_argument("--token", default=None, help="bearer token (shown only as redacted)")
    show.add_argument("--profile", default=None, help="profile to select")
    show.add_argument(
        "--tls-verify", action=argparse.BooleanOptionalAction, default=None, help="verify TLS"
    )
    show.add_argument("--json", action="store_true", help="print the effective-config document")


def config_show(args: argparse.Namespace) -> int:
    """Print the resolved config (table or ``--json``); 2 on a configuration error."""
    flags = ConnectionFlags(
        server_url=args.server,
        namespace=args.namespace,
        token=args.token,
        tls_verify=args.tls_verify,
        profile=args.profile,
    )
    try:
        config = resolve_connection(flags)
    except ConnectionConfigError as exc:
        # The resolver never puts a secret in its messages; redact the flag anyway.
        sys.stderr.write(f"invalid connection settings: {redact_secrets(str(exc), [args.token])}\n")
        return 2
    if args.json:
        text = json.dumps(config.diagnostics(), indent=2) + "\n"
        sys.stdout.write(redact_secrets(text, [config.token]))
    else:
        sys.stdout.write(render_config_show(config))
    return 0
