"""The surface comparison notices each kind of gap (the real run is in ``nox -s interop``)."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import surface

UPSTREAM = {
    "__init__.py": """
        from fakedw.shapes import Shape
        __all__ = ["Shape", "VERSION"]
        VERSION = "1"
    """,
    "_private.py": """
        def helper(value, *, strict=False):
            return value
    """,
    "shapes.py": """
        import dataclasses
        import logging
        from typing import Any, Callable, Literal
        from fakedw._private import helper

        LIMIT = 10
        Kind = Literal["round", "square"]
        logger = logging.getLogger(__name__)

        @dataclasses.dataclass
        class Shape:
            name: str
            sides: int = 0

            @property
            def polygon(self) -> bool:
                return self.sides > 2

            def scaled(self, factor, *, around=None):
                return self

        class Error(Exception):
            def __init__(self, message):
                super().__init__(message)
                self.message = message

        def area(shape, unit="m"):
            return 0

        def gather(*items, **options):
            return items
    """,
}


def _write(root: Path, files: dict[str, str]) -> None:
    package = root / "fakedw"
    package.mkdir(parents=True)
    for name, text in files.items():
        (package / name).write_text(textwrap.dedent(text))


def _read(root: Path, *, every_reexport: bool) -> tuple[list[str], set[str]]:
    for name in [n for n in sys.modules if n == "fakedw" or n.startswith("fakedw.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        importlib.invalidate_caches()
        modules = surface.public_modules("fakedw")
        return modules, surface.surface(modules, "fakedw", every_reexport=every_reexport)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "fakedw" or n.startswith("fakedw.")]:
            del sys.modules[name]


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[tuple[list[str], set[str]]]:
    _write(tmp_path / "up", UPSTREAM)
    yield _read(tmp_path / "up", every_reexport=False)


def test_upstream_surface_lists_names_members_and_parameters(
    upstream: tuple[list[str], set[str]],
) -> None:
    modules, names = upstream
    assert modules == ["fakedw", "fakedw.shapes"]
    for entry in [
        "fakedw:Shape",
        "fakedw:VERSION",
        "fakedw.shapes:LIMIT",
        "fakedw.shapes:Kind",
        "fakedw.shapes:Shape.name",
        "fakedw.shapes:Shape.sides",
        "fakedw.shapes:Shape.polygon",
        "fakedw.shapes:Shape.scaled(factor)",
        "fakedw.shapes:Shape.scaled(#0 factor)",
        "fakedw.shapes:Shape.scaled(around)",
        "fakedw.shapes:Error(#0 message)",
        "fakedw.shapes:area(#1 unit)",
        "fakedw.shapes:gather(*)",
        "fakedw.shapes:gather(**)",
        "fakedw.shapes:Shape(name)",
        "fakedw.shapes:Error.message",
        "fakedw.shapes:area(unit)",
        "fakedw.shapes:helper(strict)",
    ]:
        assert entry in names, entry
    # Imports that are not the package's own, and a re-export's members outside its home.
    imported = {"logger", "Any", "Callable", "Literal", "dataclasses"}
    assert not {f"fakedw.shapes:{name}" for name in imported} & names
    assert "fakedw:Shape.name" not in names
    assert "fakedw.shapes:Shape.scaled(#1 around)" not in names  # keyword-only


def test_every_kind_of_gap_is_reported(
    tmp_path: Path, upstream: tuple[list[str], set[str]]
) -> None:
    _, upstream_names = upstream
    ours = dict(UPSTREAM)
    ours["shapes.py"] = (
        ours["shapes.py"]
        .replace("LIMIT = 10", "")
        .replace("def scaled(self, factor, *, around=None)", "def scaled(self, factor)")
        .replace("self.message = message", "")
        .replace("sides: int = 0", "")
        .replace("def area(shape, unit=", "def area(shape, *, unit=")
        .replace("def gather(*items, **options)", "def gather(*items)")
    )
    _write(tmp_path / "ours", ours)
    _, our_names = _read(tmp_path / "ours", every_reexport=True)
    assert surface.missing(upstream_names, our_names, {}) == [
        "fakedw.shapes:Error.message",
        "fakedw.shapes:LIMIT",
        "fakedw.shapes:Shape(#1 sides)",
        "fakedw.shapes:Shape(sides)",
        "fakedw.shapes:Shape.scaled(around)",
        "fakedw.shapes:Shape.sides",
        "fakedw.shapes:area(#1 unit)",
        "fakedw.shapes:gather(**)",
    ]
    # A recorded exception silences exactly its entry.
    exceptions = {"fakedw.shapes:LIMIT": "reason"}
    assert "fakedw.shapes:LIMIT" not in surface.missing(upstream_names, our_names, exceptions)


def test_identical_surfaces_have_no_gap(
    tmp_path: Path, upstream: tuple[list[str], set[str]]
) -> None:
    _, upstream_names = upstream
    _write(tmp_path / "same", UPSTREAM)
    _, our_names = _read(tmp_path / "same", every_reexport=True)
    assert surface.missing(upstream_names, our_names, {}) == []
