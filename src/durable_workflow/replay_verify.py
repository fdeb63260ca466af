"""``durable-workflow-replay-verify``: replay golden histories against workflow code.

The verifier lands with the workflow runtime/replay issue; until then the
command exists (so scripts and packaging can reference it) and says so.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("durable-workflow-replay-verify: not implemented yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
