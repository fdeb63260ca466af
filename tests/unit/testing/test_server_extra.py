"""Without the ``server`` extra, the dev server's entry points name the install command."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from durable_workflow import cli
from durable_workflow.server import extra
from durable_workflow.testing import dev_server


@pytest.fixture
def no_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "uvicorn" else real(name, *args)

    monkeypatch.setattr(extra.importlib.util, "find_spec", find_spec)


def test_dev_server_names_the_extra_to_install(no_uvicorn: None) -> None:
    with pytest.raises(extra.ServerExtraMissing) as raised, dev_server():
        pass
    assert str(raised.value) == (
        "durable_workflow.testing.dev_server() needs the 'server' extra (uvicorn not "
        "installed): pip install 'durable-workflow[server]'"
    )
    assert isinstance(raised.value, ModuleNotFoundError) and raised.value.name == "uvicorn"


def test_start_dev_names_the_extra_and_exits_2(
    no_uvicorn: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["server", "start-dev", "--port", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "The dev server needs the 'server' extra: pip install 'durable-workflow[server]' "
        "(uvicorn not installed)\n"
    )


def test_with_the_extra_nothing_is_missing() -> None:
    assert extra.missing_server_modules() == []
    extra.require_server_extra("anything")
