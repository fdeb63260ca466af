"""Engine fixtures: a real SQLite file and a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine import Engine
from durable_workflow.server.store import Store


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 4, 25, 7, 0, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


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
