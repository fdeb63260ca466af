"""``durable-workflow <group> <command>``: the control plane from a shell.

Every operation of ``contracts/operations.json`` is one command (see
``_control_specs``); arguments are turned into the exact request the upstream
CLI sends and go through ``Client.send_operation``, so headers, auth, retries
and error mapping are the client's. Connection settings resolve as
flag > environment > profile > default (``_connection_config``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from durable_workflow import errors
from durable_workflow._connection_config import (
    ConnectionConfigError,
    ConnectionFlags,
    EffectiveConfig,
    resolve_connection,
)
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow.cli._control_extras import EXTRA_COMMANDS, ExtraCommand
from durable_workflow.cli._control_output import render
from durable_workflow.cli._control_specs import COMMANDS, Arg, Command, command_words
from durable_workflow.cli._user_errors import user_error_line
from durable_workflow.client import Client
from durable_workflow.client._findings import (
    failure_message,
    unregistered_type_warning,
    workflow_findings,
)

__all__ = ["add_control_commands", "build_control_parser", "dispatch", "run_control"]


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None


def _connection_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument("--server", default=None, help="server URL (default: env/profile)")
    group.add_argument("--token", default=None, help="bearer token")
    group.add_argument("--namespace", default=None, help="namespace (default: env/profile)")
    group.add_argument("--profile", default=None, help="connection profile name")
    group.add_argument("--output", choices=("json", "table"), default=None, help="output format")
    group.add_argument("--json", action="store_true", help="same as --output json")
    return common


def _add_arg(parser: argparse.ArgumentParser, arg: Arg) -> None:
    kwargs: dict[str, Any] = {"help": arg.help or None}
    if arg.kind == "int":
        kwargs["type"] = int
    elif arg.kind == "json":
        kwargs["type"] = _json_value
    elif arg.kind in ("list", "kv"):
        kwargs["action"] = "append"
    elif arg.kind == "jsonlist":
        kwargs.update(action="append", type=_json_value)
    elif arg.kind == "flag":
        kwargs.update(action="store_const", const=True, default=None)
    elif arg.kind == "off":
        kwargs.update(action="store_const", const=False, default=None)
    if arg.positional:
        parser.add_argument(arg.dest, metavar=arg.name, **kwargs)
    else:
        parser.add_argument(arg.name, dest=arg.dest, **kwargs)


def _group(groups: dict[tuple[str, ...], Any], words: tuple[str, ...]) -> Any:
    """The subparsers object for a command path, creating intermediate groups."""
    for depth in range(1, len(words) + 1):
        key = words[:depth]
        if key not in groups:
            parent = groups[key[:-1]]
            group = parent.add_parser(key[-1], help=f"{' '.join(key)} commands")
            groups[key] = group.add_subparsers(dest="_".join(key) + "_command", required=True)
    return groups[words]


def add_control_commands(subparsers: Any) -> None:
    """Register every control-plane group on a ``add_subparsers()`` object."""
    common = _connection_options()
    groups: dict[tuple[str, ...], Any] = {(): subparsers}
    for operation, command in COMMANDS.items():
        words = tuple(command_words(operation))
        leaf = _group(groups, words[:-1]).add_parser(
            words[-1], parents=[common], help=command.help, description=command.help
        )
        for arg in command.args:
            _add_arg(leaf, arg)
        leaf.set_defaults(control_command=command)
    for extra in EXTRA_COMMANDS:
        leaf = _group(groups, extra.words[:-1]).add_parser(
            extra.words[-1], parents=[common], help=extra.help, description=extra.help
        )
        for arg in extra.args:
            _add_arg(leaf, arg)
        leaf.set_defaults(control_command=extra)


def build_control_parser() -> argparse.ArgumentParser:
    """A parser with only the control-plane groups (the console script adds ``server``)."""
    parser = argparse.ArgumentParser(prog="durable-workflow")
    add_control_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def _set(body: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = body
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _key_values(items: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise errors.InvalidArgument(f"expected KEY=VALUE, got {item!r}")
        pairs[key] = value
    return pairs


def build_request(
    command: Command, args: argparse.Namespace
) -> tuple[dict[str, str], dict[str, Any], Any]:
    """Path parameters, query and body of ``command`` from parsed arguments."""
    path: dict[str, str] = {}
    query: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for arg in command.args:
        value = getattr(args, arg.dest)
        if value is None:
            value = arg.default
        if value is None:
            continue
        if arg.kind == "kv":
            value = _key_values(value)
        where, _, name = arg.target.partition(":")
        if where == "path":
            path[name] = str(value)
        elif where == "query":
            query[name] = int(value) if isinstance(value, bool) else value
        else:
            _set(body, name, value)
    if command.finish is not None:
        command.finish(body)
    method = OPERATIONS[command.operation].method
    return path, query, body if method in ("POST", "PUT") else None


def _connection(args: argparse.Namespace) -> EffectiveConfig:
    return resolve_connection(
        ConnectionFlags(
            server_url=args.server, namespace=args.namespace, token=args.token, profile=args.profile
        )
    )


async def _send(
    args: argparse.Namespace, command: Command | ExtraCommand, config: EffectiveConfig
) -> Any:
    async with Client(**config.client_options()) as client:
        if isinstance(command, ExtraCommand):
            values = {a.target[3:]: getattr(args, a.dest) for a in command.args}
            return await command.run(client, {k: v for k, v in values.items() if v is not None})
        path, query, body = build_request(command, args)
        result = await client.send_operation(
            command.operation, path_params=path, query=query or None, body=body
        )
        for line in await _diagnosis(client, command.operation, body, result):
            print(line, file=sys.stderr)
        return result


async def _diagnosis(client: Client, operation: str, body: Any, result: Any) -> list[str]:
    """Lines for stderr beyond the answer: a type no worker has, why a run is stuck or failed."""
    if not isinstance(result, dict):
        return []
    if operation == "workflow.start" and isinstance(body, dict):
        warning = await unregistered_type_warning(
            client, str(body.get("workflow_type")), str(body.get("task_queue") or "default")
        )
        return [f"warning: {warning}"] if warning else []
    if operation != "workflow.describe":
        return []
    workflow_id = str(result.get("workflow_id"))
    if result.get("is_terminal") is False:
        return [f"warning: {line}" for line in await workflow_findings(client, workflow_id)]
    if result.get("status") == "failed" and isinstance(result.get("run_id"), str):
        failure = await failure_message(client, workflow_id, str(result["run_id"]))
        return [f"note: the run failed with {failure}"] if failure else []
    return []


def dispatch(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run a parsed control-plane command; the process exit code."""
    out = out or sys.stdout
    command: Command | ExtraCommand = args.control_command
    output = "json" if args.json else (args.output or "table")
    url: str | None = None
    try:
        config = _connection(args)
        url = config.server_url
        result = asyncio.run(_send(args, command, config))
    except (
        errors.DurableWorkflowError,
        errors.WorkflowCancelled,
        ConnectionConfigError,
        TimeoutError,
    ) as exc:
        print(user_error_line(exc, url), file=sys.stderr)
        if output == "json":
            detail: dict[str, Any] = {"error": type(exc).__name__, "message": str(exc)}
            body = getattr(exc, "body", None)
            if body is not None:
                detail["body"] = body
            print(json.dumps(detail, indent=2), file=sys.stderr)
        return 1
    render(result, output, out)
    return 0


def run_control(argv: Sequence[str], out: TextIO | None = None) -> int:
    """Parse and run one control-plane command line (without the program name)."""
    args = build_control_parser().parse_args(list(argv))
    return dispatch(args, out)
