"""``$manifest`` placeholders: resolved from manifest.json, unknown paths refused."""

from __future__ import annotations

import pytest
from _codegen import generator

MANIFEST = {"worker_protocol": {"thing": {"schema": "x.contract", "version": 3}}, "flag": True}


def test_placeholders_become_consts_in_place() -> None:
    gen = generator()
    schema = {
        "properties": {
            "schema": {"$manifest": "worker_protocol.thing.schema", "description": "id"},
            "version": {"$manifest": "worker_protocol.thing.version"},
            "items": [{"$manifest": "worker_protocol.thing.version"}],
        }
    }
    resolved = gen.resolve_manifest_placeholders(schema, MANIFEST, "t.json")
    assert resolved["properties"]["schema"] == {"const": "x.contract", "description": "id"}
    assert list(resolved["properties"]["schema"]) == ["const", "description"]
    assert resolved["properties"]["version"] == {"const": 3}
    assert resolved["properties"]["items"] == [{"const": 3}]


@pytest.mark.parametrize("path", ["worker_protocol.missing.schema", "flag", "worker_protocol"])
def test_unresolvable_placeholders_are_contract_errors(path: str) -> None:
    gen = generator()
    with pytest.raises(gen.ContractError, match=r"t\.json"):
        gen.resolve_manifest_placeholders({"$manifest": path}, MANIFEST, "t.json")


def test_committed_schemas_resolve() -> None:
    schemas = generator().load_schemas()
    version = schemas["external_execution"]["$defs"]["InvocableCarrierContract"]["properties"][
        "version"
    ]
    assert version == {"const": 1}
