"""Connection resolution per the auth composition contract (contracts.md §2.2).

Each of the six effective-config fields is resolved independently as
flag > environment > selected profile > default, and remembers which source
won, because operators debugging "why am I talking to that server?" need the
winner, not just the value. Secrets never leave this module unredacted:
diagnostics show ``redacted`` or the *name* of a reference, never a token.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from durable_workflow.auth_composition import (
    AUTH_COMPOSITION_REQUIRED_EFFECTIVE_CONFIG_FIELDS,
    CANONICAL_ENVIRONMENT,
)

__all__ = [
    "DEFAULT_NAMESPACE",
    "DEFAULT_SERVER_URL",
    "EFFECTIVE_CONFIG_FIELDS",
    "ConnectionConfigError",
    "ConnectionFlags",
    "EffectiveConfig",
    "Profile",
    "ProfilesFile",
    "config_dir",
    "load_profiles",
    "profiles_path",
    "redact_secrets",
    "render_config_show",
    "resolve_connection",
]

EFFECTIVE_CONFIG_FIELDS: tuple[str, ...] = AUTH_COMPOSITION_REQUIRED_EFFECTIVE_CONFIG_FIELDS
ENV_SERVER_URL = CANONICAL_ENVIRONMENT["server_url"]
ENV_NAMESPACE = CANONICAL_ENVIRONMENT["namespace"]
ENV_AUTH_TOKEN = CANONICAL_ENVIRONMENT["auth_token"]
ENV_TLS_VERIFY = CANONICAL_ENVIRONMENT["tls_verify"]
ENV_PROFILE = CANONICAL_ENVIRONMENT["profile"]

# The dev server's default address (`durable-workflow server start-dev`).
DEFAULT_SERVER_URL = "http://127.0.0.1:8080"
DEFAULT_NAMESPACE = "default"
PROFILES_FILE = "profiles.json"
CONFIG_DIR_NAME = "durable-workflow"
REDACTED = "redacted"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class ConnectionConfigError(ValueError):
    """A flag, variable or profile value is unusable; fails closed and names the origin."""


@dataclass(frozen=True)
class ConnectionFlags:
    """Values given on the command line (or as explicit arguments) for this invocation."""

    server_url: str | None = None
    namespace: str | None = None
    token: str | None = field(default=None, repr=False)
    tls_verify: bool | None = None
    profile: str | None = None


@dataclass(frozen=True)
class Profile:
    """One persisted profile; a token is best stored as ``token_env`` (a reference)."""

    name: str
    server_url: str | None = None
    namespace: str | None = None
    token: str | None = field(default=None, repr=False)
    token_env: str | None = None
    tls_verify: bool | None = None


@dataclass(frozen=True)
class ProfilesFile:
    """The profiles file: profiles by name plus the current and default selections."""

    path: Path | None
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    current_profile: str | None = None
    default_profile: str | None = None


@dataclass(frozen=True)
class EffectiveConfig:
    """The resolved connection; ``sources`` names the winner of each of the six fields."""

    server_url: str
    namespace: str
    profile: str | None
    token: str | None = field(repr=False)
    auth_reference: str | None
    tls_verify: bool
    identity_subject: str | None
    identity_roles: tuple[str, ...]
    sources: Mapping[str, str]

    @property
    def auth_type(self) -> str:
        return "token" if self.token is not None else "none"

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``Client(**options)`` (``base_url`` first positional)."""
        return {"base_url": self.server_url, "namespace": self.namespace, "token": self.token}

    def diagnostics(self) -> dict[str, dict[str, Any]]:
        """The effective-config document: every field with its source; secrets redacted."""
        auth: dict[str, Any] = {"type": self.auth_type, "source": self.sources["auth"]}
        if self.token is not None:
            auth["value"] = self.auth_reference or REDACTED
        return {
            "server_url": {"value": self.server_url, "source": self.sources["server_url"]},
            "namespace": {"value": self.namespace, "source": self.sources["namespace"]},
            "profile": {"name": self.profile, "source": self.sources["profile"]},
            "auth": auth,
            "tls": {"verify": self.tls_verify, "source": self.sources["tls"]},
            "identity": {
                "subject": self.identity_subject,
                "roles": list(self.identity_roles),
                "source": self.sources["identity"],
            },
        }


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The user's config directory for this tool (XDG on Unix, APPDATA on Windows)."""
    env = os.environ if environ is None else environ
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / CONFIG_DIR_NAME
    base = env.get("XDG_CONFIG_HOME")
    root = Path(base) if base else Path(env.get("HOME") or Path.home()) / ".config"
    return root / CONFIG_DIR_NAME


def profiles_path(environ: Mapping[str, str] | None = None) -> Path:
    return config_dir(environ) / PROFILES_FILE


def _opt_str(data: Mapping[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise ConnectionConfigError(f"{where}.{key} must be a non-empty string")
    return value


def load_profiles(path: Path) -> ProfilesFile:
    """Read a profiles file; a missing file is an empty one, a malformed one an error."""
    if not path.exists():
        return ProfilesFile(path=path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConnectionConfigError(f"profiles file {path} is unreadable: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ConnectionConfigError(f"profiles file {path} must hold a JSON object")
    raw_profiles = data.get("profiles", {})
    if not isinstance(raw_profiles, Mapping):
        raise ConnectionConfigError(f"{path}: profiles must be an object of name -> profile")
    profiles: dict[str, Profile] = {}
    for name, entry in raw_profiles.items():
        where = f"{path}: profiles.{name}"
        if not isinstance(entry, Mapping):
            raise ConnectionConfigError(f"{where} must be an object")
        auth = entry.get("auth") or {}
        if not isinstance(auth, Mapping):
            raise ConnectionConfigError(f"{where}.auth must be an object")
        auth_type = auth.get("type", "token" if auth else "none")
        if auth_type in ("mtls", "signed_headers"):
            raise ConnectionConfigError(
                f"{where}.auth.type {auth_type!r} is reserved by the auth composition contract "
                "and not usable yet; use token auth"
            )
        if auth_type not in ("token", "none"):
            raise ConnectionConfigError(f"{where}.auth.type {auth_type!r} is not supported")
        tls = entry.get("tls_verify")
        if tls is not None and not isinstance(tls, bool):
            raise ConnectionConfigError(f"{where}.tls_verify must be a boolean")
        profiles[str(name)] = Profile(
            name=str(name),
            server_url=_opt_str(entry, "server_url", where),
            namespace=_opt_str(entry, "namespace", where),
            token=_opt_str(auth, "token", where + ".auth"),
            token_env=_opt_str(auth, "token_env", where + ".auth"),
            tls_verify=tls,
        )
    return ProfilesFile(
        path=path,
        profiles=profiles,
        current_profile=_opt_str(data, "current_profile", str(path)),
        default_profile=_opt_str(data, "default_profile", str(path)),
    )


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value if value else None  # an exported-but-empty variable is unset


def _normalize_url(value: str, origin: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectionConfigError(
            f"server_url from {origin} must be an absolute http(s) URL, got {value!r}"
        )
    if parts.username or parts.password:
        raise ConnectionConfigError(f"server_url from {origin} must not carry credentials")
    return value.strip().rstrip("/")


def _parse_bool(value: str, origin: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConnectionConfigError(f"{origin} must be a boolean (true/false), got {value!r}")


def _select_profile(
    flags: ConnectionFlags, environ: Mapping[str, str], stored: ProfilesFile
) -> tuple[Profile | None, str | None, str]:
    """Profile selection: flag > DW_ENV > current profile > default profile."""
    for name, source in (
        (flags.profile, "flag"),
        (_env(environ, ENV_PROFILE), "environment"),
        (stored.current_profile, "current_profile"),
        (stored.default_profile, "default_profile"),
    ):
        if name is None:
            continue
        profile = stored.profiles.get(name)
        if profile is None:
            where = stored.path if stored.path is not None else "the profiles file"
            raise ConnectionConfigError(
                f"profile {name!r} (selected by {source}) is not defined in {where}"
            )
        return profile, name, source
    return None, None, "default"


def resolve_connection(
    flags: ConnectionFlags | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    profiles: ProfilesFile | Path | None = None,
) -> EffectiveConfig:
    """Resolve the six fields: flag > environment > selected profile > default.

    ``profiles`` is a loaded file, a path to one, or None for the user's
    config dir. Raises ``ConnectionConfigError`` (never echoing a secret).
    """
    flags = flags or ConnectionFlags()
    env = os.environ if environ is None else environ
    if not isinstance(profiles, ProfilesFile):
        profiles = load_profiles(profiles if profiles is not None else profiles_path(env))
    profile, profile_name, profile_source = _select_profile(flags, env, profiles)
    sources: dict[str, str] = {"profile": profile_source, "identity": "carrier"}

    def pick(flag: Any, env_name: str, stored: Any, default: Any) -> tuple[Any, str]:
        env_value = _env(env, env_name)
        if flag is not None:
            return flag, "flag"
        if env_value is not None:
            return env_value, "environment"
        if stored is not None:
            return stored, "selected_profile"
        return default, "default"

    raw_url, sources["server_url"] = pick(
        flags.server_url,
        ENV_SERVER_URL,
        profile.server_url if profile else None,
        DEFAULT_SERVER_URL,
    )
    server_url = _normalize_url(str(raw_url), _origin(sources["server_url"], ENV_SERVER_URL))
    namespace, sources["namespace"] = pick(
        flags.namespace,
        ENV_NAMESPACE,
        profile.namespace if profile else None,
        DEFAULT_NAMESPACE,
    )
    if not str(namespace).strip():
        raise ConnectionConfigError("namespace must be a non-empty namespace name")

    tls_raw, sources["tls"] = pick(
        flags.tls_verify,
        ENV_TLS_VERIFY,
        profile.tls_verify if profile else None,
        True,
    )
    tls_verify = _parse_bool(tls_raw, ENV_TLS_VERIFY) if isinstance(tls_raw, str) else bool(tls_raw)

    token, reference, sources["auth"] = _resolve_token(flags, env, profile)
    return EffectiveConfig(
        server_url=server_url,
        namespace=str(namespace),
        profile=profile_name,
        token=token,
        auth_reference=reference,
        tls_verify=tls_verify,
        identity_subject=None,
        identity_roles=(),
        sources=sources,
    )


def _origin(source: str, env_name: str) -> str:
    return f"environment variable {env_name}" if source == "environment" else source


def _resolve_token(
    flags: ConnectionFlags, environ: Mapping[str, str], profile: Profile | None
) -> tuple[str | None, str | None, str]:
    """(token, reference name shown in diagnostics, source)."""
    if flags.token is not None:
        return flags.token, None, "flag"
    env_token = _env(environ, ENV_AUTH_TOKEN)
    if env_token is not None:
        return env_token, ENV_AUTH_TOKEN, "environment"
    if profile is not None and profile.token_env is not None:
        value = _env(environ, profile.token_env)
        if value is None:
            raise ConnectionConfigError(
                f"profile {profile.name!r} takes its token from ${profile.token_env}, "
                "which is not set"
            )
        return value, profile.token_env, "profile_env"
    if profile is not None and profile.token is not None:
        return profile.token, None, "selected_profile"
    return None, None, "default"


def render_config_show(config: EffectiveConfig) -> str:
    """The ``config show`` table: field, effective value, winning source (secrets redacted)."""
    diag = config.diagnostics()
    auth = diag["auth"]
    if auth["type"] == "none":
        auth_text = "none"
    elif config.auth_reference:
        auth_text = f"token ({REDACTED}; from ${config.auth_reference})"
    else:
        auth_text = f"token ({REDACTED})"
    identity = diag["identity"]
    rows = [
        ("server_url", config.server_url, diag["server_url"]["source"]),
        ("namespace", config.namespace, diag["namespace"]["source"]),
        ("profile", config.profile or "-", diag["profile"]["source"]),
        ("auth", auth_text, auth["source"]),
        ("tls", f"verify={'true' if config.tls_verify else 'false'}", diag["tls"]["source"]),
        (
            "identity",
            f"subject={identity['subject'] or '-'} roles={','.join(identity['roles']) or '-'}",
            identity["source"],
        ),
    ]
    header = ("FIELD", "VALUE", "SOURCE")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(2)]
    lines = [
        f"{name:<{widths[0]}}  {value:<{widths[1]}}  {source}"
        for name, value, source in [header, *rows]
    ]
    text = "\n".join(lines) + "\n"
    return redact_secrets(text, [config.token])


def redact_secrets(text: str, secrets: list[str | None]) -> str:
    """Replace every occurrence of a secret value with ``redacted`` (belt and braces)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def client_arguments(
    *,
    server_url: str | None = None,
    namespace: str | None = None,
    token: str | None = None,
    tls_verify: bool | None = None,
    profile: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """``(base_url, keyword arguments)`` for a ``Client`` resolved flag > env > profile > default.

    Shared by the async and blocking clients' ``from_env``/``from_profile``;
    TLS verification off becomes an httpx transport with ``verify=False``
    unless the caller passed its own ``transport``.
    """
    flags = ConnectionFlags(
        server_url=server_url,
        namespace=namespace,
        token=token,
        tls_verify=tls_verify,
        profile=profile,
    )
    config = resolve_connection(flags)
    kwargs: dict[str, Any] = dict(options or {})
    if not config.tls_verify and "transport" not in kwargs:
        kwargs["transport"] = httpx.AsyncHTTPTransport(verify=False)
    kwargs["namespace"] = config.namespace
    kwargs["token"] = config.token
    return config.server_url, kwargs
