"""Run an SDK integration test against both server generations, the 2.x one spec-checked.

``generation`` (1 or 2) parametrizes a test; ``gen_server`` is the dev server of that
profile (``start-dev --generation N``) and ``spec`` the checker every ``Client`` of the
test is attached to: on generation 2 each request the SDK sends and each response it
reads is validated against the vendored OpenAPI documents (``_spec_validation``, the
validator the dev server uses too), and the test fails on any mismatch. Requests get
no tolerance; responses only the server's documented deviations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from durable_workflow.client import Client
from durable_workflow.testing import DevServerHandle, async_dev_server

GENERATIONS = (1, 2)
#: Response mismatches seen by any test of this session (the dev server's to fix).
RESPONSE_MISMATCHES: set[str] = set()


class SpecCheck:
    """Attach to clients; after the test, :meth:`verify` fails on any spec mismatch (gen 2)."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.recorder: Any = None
        if generation == 2:
            from durable_workflow._spec_validation import SpecRecorder
            from durable_workflow.server.http.gen2.deviations import TOLERATED_RESPONSE_FIELDS

            self.recorder = SpecRecorder(TOLERATED_RESPONSE_FIELDS)
        self.requests = 0

    def attach(self, client: Client) -> Client:
        if self.recorder is not None:
            hooks = client._http.event_hooks
            hooks["request"] = [*hooks.get("request", []), self._request]
            hooks["response"] = [*hooks.get("response", []), self.recorder.async_response_hook]
        return client

    async def _request(self, request: Any) -> None:
        self.requests += 1
        await self.recorder.async_request_hook(request)

    def verify(self) -> None:
        if self.recorder is None:
            return
        assert self.requests > 0 and self.recorder.checked > 0, "nothing was spec-checked"
        requests = [m for m in self.recorder.mismatches if m.startswith("request ")]
        responses = [m for m in self.recorder.mismatches if not m.startswith("request ")]
        for mismatch in responses:
            print(f"dev server response off the 2.x spec: {mismatch[:600]}")
        RESPONSE_MISMATCHES.update(m[:300] for m in responses)
        assert requests == [], "\n".join(requests)


@pytest.fixture(params=GENERATIONS, ids=[f"gen{g}" for g in GENERATIONS])
def generation(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def spec(generation: int) -> Iterator[SpecCheck]:
    check = SpecCheck(generation)
    yield check
    check.verify()


@pytest.fixture
async def gen_server(generation: int) -> AsyncIterator[DevServerHandle]:
    async with async_dev_server(poll_timeout=2.0, generation=generation) as handle:  # type: ignore[arg-type]
        yield handle
