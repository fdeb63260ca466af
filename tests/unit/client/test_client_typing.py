"""Type-level tests: ``mypy --strict`` over tests/typing/ (typed examples and rejected misuse).

``client_types.py`` pins return types with ``assert_type``; ``client_misuse.py``
holds calls that must not type-check, each behind a ``type: ignore`` that
``--warn-unused-ignores`` turns into a failure if the call ever becomes valid.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.timeout(300)
def test_typed_examples_and_misuse_pass_mypy_strict() -> None:
    # The source tree is put on the search path so the check does not depend on
    # the installed distribution shipping a py.typed marker.
    env_path = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = str(ROOT / "src")
    try:
        stdout, stderr, status = api.run(
            [
                "--strict",
                "--warn-unused-ignores",
                "--no-incremental",
                "--config-file",
                str(ROOT / "pyproject.toml"),
                str(ROOT / "tests" / "typing"),
            ]
        )
    finally:
        if env_path is None:
            os.environ.pop("MYPYPATH", None)
        else:
            os.environ["MYPYPATH"] = env_path
    assert status == 0, stdout + stderr
