"""Compare our public surface with upstream durable-workflow 0.4.53's, by introspection.

``python surface.py dump OUT.json`` runs on upstream's interpreter (the interop
venv) and writes every public name it finds; ``python surface.py compare
OUT.json`` runs on ours and exits 1 listing each upstream name we lack.

A surface entry is one string: ``module:Name`` (a module-level name),
``module:Class.member`` (a method, property, field or attribute),
``module:callable(param)`` (a parameter a caller may pass by name, of a
function, method or constructor), ``module:callable(#N param)`` (one it may
pass as the N-th positional argument), or ``module:callable(*)`` /
``module:callable(**)`` (it takes extra positional / keyword arguments).
Upstream is read, not listed, so a name we forget to carry over cannot hide.
Deliberate gaps live in ``EXCEPTIONS`` with their reason (also in
docs/compat.md).
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import inspect
import json
import pkgutil
import sys
import textwrap
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

PACKAGE = "durable_workflow"
UPSTREAM_VERSION = "0.4.53"

# Upstream names we deliberately do not carry, each with its reason.
EXCEPTIONS: dict[str, str] = {}

_CONSTANT_TYPES = (str, bytes, int, float, bool, tuple, frozenset, list, dict, set, type(None))


def public_modules(package: str = PACKAGE) -> list[str]:
    """The package and each of its non-underscore top-level modules or sub-packages."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.iter_modules(root.__path__):
        if not info.name.startswith("_"):
            names.append(f"{package}.{info.name}")
    return sorted(names)


def _ours(obj: Any, package: str) -> bool:
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and (module == package or module.startswith(package + "."))


def _exported(module: types.ModuleType, name: str, package: str) -> bool:
    """Whether a module-level name is part of what users may import from the module."""
    value = getattr(module, name)
    if name in getattr(module, "__all__", ()):
        return True
    if isinstance(value, types.ModuleType):
        return False
    if inspect.isclass(value) or inspect.isroutine(value):
        return _ours(value, package)
    if name == "TYPE_CHECKING":
        return False
    if isinstance(value, _CONSTANT_TYPES):
        return True
    # Type aliases (``X: TypeAlias = dict[str, Any]``, ``Kind = Literal[...]``) and
    # module-level instances of the package's classes (``NOOP_METRICS``) count;
    # typing's bare special forms (``Any``), type variables and imported helpers
    # (``__future__`` features, loggers, exceptions of other libraries) do not.
    if typing.get_origin(value) is not None and getattr(value, "__args__", ()):
        return True
    return _ours(type(value), package)


def _parameters(prefix: str, func: Any, out: set[str]) -> None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return
    params = list(signature.parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    for position, param in enumerate(params):
        if param.kind is param.VAR_POSITIONAL:
            out.add(f"{prefix}(*)")
        elif param.kind is param.VAR_KEYWORD:
            out.add(f"{prefix}(**)")
        elif not param.name.startswith("_"):
            if param.kind is not param.POSITIONAL_ONLY:
                out.add(f"{prefix}({param.name})")
            if param.kind is not param.KEYWORD_ONLY:
                # A caller may pass it by position: it must be at the same place here.
                out.add(f"{prefix}(#{position} {param.name})")


def _instance_attributes(cls: type) -> set[str]:
    """Public ``self.x = ...`` assignments in the class body's methods."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and not target.attr.startswith("_")
            ):
                found.add(target.attr)
    return found


def _class_members(prefix: str, cls: type, package: str, out: set[str]) -> None:
    members: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        if base is cls or _ours(base, package):
            members.update(vars(base))
            for name in getattr(base, "__annotations__", {}):
                members.setdefault(name, None)
            for name in _instance_attributes(base):
                members.setdefault(name, None)
    if dataclasses.is_dataclass(cls):
        for field in dataclasses.fields(cls):
            members.setdefault(field.name, None)
    if issubclass(cls, enum.Enum):
        for name in cls.__members__:
            members.setdefault(name, None)
    for name, value in members.items():
        if name.startswith("_"):
            continue
        out.add(f"{prefix}.{name}")
        target = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
        if inspect.isfunction(target):
            _parameters(f"{prefix}.{name}", target, out)
    if cls.__init__ is not object.__init__ or cls.__new__ is not object.__new__:
        _parameters(prefix, cls, out)


def _home(value: Any, module_name: str, modules: Iterable[str]) -> bool:
    """Whether ``module_name`` is where ``value`` is documented: its defining module, or the
    first public module to expose it when it is defined in a private one."""
    defined = getattr(value, "__module__", None)
    return defined == module_name or defined not in modules


def surface(
    modules: Iterable[str], package: str = PACKAGE, *, every_reexport: bool = True
) -> set[str]:
    """Every public name, member and parameter of ``modules`` (missing modules add nothing).

    With ``every_reexport=False`` a class or function re-exported from another public
    module contributes only its name there; its members and parameters are counted once,
    in its home module. The comparison still walks ours fully, so our classes may live
    anywhere.
    """
    modules = list(modules)
    out: set[str] = set()
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        out.add(module_name)
        for name in dir(module):
            if name.startswith("_") or not _exported(module, name, package):
                continue
            value = getattr(module, name)
            prefix = f"{module_name}:{name}"
            out.add(prefix)
            if not every_reexport and not _home(value, module_name, modules):
                continue
            if inspect.isclass(value):
                _class_members(prefix, value, package, out)
            elif inspect.isroutine(value):
                _parameters(prefix, value, out)
    return out


def missing(upstream: Iterable[str], ours: set[str], exceptions: dict[str, str]) -> list[str]:
    """Upstream entries we lack, minus the deliberate exceptions."""
    return sorted(entry for entry in upstream if entry not in ours and entry not in exceptions)


def _installed_upstream() -> str | None:
    """Why the importable package is not upstream's installed 0.4.53, or None when it is."""
    from importlib import metadata

    try:
        dist = metadata.distribution("durable-workflow")
    except metadata.PackageNotFoundError:
        return "durable-workflow is not installed in this interpreter"
    package = importlib.import_module(PACKAGE)
    installed = Path(str(dist.locate_file(f"{PACKAGE}/__init__.py"))).resolve()
    if Path(str(package.__file__)).resolve() != installed:
        return f"{PACKAGE} is imported from {package.__file__}, not the installed {installed}"
    if dist.version != UPSTREAM_VERSION:
        return f"installed durable-workflow is {dist.version}, not {UPSTREAM_VERSION}"
    return None


def _dump(path: Path) -> int:
    problem = _installed_upstream()
    if problem:
        print(f"surface dump: {problem}", file=sys.stderr)
        return 2
    modules = public_modules()
    names = sorted(surface(modules, every_reexport=False))
    path.write_text(json.dumps({"modules": modules, "surface": names}, indent=1))
    return 0


def _compare(path: Path, report: Callable[[str], None] = print) -> int:
    data = json.loads(path.read_text())
    upstream: list[str] = data["surface"]
    ours = surface(data["modules"])
    stale = sorted(name for name in EXCEPTIONS if name in ours or name not in upstream)
    lacking = missing(upstream, ours, EXCEPTIONS)
    report(
        f"upstream surface: {len(upstream)} names and parameters in {len(data['modules'])} "
        f"modules; missing here: {len(lacking)}; deliberate exceptions: {len(EXCEPTIONS)}"
    )
    for entry in lacking:
        report(f"  missing: {entry}")
    for entry in stale:
        report(f"  stale exception (present here or not upstream): {entry}")
    return 1 if lacking or stale else 0


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("dump", "compare"):
        print("usage: surface.py dump|compare FILE.json", file=sys.stderr)
        return 2
    return _dump(Path(argv[2])) if argv[1] == "dump" else _compare(Path(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
