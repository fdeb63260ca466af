"""Run upstream 0.4.53's own unit tests against upstream, then the ones that passed against ours.

``python run_upstream.py OUR_PYTHON UPSTREAM_PYTHON [pytest args for our run]``: UPSTREAM_PYTHON
is a venv with upstream's package and the same pytest plugins; OUR_PYTHON imports this project.
Both runs use the sdist's own pytest configuration from its unpacked root, so node ids match.
Fails on any test that passes against upstream but not against ours, unless it is excluded
(exclusions.txt, mirrored in docs/compat.md). The last line is "N of M upstream tests pass".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from exclusions import COMPAT_DOC, EXCLUSIONS, load_exclusions, undocumented
from sdist import fetch_sdist

HERE = Path(__file__).resolve().parent
# ours is this checkout's source tree, never whatever copy the interpreter has installed
OUR_SRC = HERE.parents[1] / "src"
# pytest exit codes that still mean "the run happened": ok, tests failed, nothing selected
_RAN = {0, 1, 5}
_TEST_TIMEOUT_S = "60"


def _pytest(python: str, root: Path, record: Path, extra: list[str], pythonpath: str) -> None:
    """One pytest run over the sdist's tests/, recording passes into ``record``."""
    # Only the plugins upstream's suite needs: whatever else the environment installed
    # (pytest-randomly, this project's own plugin, ...) stays out of both runs.
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    command = [
        python, "-m", "pytest", "-c", str(root / "pyproject.toml"), "--rootdir", str(root),
        "-p", "pytest_asyncio.plugin", "-p", "pytest_timeout",
        "-p", "outcomes", "--upstream-record", str(record), "-p", "no:cacheprovider",
        "--continue-on-collection-errors", "--timeout", _TEST_TIMEOUT_S, *extra, "tests",
    ]  # fmt: skip
    started = time.monotonic()
    code = subprocess.call(command, cwd=root, env=env)
    print(f"[upstream_tests] {Path(python).parent.parent.name}: pytest exit {code}, "
          f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
    if code not in _RAN:
        raise SystemExit(f"pytest did not run to the end (exit code {code})")


def _read(record: Path, must_be_under: Path | None, must_not_be_under: list[Path]) -> set[str]:
    """Passed node ids, after checking which durable_workflow the run imported."""
    data = json.loads(record.read_text())
    imported = data["durable_workflow"]
    if imported is None:
        raise SystemExit(f"{record.name}: durable_workflow was never imported")
    path = Path(imported).resolve()
    wrong = (must_be_under is not None and not path.is_relative_to(must_be_under)) or any(
        path.is_relative_to(other) for other in must_not_be_under
    )
    if wrong:
        raise SystemExit(f"{record.name}: the run imported the wrong package: {path}")
    return set(data["passed"])


def main(our_python: str, upstream_python: str, our_args: list[str]) -> int:
    exclusions = load_exclusions()
    missing_docs = undocumented(exclusions)
    if missing_docs:
        print(f"excluded in {EXCLUSIONS.name} but not named in {COMPAT_DOC}:", *missing_docs,
              sep="\n  ", file=sys.stderr)  # fmt: skip
        return 1
    upstream_env = Path(upstream_python).absolute().parent.parent.resolve()
    with tempfile.TemporaryDirectory(prefix="dw-upstream-tests-") as tmp_name:
        tmp = Path(tmp_name).resolve()
        root = fetch_sdist(upstream_python, tmp)
        # upstream's run sees only upstream's package: no PYTHONPATH of ours leaks in
        _pytest(upstream_python, root, tmp / "upstream.json", ["-q", "--tb=no"], str(HERE))
        expected = _read(tmp / "upstream.json", upstream_env, [])
        if not expected:
            print("no upstream test passed against upstream itself", file=sys.stderr)
            return 1
        (tmp / "select.json").write_text(json.dumps(sorted(expected)))
        ours_path = os.pathsep.join([str(HERE), str(OUR_SRC)])
        args = ["--upstream-select", str(tmp / "select.json"), *(our_args or ["-q", "--tb=line"])]
        _pytest(our_python, root, tmp / "ours.json", args, ours_path)
        passed = _read(tmp / "ours.json", OUR_SRC, [upstream_env, tmp]) & expected

    failing = sorted(expected - passed - exclusions.keys())
    stale = sorted(passed & exclusions.keys())
    unknown = sorted(exclusions.keys() - expected)
    for title, nodes in (
        ("pass against upstream but not against ours", failing),
        ("excluded but passing (remove from exclusions.txt and docs/compat.md)", stale),
        ("excluded but not among the tests that pass against upstream", unknown),
    ):
        if nodes:
            print(f"\n{len(nodes)} {title}:", *nodes, sep="\n  ")
    print(f"{len(exclusions)} excluded ({EXCLUSIONS.name})")
    print(f"{len(passed)} of {len(expected)} upstream tests pass")
    return 1 if failing or stale or unknown else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
