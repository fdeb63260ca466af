"""`durable-workflow config show`: effective values, the winning source, never a token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from durable_workflow.cli import main

FLAG_TOKEN = "tok-FLAG-7f3a"
ENV_TOKEN = "tok-ENV-91bc"
PROFILE_TOKEN = "tok-PROFILE-c0de"
PROFILE_ENV_TOKEN = "tok-PROFILE-ENV-5e5e"
ALL_TOKENS = (FLAG_TOKEN, ENV_TOKEN, PROFILE_TOKEN, PROFILE_ENV_TOKEN)

PROFILES = {
    "current_profile": "staging",
    "profiles": {
        "staging": {
            "server_url": "https://staging.example:8443",
            "namespace": "staging-ns",
            "tls_verify": False,
            "auth": {"type": "token", "token": PROFILE_TOKEN},
        },
        "prod": {
            "server_url": "https://prod.example",
            "namespace": "prod-ns",
            "auth": {"type": "token", "token_env": "PROD_DW_TOKEN"},
        },
    },
}


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A config dir of our own and none of the caller's DURABLE_WORKFLOW_* settings."""
    for name in (
        "DURABLE_WORKFLOW_SERVER_URL",
        "DURABLE_WORKFLOW_NAMESPACE",
        "DURABLE_WORKFLOW_AUTH_TOKEN",
        "DURABLE_WORKFLOW_TLS_VERIFY",
        "DW_ENV",
        "PROD_DW_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def write_profiles(root: Path, document: dict[str, Any]) -> None:
    directory = root / "durable-workflow"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "profiles.json").write_text(json.dumps(document), encoding="utf-8")


def table(text: str) -> dict[str, tuple[str, str]]:
    """FIELD -> (VALUE, SOURCE) from the printed table."""
    lines = text.strip().splitlines()
    assert lines[0].split() == ["FIELD", "VALUE", "SOURCE"]
    rows = {}
    for line in lines[1:]:
        parts = line.split()
        rows[parts[0]] = (" ".join(parts[1:-1]), parts[-1])
    return rows


CASES: list[tuple[str, list[str], dict[str, str], bool, dict[str, tuple[str, str]]]] = [
    (
        "nothing set: defaults",
        [],
        {},
        False,
        {
            "server_url": ("http://127.0.0.1:8080", "default"),
            "namespace": ("default", "default"),
            "profile": ("-", "default"),
            "auth": ("none", "default"),
            "tls": ("verify=true", "default"),
        },
    ),
    (
        "current profile supplies everything",
        [],
        {},
        True,
        {
            "server_url": ("https://staging.example:8443", "selected_profile"),
            "namespace": ("staging-ns", "selected_profile"),
            "profile": ("staging", "current_profile"),
            "auth": ("token (redacted)", "selected_profile"),
            "tls": ("verify=false", "selected_profile"),
        },
    ),
    (
        "env beats profile, flag beats env",
        ["--server", "http://flag.example:9000", "--token", FLAG_TOKEN],
        {
            "DURABLE_WORKFLOW_SERVER_URL": "http://env.example",
            "DURABLE_WORKFLOW_NAMESPACE": "env-ns",
            "DURABLE_WORKFLOW_AUTH_TOKEN": ENV_TOKEN,
            "DURABLE_WORKFLOW_TLS_VERIFY": "true",
        },
        True,
        {
            "server_url": ("http://flag.example:9000", "flag"),
            "namespace": ("env-ns", "environment"),
            "profile": ("staging", "current_profile"),
            "auth": ("token (redacted)", "flag"),
            "tls": ("verify=true", "environment"),
        },
    ),
    (
        "DW_ENV selects a profile whose token comes from a variable",
        ["--namespace", "flag-ns"],
        {"DW_ENV": "prod", "PROD_DW_TOKEN": PROFILE_ENV_TOKEN},
        True,
        {
            "server_url": ("https://prod.example", "selected_profile"),
            "namespace": ("flag-ns", "flag"),
            "profile": ("prod", "environment"),
            "auth": ("token (redacted; from $PROD_DW_TOKEN)", "profile_env"),
            "tls": ("verify=true", "default"),
        },
    ),
    (
        "env token beats the flag-selected profile's token",
        ["--profile", "staging", "--no-tls-verify"],
        {"DURABLE_WORKFLOW_AUTH_TOKEN": ENV_TOKEN},
        True,
        {
            "server_url": ("https://staging.example:8443", "selected_profile"),
            "namespace": ("staging-ns", "selected_profile"),
            "profile": ("staging", "flag"),
            "auth": ("token (redacted; from $DURABLE_WORKFLOW_AUTH_TOKEN)", "environment"),
            "tls": ("verify=false", "flag"),
        },
    ),
]


@pytest.mark.parametrize(
    ("flags", "env", "with_profiles", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_config_show_table(
    flags: list[str],
    env: dict[str, str],
    with_profiles: bool,
    expected: dict[str, tuple[str, str]],
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if with_profiles:
        write_profiles(isolated, PROFILES)
    assert main(["config", "show", *flags]) == 0
    out, err = capsys.readouterr()
    rows = table(out)
    assert set(rows) == {"server_url", "namespace", "profile", "auth", "tls", "identity"}
    for field, want in expected.items():
        assert rows[field] == want, field
    for token in ALL_TOKENS:
        assert token not in out + err

    assert main(["config", "show", *flags, "--json"]) == 0
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert document["server_url"] == {
        "value": expected["server_url"][0],
        "source": expected["server_url"][1],
    }
    assert document["auth"]["source"] == expected["auth"][1]
    for token in ALL_TOKENS:
        assert token not in out + err


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ([], {"DURABLE_WORKFLOW_TLS_VERIFY": "maybe"}, "DURABLE_WORKFLOW_TLS_VERIFY"),
        (["--profile", "ghost"], {}, "ghost"),
        (["--profile", "prod"], {}, "PROD_DW_TOKEN"),  # its token variable is unset
        (["--server", "ftp://x", "--token", FLAG_TOKEN], {}, "server"),
    ],
)
def test_unusable_settings_exit_2_without_echoing_a_token(
    flags: list[str],
    env: dict[str, str],
    message: str,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_profiles(isolated, PROFILES)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["config", "show", *flags]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("invalid connection settings:") and message in err
    for token in ALL_TOKENS:
        assert token not in err
