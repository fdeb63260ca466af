"""Connection resolution: flag > environment > selected profile > default, with sources."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from durable_workflow._connection_config import (
    DEFAULT_NAMESPACE,
    DEFAULT_SERVER_URL,
    ConnectionConfigError,
    ConnectionFlags,
    config_dir,
    load_profiles,
    profiles_path,
    render_config_show,
    resolve_connection,
)

FLAG = {"server_url": "https://flag.example", "namespace": "ns-flag", "tls_verify": False}
ENV = {
    "server_url": ("DURABLE_WORKFLOW_SERVER_URL", "https://env.example"),
    "namespace": ("DURABLE_WORKFLOW_NAMESPACE", "ns-env"),
    "tls_verify": ("DURABLE_WORKFLOW_TLS_VERIFY", "false"),
}
PROFILE = {"server_url": "https://profile.example", "namespace": "ns-profile", "tls_verify": False}
DEFAULT = {"server_url": DEFAULT_SERVER_URL, "namespace": DEFAULT_NAMESPACE, "tls_verify": True}
EXPECTED = {
    "flag": FLAG,
    "environment": {k: v[1] for k, v in ENV.items()},
    "selected_profile": PROFILE,
}
SOURCE_KEY = {"server_url": "server_url", "namespace": "namespace", "tls_verify": "tls"}


def write_profiles(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# Every combination of which layers are present, for every field: the highest wins.
LAYERS = ("flag", "environment", "selected_profile")
COMBOS = [combo for n in range(len(LAYERS) + 1) for combo in itertools.combinations(LAYERS, n)]


@pytest.mark.parametrize("field", ["server_url", "namespace", "tls_verify"])
@pytest.mark.parametrize("present", COMBOS, ids=lambda c: "+".join(c) or "none")
def test_precedence_table(tmp_path: Path, field: str, present: tuple[str, ...]) -> None:
    flags = ConnectionFlags(**{field: FLAG[field]}) if "flag" in present else ConnectionFlags()
    environ = {ENV[field][0]: ENV[field][1]} if "environment" in present else {}
    profile = {field: PROFILE[field]} if "selected_profile" in present else {}
    path = write_profiles(tmp_path, {"current_profile": "p", "profiles": {"p": profile}})
    config = resolve_connection(flags, environ=environ, profiles=path)
    winner = next((layer for layer in LAYERS if layer in present), "default")
    expected = DEFAULT[field] if winner == "default" else EXPECTED[winner][field]
    if field == "tls_verify" and isinstance(expected, str):
        expected = expected == "true"
    assert getattr(config, field) == expected
    assert config.sources[SOURCE_KEY[field]] == winner


@pytest.mark.parametrize(
    ("flag", "env", "expected_source", "expected_value"),
    [
        ("flag-token", "env-token", "flag", "flag-token"),
        (None, "env-token", "environment", "env-token"),
        (None, None, "profile_env", "profile-env-token"),
    ],
)
def test_token_precedence(
    tmp_path: Path, flag: str | None, env: str | None, expected_source: str, expected_value: str
) -> None:
    environ = {"PROD_TOKEN": "profile-env-token"}
    if env:
        environ["DURABLE_WORKFLOW_AUTH_TOKEN"] = env
    path = write_profiles(
        tmp_path,
        {"current_profile": "prod", "profiles": {"prod": {"auth": {"token_env": "PROD_TOKEN"}}}},
    )
    config = resolve_connection(ConnectionFlags(token=flag), environ=environ, profiles=path)
    assert config.token == expected_value
    assert config.sources["auth"] == expected_source
    assert config.client_options()["token"] == expected_value


def test_no_token_anywhere_is_auth_none(tmp_path: Path) -> None:
    config = resolve_connection(environ={}, profiles=tmp_path / "absent.json")
    assert config.token is None and config.auth_type == "none"
    assert config.sources == {
        "server_url": "default",
        "namespace": "default",
        "profile": "default",
        "auth": "default",
        "tls": "default",
        "identity": "carrier",
    }


@pytest.mark.parametrize(
    ("flag", "dw_env", "current", "default", "expected", "source"),
    [
        ("a", "b", "c", "d", "a", "flag"),
        (None, "b", "c", "d", "b", "environment"),
        (None, None, "c", "d", "c", "current_profile"),
        (None, None, None, "d", "d", "default_profile"),
        (None, None, None, None, None, "default"),
    ],
)
def test_profile_selection_precedence(
    tmp_path: Path,
    flag: str | None,
    dw_env: str | None,
    current: str | None,
    default: str | None,
    expected: str | None,
    source: str,
) -> None:
    profiles = {name: {"namespace": f"ns-{name}"} for name in "abcd"}
    data: dict[str, Any] = {"profiles": profiles}
    if current:
        data["current_profile"] = current
    if default:
        data["default_profile"] = default
    path = write_profiles(tmp_path, data)
    environ = {"DW_ENV": dw_env} if dw_env else {}
    config = resolve_connection(ConnectionFlags(profile=flag), environ=environ, profiles=path)
    assert (config.profile, config.sources["profile"]) == (expected, source)
    assert config.namespace == (f"ns-{expected}" if expected else DEFAULT_NAMESPACE)


def test_config_show_never_prints_a_token(tmp_path: Path) -> None:
    secret = "s3cr3t-bearer-value"
    path = write_profiles(
        tmp_path, {"current_profile": "p", "profiles": {"p": {"auth": {"token": "stored-secret"}}}}
    )
    for flags, environ, leaked in (
        (ConnectionFlags(token=secret), {}, secret),
        (ConnectionFlags(), {"DURABLE_WORKFLOW_AUTH_TOKEN": secret}, secret),
        (ConnectionFlags(), {}, "stored-secret"),
    ):
        config = resolve_connection(flags, environ=environ, profiles=path)
        shown = render_config_show(config)
        assert leaked not in shown
        assert "redacted" in shown
        assert leaked not in json.dumps(config.diagnostics())
        assert leaked not in repr(config)
        for name in ("server_url", "namespace", "profile", "auth", "tls", "identity"):
            assert name in shown
    env_config = resolve_connection(
        environ={"DURABLE_WORKFLOW_AUTH_TOKEN": secret}, profiles=tmp_path / "none.json"
    )
    assert "DURABLE_WORKFLOW_AUTH_TOKEN" in render_config_show(env_config)


def test_config_show_lists_each_field_with_its_source(tmp_path: Path) -> None:
    config = resolve_connection(
        ConnectionFlags(namespace="billing"),
        environ={"DURABLE_WORKFLOW_SERVER_URL": "https://dw.example/"},
        profiles=tmp_path / "none.json",
    )
    rows = {line.split()[0]: line.split()[-1] for line in render_config_show(config).splitlines()}
    assert rows["server_url"] == "environment"
    assert rows["namespace"] == "flag"
    assert rows["tls"] == "default"
    assert config.server_url == "https://dw.example"  # normalized, no hidden path


@pytest.mark.parametrize(
    ("environ", "profile", "match"),
    [
        ({"DURABLE_WORKFLOW_SERVER_URL": "dw.example"}, {}, "absolute http"),
        ({"DURABLE_WORKFLOW_SERVER_URL": "https://u:p@dw.example"}, {}, "credentials"),
        ({"DURABLE_WORKFLOW_TLS_VERIFY": "maybe"}, {}, "DURABLE_WORKFLOW_TLS_VERIFY"),
        ({"DW_ENV": "ghost"}, {}, "'ghost'"),
        ({}, {"auth": {"token_env": "UNSET_TOKEN"}}, "UNSET_TOKEN"),
        ({}, {"auth": {"type": "mtls"}}, "reserved"),
    ],
)
def test_unusable_values_fail_closed(
    tmp_path: Path, environ: dict[str, str], profile: dict[str, Any], match: str
) -> None:
    path = write_profiles(tmp_path, {"current_profile": "p", "profiles": {"p": profile}})
    with pytest.raises(ConnectionConfigError, match=match):
        resolve_connection(environ=environ, profiles=path)


def test_profiles_live_in_the_user_config_dir(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert config_dir(environ) == tmp_path / "durable-workflow"
    assert profiles_path(environ) == tmp_path / "durable-workflow" / "profiles.json"
    assert config_dir({"HOME": str(tmp_path)}) == tmp_path / ".config" / "durable-workflow"
    profiles_path(environ).parent.mkdir(parents=True)
    profiles_path(environ).write_text(
        json.dumps({"current_profile": "x", "profiles": {"x": {"namespace": "from-file"}}}),
        encoding="utf-8",
    )
    assert resolve_connection(environ=environ).namespace == "from-file"
    assert load_profiles(profiles_path(environ)).current_profile == "x"
