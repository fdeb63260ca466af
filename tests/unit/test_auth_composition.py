"""parse_auth_composition_contract: the published manifest parses; each rule of §2.3 bites."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from durable_workflow._generated.manifest import AUTH_COMPOSITION_CONTRACT
from durable_workflow.auth_composition import (
    AUTH_COMPOSITION_REQUIRED_EFFECTIVE_CONFIG_FIELDS,
    AuthCompositionContractError,
    parse_auth_composition_contract,
)


def manifest() -> dict[str, Any]:
    return copy.deepcopy(dict(AUTH_COMPOSITION_CONTRACT))


def test_published_manifest_parses() -> None:
    contract = parse_auth_composition_contract(manifest())
    assert contract.supports_token_auth and contract.reserves_mtls
    assert contract.reserves_signed_headers
    assert contract.connection_precedence == ("flag", "environment", "selected_profile", "default")
    assert contract.canonical_environment["profile"] == "DW_ENV"
    assert set(AUTH_COMPOSITION_REQUIRED_EFFECTIVE_CONFIG_FIELDS) <= set(
        contract.effective_config_required_fields
    )


def test_additive_fields_are_ignored() -> None:
    data = manifest()
    data["new_optional_block"] = {"x": 1}
    data["canonical_environment"]["region"] = "DURABLE_WORKFLOW_REGION"
    assert parse_auth_composition_contract(data).version == 1


def _drop(path: str) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        for key in parents:
            data = data[key]
        del data[leaf]

    return mutate


def _set(path: str, value: Any) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        for key in parents:
            data = data[key]
        data[leaf] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (_set("version", 2), "version"),
        (_set("schema", "other.contract"), "schema"),
        (_drop("redaction"), "redaction"),
        (_set("precedence", []), "precedence"),
        (_set("canonical_environment.namespace", "NS"), "canonical_environment.namespace"),
        (_set("canonical_environment.extra", 5), "canonical_environment.extra"),
        (_set("auth_material.token.status", "reserved"), "auth_material.token.status"),
        (
            _set("auth_material.token.effective_config_value", "plain"),
            "auth_material.token.effective_config_value",
        ),
        (_set("auth_material.mtls.status", "supported"), "auth_material.mtls.status"),
        (_set("auth_material.extensions", "x"), "auth_material.extensions"),
        (
            _set("effective_config.required_fields", ["server_url"]),
            "effective_config.required_fields",
        ),
        (_set("redaction.never_echo", ["private_keys"]), "redaction.never_echo"),
        (_set("precedence.profile_selection", "DW_ENV"), "precedence.profile_selection"),
    ],
)
def test_violations_name_the_field(mutate: Any, field: str) -> None:
    data = manifest()
    mutate(data)
    with pytest.raises(AuthCompositionContractError) as err:
        parse_auth_composition_contract(data)
    assert err.value.field == field
    assert f"'{field}'" in str(err.value)


def test_non_object_is_refused() -> None:
    with pytest.raises(AuthCompositionContractError, match="JSON object"):
        parse_auth_composition_contract([])  # type: ignore[arg-type]
