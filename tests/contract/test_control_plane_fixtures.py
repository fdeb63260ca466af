"""Every upstream control-plane parity fixture fits the generated models of its operation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from _upstream import ids, load, require_upstream, upstream_files
from pydantic import ValidationError

from durable_workflow._generated.operations import OPERATIONS, OperationSpec

FIXTURES = upstream_files("control-plane")
PARAMS: list[Path | None] = [*FIXTURES] or [None]


def _spec(fixture: dict[str, Any]) -> OperationSpec:
    name = fixture["operation"]
    assert name in OPERATIONS, f"fixture operation {name!r} missing from operations.json"
    return OPERATIONS[name]


def _request_bodies(fixture: dict[str, Any]) -> list[tuple[str, Any]]:
    bodies = []
    if "body" in fixture["request"]:
        bodies.append(("request.body", fixture["request"]["body"]))
    for producer in ("cli", "sdk_python"):
        section = fixture.get(producer) or {}
        if "expected_body" in section:
            bodies.append((f"{producer}.expected_body", section["expected_body"]))
    return bodies


def _path_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


@pytest.mark.parametrize("path", PARAMS, ids=ids(FIXTURES) or ["absent"])
def test_fixture_route_matches_operation(path: Path | None) -> None:
    require_upstream("control-plane")
    assert path is not None
    fixture = load(path)
    spec = _spec(fixture)
    assert fixture["request"]["method"] == spec.method
    # Fixture paths are relative to the /api base path.
    assert _path_regex(spec.path).fullmatch("/api" + fixture["request"]["path"]), (
        spec.path,
        fixture["request"]["path"],
    )


@pytest.mark.parametrize("path", PARAMS, ids=ids(FIXTURES) or ["absent"])
def test_fixture_bodies_validate(path: Path | None) -> None:
    require_upstream("control-plane")
    assert path is not None
    fixture = load(path)
    spec = _spec(fixture)
    bodies = _request_bodies(fixture)
    if bodies:
        assert spec.request_model is not None, f"{spec.name} has bodies but no request model"
    for where, body in bodies:
        assert spec.request_model is not None
        try:
            spec.request_model.model_validate(body)
        except ValidationError as exc:  # pragma: no cover - failure path names the body
            pytest.fail(f"{path.name} {where}: {exc}")
    response = fixture.get("response_body")
    if response is not None:
        assert spec.response_model is not None
        spec.response_model.model_validate(response)


def test_every_fixture_operation_is_known() -> None:
    require_upstream("control-plane")
    assert FIXTURES, "control-plane fixture folder is empty"
    missing = {load(p)["operation"] for p in FIXTURES} - set(OPERATIONS)
    assert not missing
