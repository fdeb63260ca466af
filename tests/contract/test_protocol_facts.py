"""Per-operation rules and default limits live in contracts/ only.

Each operation states every flag, the generated specs carry them, and no module
of the SDK or the dev server keeps its own list of operation names or its own
copy of a default limit (the way they did before the facts moved into the contract).
"""

from __future__ import annotations

import ast
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _codegen import generator

from durable_workflow._generated import manifest
from durable_workflow._generated.operations import OPERATIONS, OperationSpec

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "durable_workflow"
OPS: list[dict[str, Any]] = json.loads((REPO / "contracts" / "operations.json").read_text())[
    "operations"
]
FLAGS = ("idempotent", "versioned", "namespaced", "ascii_only", "self_validating")
# Names the facts had while they lived in code; none may come back.
RETIRED_NAMES = (
    "IDEMPOTENT_OPERATIONS",
    "VERSION_FREE_OPERATIONS",
    "_NAMESPACE_FREE",
    "ASCII_ONLY_OPERATIONS",
    "_OWN_VALIDATION",
)
# Limit values distinctive enough that a literal copy of one is a re-declaration.
DISTINCT_LIMITS = {manifest.MAX_PAYLOAD_BYTES, manifest.MAX_MEMO_BYTES}


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    # Generated code (the _generated/ package, sync/_generated.py copied from the async
    # client's signatures) restates facts; what it is generated from is checked.
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if "_generated" not in relative.parts and relative.stem != "_generated":
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_generator_and_spec_know_the_same_flags() -> None:
    assert generator().OPERATION_FLAGS == FLAGS
    bool_fields = {f.name for f in dataclasses.fields(OperationSpec) if f.type == "bool"}
    assert bool_fields == set(FLAGS)


@pytest.mark.parametrize("op", OPS, ids=[op["name"] for op in OPS])
def test_every_operation_states_every_flag(op: dict[str, Any]) -> None:
    spec = OPERATIONS[op["name"]]
    for flag in FLAGS:
        assert isinstance(op.get(flag), bool), f"{op['name']} lacks {flag}"
        assert getattr(spec, flag) is op[flag]


@pytest.mark.parametrize("flag", FLAGS)
def test_generator_refuses_an_operation_without_a_flag(flag: str) -> None:
    gen = generator()
    op = dict(next(o for o in OPS if o["name"] == "workflow.start"))
    gen.check_operation_flags(op)
    del op[flag]
    with pytest.raises(gen.ContractError, match=flag):
        gen.check_operation_flags(op)


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("workflow.list", {"idempotent": False}, "GET is idempotent"),
        ("health.check", {"versioned": True}, "public"),
        ("health.check", {"namespaced": True}, "public"),
        ("activity.complete", {"versioned": False}, "worker-plane"),
        ("workflow.cancel", {"self_validating": True, "request_schema": None}, "request schema"),
    ],
)
def test_generator_refuses_contradicting_flags(
    name: str, change: dict[str, Any], message: str
) -> None:
    gen = generator()
    op = {**next(o for o in OPS if o["name"] == name), **change}
    with pytest.raises(gen.ContractError, match=message):
        gen.check_operation_flags(op)


def test_known_flag_values() -> None:
    """Spot checks that pin the facts the transport and the dev server act on."""
    assert [n for n, s in OPERATIONS.items() if not s.versioned and s.plane != "public"] == [
        "cluster.info"
    ]
    assert [n for n, s in OPERATIONS.items() if s.ascii_only] == ["workflow.history_export"]
    assert [n for n, s in OPERATIONS.items() if s.self_validating] == ["bridge.webhook"]
    assert not OPERATIONS["workflow.start"].idempotent  # only use-existing starts resend
    assert not OPERATIONS["workflow-task.poll"].idempotent  # only with a poll_request_id
    assert OPERATIONS["activity.complete"].idempotent  # fenced by lease owner + attempt
    assert not OPERATIONS["namespace.create"].namespaced
    assert OPERATIONS["workflow.signal"].namespaced


def test_no_module_redeclares_an_operation_fact() -> None:
    names = set(OPERATIONS)
    found: list[str] = []
    for path, tree in _sources():
        where = path.relative_to(REPO)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in RETIRED_NAMES:
                found.append(f"{where}:{node.lineno} {node.id}")
            if isinstance(node, (ast.Set, ast.Tuple, ast.List)) and len(node.elts) >= 2:
                values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if len(values) == len(node.elts) and all(v in names for v in values):
                    found.append(f"{where}:{node.lineno} a collection of operation names")
    assert not found, "per-operation facts belong in contracts/operations.json:\n" + "\n".join(
        found
    )


def _top_level_int(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp) and not isinstance(parents.get(node), ast.BinOp):
        try:
            value = eval(compile(ast.Expression(node), "<limit>", "eval"), {})
        except Exception:
            return None
        return value if type(value) is int else None
    return None


def test_no_module_redeclares_a_default_limit() -> None:
    found: list[str] = []
    for path, tree in _sources():
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if _top_level_int(node, parents) in DISTINCT_LIMITS:
                found.append(f"{path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}")
    assert not found, "default limits belong in contracts/manifest.json:\n" + "\n".join(found)


def test_limit_scan_sees_literals_and_products() -> None:
    tree = ast.parse("a = 2_097_152\nb = 2 * 1024 * 1024\nc = 256 * 1024 * 1024\n")
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    values = {_top_level_int(n, parents) for n in ast.walk(tree)}
    assert manifest.MAX_PAYLOAD_BYTES in values
    assert manifest.MAX_MEMO_BYTES not in values  # 256 * 1024 inside 256 MiB is not a memo limit


def test_limits_reach_their_consumers(tmp_path: Path) -> None:
    from durable_workflow import serializer
    from durable_workflow._transport import DEFAULT_REQUEST_LIMIT_BYTES
    from durable_workflow.server.config import ServerConfig
    from durable_workflow.server.http.cluster_info import cluster_info

    structural = manifest.STRUCTURAL_LIMITS
    assert manifest.LIMITS["max_payload_bytes"] == DEFAULT_REQUEST_LIMIT_BYTES
    assert structural["payload_size_bytes"] == serializer.DEFAULT_PAYLOAD_SIZE_BYTES
    assert structural["warning_threshold_percent"] == serializer.DEFAULT_WARNING_THRESHOLD_PERCENT
    config = ServerConfig(db_path=tmp_path / "dev.sqlite")
    assert (config.max_payload_bytes, config.max_memo_bytes) == (
        manifest.MAX_PAYLOAD_BYTES,
        manifest.MAX_MEMO_BYTES,
    )
    advertised = cluster_info(config, {})
    assert advertised["limits"] == manifest.LIMITS
    # The dev server advertises only the structural limits it enforces (docs/compat.md).
    assert advertised["structural_limits"] == {
        key: manifest.STRUCTURAL_LIMITS[key] for key in advertised["structural_limits"]
    }
    assert list(advertised["limits"]) == list(manifest.LIMITS)
    custom = cluster_info(ServerConfig(db_path=tmp_path / "dev.sqlite", max_memo_bytes=9), {})
    assert custom["limits"] == {**manifest.LIMITS, "max_memo_bytes": 9}
