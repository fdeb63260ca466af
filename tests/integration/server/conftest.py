"""A real dev server on loopback per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
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
