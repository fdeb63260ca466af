"""A real dev server on loopback per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gen2_helpers import Api2
from server_http_helpers import Api

from durable_workflow.testing import DevServerHandle, dev_server


@pytest.fixture
def server() -> Iterator[DevServerHandle]:
    with dev_server(poll_timeout=1.0) as handle:
        yield handle


@pytest.fixture
def api(server: DevServerHandle) -> Iterator[Api]:
    client = Api(server)
    yield client
    client.close()


@pytest.fixture
def server2() -> Iterator[DevServerHandle]:
    """A generation-2 (2.x profile) dev server."""
    with dev_server(poll_timeout=1.0, generation=2) as handle:
        yield handle


@pytest.fixture
def api2(server2: DevServerHandle) -> Iterator[Api2]:
    """Its client; the test fails when any response it saw mismatches the vendored specs."""
    client = Api2(server2)
    yield client
    client.close()
    assert client.spec.checked > 0
    assert client.spec.mismatches == []
