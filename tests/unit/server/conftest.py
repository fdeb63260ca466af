"""Engine fixtures: a real SQLite file and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from server_engine_helpers import FakeClock

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.engine import Engine
from durable_workflow.server.store.database import Store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dev.sqlite"


@pytest.fixture
def engine(db_path: Path, clock: FakeClock) -> Iterator[Engine]:
    store = Store(db_path)
    yield Engine(store, ServerConfig(db_path=db_path), clock=clock)
    store.close()
