"""The auth composition contract (contracts.md §2): parse what the server publishes.

Carriers resolve server URL, namespace, credentials, TLS and profile the same
way everywhere; this parser refuses a manifest whose rules this SDK cannot
honour (fail closed), so a carrier never silently applies different rules
than the server documents. Resolution itself lives in ``_connection_config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from durable_workflow._generated import manifest as _manifest
from durable_workflow.external_task_input import root_fields

__all__ = [
    "AUTH_COMPOSITION_CONTRACT_SCHEMA",
    "AUTH_COMPOSITION_CONTRACT_VERSION",
    "AUTH_COMPOSITION_REQUIRED_EFFECTIVE_CONFIG_FIELDS",
    "AuthCompositionContract",
    "AuthCompositionContractError",
    "parse_auth_composition_contract",
]

AUTH_COMPOSITION_CONTRACT_SCHEMA: str = _manifest.AUTH_COMPOSITION_CONTRACT_SCHEMA
AUTH_COMPOSITION_CONTRACT_VERSION: int = _manifest.AUTH_COMPOSITION_CONTRACT_VERSION

_PUBLISHED: Mapping[str, Any] = _manifest.AUTH_COMPOSITION_CONTRACT
AUTH_COMPOSITION_REQUIRED_EFFECTIVE_CONFIG_FIELDS: tuple[str, ...] = tuple(
    _PUBLISHED["effective_config"]["required_fields"]
)
CANONICAL_ENVIRONMENT: Mapping[str, str] = dict(_PUBLISHED["canonical_environment"])
REQUIRED_NEVER_ECHO: tuple[str, ...] = (
    "bearer_tokens",
    "private_keys",
    "raw_authorization_headers",
)


class AuthCompositionContractError(ValueError):
    """The auth composition manifest is not one this SDK can honour."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class AuthCompositionContract:
    """The parts of the manifest a carrier acts on (upstream 0.4.53 shape)."""

    schema: str
    version: int
    connection_precedence: tuple[str, ...]
    profile_precedence: tuple[str, ...]
    canonical_environment: Mapping[str, str]
    auth_material: Mapping[str, Mapping[str, Any]]
    effective_config_required_fields: tuple[str, ...]
    redaction_never_echo: tuple[str, ...]

    @property
    def supports_token_auth(self) -> bool:
        return self.auth_material.get("token", {}).get("status") == "supported"

    @property
    def reserves_mtls(self) -> bool:
        return self.auth_material.get("mtls", {}).get("status") == "reserved"

    @property
    def reserves_signed_headers(self) -> bool:
        return self.auth_material.get("signed_headers", {}).get("status") == "reserved"


def parse_auth_composition_contract(manifest: Mapping[str, Any]) -> AuthCompositionContract:
    """Validate the ``auth_composition_contract`` manifest (rules of contracts.md §2.3)."""
    what = "auth composition contract"
    root = root_fields(manifest, what, AuthCompositionContractError)
    root.const("schema", AUTH_COMPOSITION_CONTRACT_SCHEMA)
    root.const("version", AUTH_COMPOSITION_CONTRACT_VERSION)
    precedence = root.obj("precedence")
    environment = root.obj("canonical_environment")
    material = root.obj("auth_material")
    effective = root.obj("effective_config")
    redaction = root.obj("redaction")

    for key, value in environment.data.items():
        if not isinstance(value, str):
            environment.fail(str(key), "must be a string")
    for key, variable in CANONICAL_ENVIRONMENT.items():
        if environment.data.get(key) != variable:
            environment.fail(key, f"must be {variable!r}")

    for key in material.data:
        material.obj(str(key))
    token = material.obj("token")
    token.const("status", "supported")
    if token.data.get("effective_config_value") != "redacted":  # upstream's words first
        token.fail(
            "effective_config_value",
            "must be 'redacted' (the contract must support redacted token auth), "
            f"got {token.data.get('effective_config_value')!r}",
        )
    material.obj("mtls").const("status", "reserved")
    material.obj("signed_headers").const("status", "reserved")

    required = effective.string_list("required_fields")
    for name in AUTH_COMPOSITION_REQUIRED_EFFECTIVE_CONFIG_FIELDS:
        if name not in required:
            effective.fail("required_fields", f"must contain {name!r}")
    never_echo = redaction.string_list("never_echo")
    for name in REQUIRED_NEVER_ECHO:
        if name not in never_echo:
            redaction.fail("never_echo", f"must contain {name!r}")
    connection = precedence.string_list("connection_values")
    profile = precedence.string_list("profile_selection")

    return AuthCompositionContract(
        schema=AUTH_COMPOSITION_CONTRACT_SCHEMA,
        version=AUTH_COMPOSITION_CONTRACT_VERSION,
        connection_precedence=tuple(connection),
        profile_precedence=tuple(profile),
        canonical_environment=dict(environment.data),
        auth_material={str(k): dict(v) for k, v in material.data.items()},
        effective_config_required_fields=tuple(required),
        redaction_never_echo=tuple(never_echo),
    )
