"""Unit tests of the SDK pin the 0.x server generation unless they test negotiation.

A ``Client`` reads ``/api/cluster/info`` before its first operation (docs/compat.md,
"Server generations"); the fake servers of the request-shape tests describe the 0.x
protocol and do not answer discovery, so those tests force generation 1, which
skips the request. Tests of negotiation and of the 2.x wire take the
``auto_generation`` fixture (or set the variable themselves). The dev server's
own unit tests (``tests/unit/server``) are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from durable_workflow._transport._negotiation import GENERATION_ENV

_SERVER_TESTS = Path(__file__).parent / "server"


@pytest.fixture(autouse=True)
def _generation_one(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if _SERVER_TESTS not in Path(str(request.node.fspath)).parents:
        monkeypatch.setenv(GENERATION_ENV, "1")


@pytest.fixture
def auto_generation(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let the client negotiate its generation (no variable set)."""
    monkeypatch.delenv(GENERATION_ENV, raising=False)
    yield
