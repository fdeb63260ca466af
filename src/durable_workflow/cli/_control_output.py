"""Rendering control-plane answers: ``--output json`` (the server's JSON) or a table.

Tables use ``rich`` when it is installed (the ``cli`` extra) and plain aligned
text otherwise, so the CLI works from a bare install too.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

__all__ = ["render"]

# Keys whose value is the list a list/describe answer is about, in priority order.
_LIST_KEYS = (
    "workflows",
    "runs",
    "events",
    "schedules",
    "namespaces",
    "task_queues",
    "workers",
    "build_ids",
    "activities",
    "results",
)
_MAX_COLUMNS = 8


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    return str(value)


def _flatten(item: dict[str, Any]) -> dict[str, Any]:
    """Scalar fields of a row, with one level of nested objects as ``parent.child``."""
    flat: dict[str, Any] = {}
    for name, value in item.items():
        if isinstance(value, dict):
            for child, inner in value.items():
                if not isinstance(inner, (dict, list)):
                    flat[f"{name}.{child}"] = inner
        elif not isinstance(value, list):
            flat[name] = value
    return flat


def _rows(data: Any) -> tuple[list[str], list[list[str]]]:
    """Columns and rows: the main list of a list answer, else the object's own fields."""
    if isinstance(data, dict):
        for key in _LIST_KEYS:
            items = data.get(key)
            if isinstance(items, list) and all(isinstance(i, dict) for i in items):
                flat = [_flatten(item) for item in items]
                columns: list[str] = []
                for item in flat:
                    for name in item:
                        if name not in columns and len(columns) < _MAX_COLUMNS:
                            columns.append(name)
                return columns, [[_cell(item.get(c)) for c in columns] for item in flat]
        return ["field", "value"], [[str(k), _cell(v)] for k, v in data.items()]
    if isinstance(data, list):
        return ["value"], [[_cell(item)] for item in data]
    return ["result"], [[_cell(data) if data is not None else "ok"]]


def _plain(columns: list[str], rows: list[list[str]], out: TextIO) -> None:
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    out.write("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    out.write("\n")
    for row in rows:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


def render(data: Any, output: str, out: TextIO) -> None:
    """Write ``data`` to ``out`` as JSON or as a table."""
    if output == "json":
        out.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
        return
    columns, rows = _rows(data)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        _plain(columns, rows, out)
        return
    table = Table(*columns, show_lines=False)
    for row in rows:
        table.add_row(*row)
    Console(file=out, soft_wrap=True).print(table)
