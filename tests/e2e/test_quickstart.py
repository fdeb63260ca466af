"""The README's promises, checked the way a new user meets them."""

from __future__ import annotations

from .conftest import DevServerProcess, run_python


def test_greeter_example_starts_its_own_dev_server_and_prints_hello_world() -> None:
    result = run_python("examples/greeter.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "hello, world"


def test_greeter_example_against_a_start_dev_server_with_a_token(
    dev_server_process: DevServerProcess,
) -> None:
    env = {
        "DURABLE_WORKFLOW_SERVER_URL": dev_server_process.url,
        "DURABLE_WORKFLOW_AUTH_TOKEN": "e2e-token",
    }
    result = run_python("examples/greeter.py", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "hello, world"


def test_greeter_example_with_a_wrong_token_fails_with_a_clear_error(
    dev_server_process: DevServerProcess,
) -> None:
    env = {
        "DURABLE_WORKFLOW_SERVER_URL": dev_server_process.url,
        "DURABLE_WORKFLOW_AUTH_TOKEN": "not-the-token",
    }
    result = run_python("examples/greeter.py", env=env)
    assert result.returncode != 0
    assert "Unauthorized" in result.stderr
