"""The data types of the control-plane CLI specs (shared by the spec modules)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Arg", "Command", "Kind", "command_words"]

Kind = Literal["str", "int", "json", "list", "jsonlist", "kv", "flag", "off"]


@dataclass(frozen=True)
class Arg:
    """One CLI argument: its name (``--flag`` or positional), type and request target."""

    name: str
    target: str  # "path:<param>", "query:<name>" or "body:<dotted.field>"
    kind: Kind = "str"
    default: Any = None
    help: str = ""

    @property
    def positional(self) -> bool:
        return not self.name.startswith("-")

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class Command:
    """A CLI command bound to one operation of ``contracts/operations.json``."""

    operation: str
    args: tuple[Arg, ...] = ()
    help: str = ""
    finish: Callable[[dict[str, Any]], None] | None = None


def command_words(operation: str) -> list[str]:
    """``workflow.show_run`` -> ``["workflow", "show-run"]``."""
    return [part.replace("_", "-") for part in operation.split(".")]
