"""The README's promises, checked the way a new user meets them."""

from __future__ import annotations

from pathlib import Path

from .conftest import REPO, DevServerProcess, run_python


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


def test_greeter_example_runs_twice_against_one_server(
    dev_server_process: DevServerProcess,
) -> None:
    env = {
        "DURABLE_WORKFLOW_SERVER_URL": dev_server_process.url,
        "DURABLE_WORKFLOW_AUTH_TOKEN": "e2e-token",
    }
    for _ in range(2):  # a fresh workflow id each run: no WorkflowAlreadyStarted
        result = run_python("examples/greeter.py", env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "hello, world"


def readme_quickstart() -> str:
    """The Python block of the README's Quickstart section, as a reader copies it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_quickstart_runs_twice_against_start_dev(tmp_path: Path) -> None:
    server = DevServerProcess(tmp_path / "dev.sqlite", token="dev-token")
    try:
        code = readme_quickstart()
        assert 'Client("http://127.0.0.1:8080", token="dev-token"' in code
        script = tmp_path / "quickstart.py"
        script.write_text(code.replace("http://127.0.0.1:8080", server.url), encoding="utf-8")
        for _ in range(2):
            result = run_python(str(script))
            assert result.returncode == 0, result.stderr
            assert result.stdout.strip().splitlines()[-1] == "hello, world"
    finally:
        server.stop()
