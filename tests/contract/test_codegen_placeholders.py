"""``$manifest`` placeholders: resolved from manifest.json, unknown paths refused."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

GENERATE = Path(__file__).resolve().parents[2] / "codegen" / "generate.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dw_codegen_generate", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("dw_codegen_generate", module)
    spec.loader.exec_module(module)
    return module


MANIFEST = {"worker_protocol": {"thing": {"schema": "x.contract", "version": 3}}, "flag": True}


def test_placeholders_become_consts_in_place() -> None:
    gen = _generator()
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
    gen = _generator()
    with pytest.raises(gen.ContractError, match=r"t\.json"):
        gen.resolve_manifest_placeholders({"$manifest": path}, MANIFEST, "t.json")


def test_committed_schemas_resolve() -> None:
    schemas = _generator().load_schemas()
    version = schemas["external_execution"]["$defs"]["InvocableCarrierContract"]["properties"][
        "version"
    ]
    assert version == {"const": 1}
