"""What a Worker tells the server about itself, and the process signals it listens to.

Pure helpers kept out of ``_worker`` so the worker reads as its protocol steps:
the capabilities it registers, the per-workflow command contracts a 2.x server
routes validated updates by, and the SIGINT/SIGTERM handlers of ``Worker.run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Mapping

__all__ = [
    "command_contracts",
    "has_update_validators",
    "install_signal_handlers",
    "registered_capabilities",
    "remove_signal_handlers",
]


def has_update_validators(workflows: Mapping[str, type]) -> bool:
    """Whether any registered workflow declares an update validator."""
    return any(getattr(cls, "__workflow_update_validators__", None) for cls in workflows.values())


def command_contracts(workflows: Mapping[str, type]) -> dict[str, dict[str, list[str]]]:
    """Per workflow type: its message names and which updates have validators (2.x)."""
    return {
        name: {
            "signals": sorted(getattr(cls, "__workflow_signals__", {}) or {}),
            "queries": sorted(getattr(cls, "__workflow_queries__", {}) or {}),
            "updates": sorted(getattr(cls, "__workflow_updates__", {}) or {}),
            "update_validators": sorted(getattr(cls, "__workflow_update_validators__", {}) or {}),
        }
        for name, cls in workflows.items()
    }


def registered_capabilities(query_tasks: bool, validation_tasks: bool) -> list[str] | None:
    """The worker capabilities to register (``None``: none, the field is omitted)."""
    capabilities = ["query_tasks"] if query_tasks else []
    if validation_tasks:
        capabilities.append("update_validation_tasks")
    return capabilities or None


def install_signal_handlers(on_signal: Callable[[signal.Signals], None]) -> list[signal.Signals]:
    """Route SIGINT/SIGTERM to ``on_signal`` unless someone else owns them (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return []
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        current = signal.getsignal(signum)
        # asyncio.run() (3.11+) turns SIGINT into cancellation; a graceful stop is kinder.
        runner_cls = getattr(asyncio, "Runner", None)
        # Runner installs functools.partial(runner._on_sigint, main_task=...).
        owner = getattr(getattr(current, "func", current), "__self__", None)
        runner = runner_cls is not None and isinstance(owner, runner_cls)
        if current not in (signal.default_int_handler, signal.SIG_DFL) and not runner:
            continue  # someone else (a test runner, the app) owns this signal
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        installed.append(signum)
    return installed


def remove_signal_handlers(installed: list[signal.Signals]) -> None:
    """Undo :func:`install_signal_handlers`."""
    if not installed:
        return
    loop = asyncio.get_running_loop()
    for signum in installed:
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signum)
