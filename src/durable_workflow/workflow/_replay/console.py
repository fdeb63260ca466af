"""Terminal output for the verify CLIs: a progress bar and a summary table on stderr.

Reports go to stdout or ``--output`` as JSON for machines; what a person
watching the run needs (progress over many files, a table at the end) goes
to stderr so it never corrupts the JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

__all__ = ["Progress", "render_table"]


class Progress:
    """``[#####.....] 5/10 name`` redrawn in place on a terminal, one line per item otherwise.

    Shown only for at least ``minimum`` items: a bar for one file is noise.
    """

    def __init__(self, total: int, stream: TextIO, *, enabled: bool = True, minimum: int = 2):
        self.total = total
        self.stream = stream
        self.done = 0
        self.enabled = enabled and total >= minimum
        self._tty = bool(getattr(stream, "isatty", lambda: False)())

    def advance(self, label: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        width = 30
        filled = width * self.done // max(self.total, 1)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {label}"
        if self._tty:
            self.stream.write("\r\x1b[2K" + line)
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with aligned columns (no terminal codes, safe in CI logs)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(value.ljust(widths[i]) for i, value in enumerate(row)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])]) + "\n"
