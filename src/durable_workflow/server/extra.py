"""Whether the ``server`` extra is installed, and the message that says how to get it.

The dev server (``start-dev``, ``testing.dev_server()``) needs packages the base
install does not bring; without them a user should read the install command, not a
``ModuleNotFoundError`` from deep inside an import.
"""

from __future__ import annotations

import importlib.util

__all__ = ["INSTALL_HINT", "ServerExtraMissing", "missing_server_modules", "require_server_extra"]

INSTALL_HINT = "pip install 'durable-workflow[server]'"
# The modules the dev server imports at start-up (the extra's other packages are optional).
_MODULES = ("uvicorn", "starlette", "jinja2", "croniter")


class ServerExtraMissing(ModuleNotFoundError):
    """The dev server was asked for, but the ``server`` extra is not installed."""


def missing_server_modules() -> list[str]:
    """The dev server's modules that cannot be imported here."""
    return [name for name in _MODULES if importlib.util.find_spec(name) is None]


def require_server_extra(what: str) -> None:
    """Raise :class:`ServerExtraMissing` naming ``what`` needed it and the install command."""
    missing = missing_server_modules()
    if missing:
        raise ServerExtraMissing(
            f"{what} needs the 'server' extra ({', '.join(missing)} not installed): {INSTALL_HINT}",
            name=missing[0],
        )
