"""Run every ``benchmarks/bench_*.py`` module's ``main()`` in name order.

``python -m benchmarks [NAME ...]`` runs only the modules whose name contains
one of the given words.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    wanted = list(sys.argv[1:] if argv is None else argv)
    modules = sorted(path.stem for path in Path(__file__).parent.glob("bench_*.py"))
    selected = [m for m in modules if not wanted or any(w in m for w in wanted)]
    if not selected:
        print(f"no benchmark matches {wanted}; available: {', '.join(modules)}")
        return 2
    for name in selected:
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").main()
        print(f"   ({time.perf_counter() - started:.1f}s)\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
