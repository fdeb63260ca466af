"""Client.from_env / from_profile resolve the connection as the auth composition contract says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from durable_workflow import Client


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in (
        "DURABLE_WORKFLOW_SERVER_URL",
        "DURABLE_WORKFLOW_NAMESPACE",
        "DURABLE_WORKFLOW_AUTH_TOKEN",
        "DURABLE_WORKFLOW_TLS_VERIFY",
        "DW_ENV",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    folder = tmp_path / "durable-workflow"
    folder.mkdir()
    path = folder / "profiles.json"
    path.write_text(
        json.dumps(
            {
                "profiles": {
                    "staging": {
                        "server_url": "https://staging.example.test",
                        "namespace": "orders",
                        "auth": {"type": "token", "token": "from-profile"},
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    return path


async def test_environment_wins_over_default(
    profiles: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DURABLE_WORKFLOW_SERVER_URL", "http://127.0.0.1:9999/")
    monkeypatch.setenv("DURABLE_WORKFLOW_NAMESPACE", "billing")
    monkeypatch.setenv("DURABLE_WORKFLOW_AUTH_TOKEN", "from-env")
    async with Client.from_env() as client:
        assert client.base_url == "http://127.0.0.1:9999"
        assert client.namespace == "billing"
        assert client.token == "from-env"


async def test_profile_then_argument_precedence(profiles: Path) -> None:
    async with Client.from_profile("staging") as client:
        assert client.base_url == "https://staging.example.test"
        assert client.namespace == "orders"
        assert client.token == "from-profile"
    async with Client.from_profile("staging", namespace="payments", token="arg") as client:
        assert client.namespace == "payments"
        assert client.token == "arg"


def test_blocking_client_resolves_the_same_way(profiles: Path) -> None:
    from durable_workflow import sync

    with sync.Client.from_profile("staging", token="arg") as client:
        inner = client._async
        assert inner.base_url == "https://staging.example.test"
        assert inner.namespace == "orders"
        assert inner.token == "arg"
