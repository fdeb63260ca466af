"""The contract tests replay the 0.x line's fixtures: clients here speak generation 1.

A ``Client`` reads ``/api/cluster/info`` before its first operation (README, "Which
server?"); the recording servers of these tests answer one canned 0.x body to any
request, so the generation is pinned (``DURABLE_WORKFLOW_SERVER_GENERATION=1``, which
skips discovery) and each test still sees exactly the requests its fixture describes.
"""

from __future__ import annotations

import pytest

from durable_workflow._transport._negotiation import GENERATION_ENV


@pytest.fixture(autouse=True)
def _generation_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GENERATION_ENV, "1")
