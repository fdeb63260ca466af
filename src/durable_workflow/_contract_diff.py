"""Classify a server contract bump: is the new spec folder additive or breaking for this SDK?

Compares two copies of a generation's vendored folder (``contracts/server-2.x/``): every
operation of their ``*.openapi.yaml`` documents by ``operationId``, and the schemas of its
parameters, request body and success responses, following ``$ref`` into the folder's files.
Seen from a client: a new operation, a new optional request field, a new response field or
enum value is additive; a removed or re-routed operation, a removed or retyped field, a newly
required request field or a tighter request constraint is breaking. The documents' own rule
(``additive_minor_breaking_major``) says a breaking change needs a new major.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ADDITIVE", "BREAKING", "MATCH", "Change", "diff_folders", "verdict"]

ADDITIVE = "additive"
BREAKING = "breaking"
MATCH = "match"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# Request-side bounds: a larger minimum or a smaller maximum refuses bodies that passed.
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


@dataclass(frozen=True)
class Change:
    """One difference between the old and the new contracts."""

    kind: str
    """``additive`` or ``breaking``."""
    where: str
    """The operation or named schema and the place in it: ``registerWorker request.body``,
    ``WorkerRegistrationRequest.build_id``, ``deregisterWorker``."""
    what: str


def verdict(changes: list[Change]) -> str:
    """``breaking`` if any change is, else ``additive`` if anything changed, else ``match``."""
    kinds = {change.kind for change in changes}
    return BREAKING if BREAKING in kinds else ADDITIVE if kinds else MATCH


class _Folder:
    """The files of one spec folder, parsed once, with ``$ref`` resolution between them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, Any] = {}

    def load(self, name: str) -> Any:
        if name not in self._files:
            text = (self.root / name).read_text(encoding="utf-8")
            if name.endswith((".yaml", ".yml")):
                import yaml  # the cli extra's dependency, imported only when a diff runs

                loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built
                self._files[name] = yaml.load(text, Loader=loader)
            else:
                self._files[name] = json.loads(text)
        return self._files[name]

    def resolve(self, file: str, node: Any) -> tuple[str, Any]:
        """Follow ``$ref`` chains (``#/a/b``, ``./other.json``, ``./other.json#/a``)."""
        seen: set[tuple[str, str]] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if (file, ref) in seen:
                break
            seen.add((file, ref))
            target, _, pointer = ref.partition("#")
            if target:
                file = target.removeprefix("./")
            node = self.load(file)
            for part in filter(None, pointer.split("/")):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return file, node

    def operations(self) -> dict[str, tuple[str, str, str, dict[str, Any]]]:
        """operationId -> (document, METHOD, path, operation)."""
        out = {}
        for path in sorted(self.root.glob("*.openapi.yaml")):
            doc = self.load(path.name)
            for route, item in (doc.get("paths") or {}).items():
                for method in HTTP_METHODS:
                    op = item.get(method)
                    if op is not None:
                        key = op.get("operationId") or f"{method.upper()} {route}"
                        out[key] = (path.name, method.upper(), route, op)
        return out


def _types(node: dict[str, Any]) -> set[str] | None:
    declared = node.get("type")
    if declared is None:
        return None
    return {declared} if isinstance(declared, str) else set(declared)


def _type_text(types: set[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types))


def _component_name(old: Any, new: Any) -> str | None:
    """``WorkerEnvelope`` for two identical ``$ref`` to it (a file's name when no fragment)."""
    ref = old.get("$ref") if isinstance(old, dict) else None
    if not isinstance(ref, str) or not isinstance(new, dict) or new.get("$ref") != ref:
        return None
    target, _, pointer = ref.partition("#")
    return pointer.rsplit("/", 1)[-1] or target.removeprefix("./")


class _Differ:
    def __init__(self, old: _Folder, new: _Folder) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []
        self.visited: set[tuple[int, int, bool]] = set()

    def add(self, kind: str, where: str, what: str) -> None:
        self.changes.append(Change(kind, where, what))

    def schema(self, old: tuple[str, Any], new: tuple[str, Any], where: str, request: bool) -> None:
        """Compare two schemas read by a server (``request``) or by the client.

        A named schema both sides reference is reported under its own name, once, however
        many operations use it.
        """
        where = _component_name(old[1], new[1]) or where
        old_file, o = self.old.resolve(*old)
        new_file, n = self.new.resolve(*new)
        key = (id(o), id(n), request)
        if key in self.visited or not isinstance(o, dict) or not isinstance(n, dict):
            return
        self.visited.add(key)
        self._type(o, n, where, request)
        self._enum(o, n, where, request)
        if request:
            self._bounds(o, n, where)
        self._properties((old_file, o), (new_file, n), where, request)
        if "items" in o and "items" in n:
            self.schema((old_file, o["items"]), (new_file, n["items"]), f"{where}[]", request)
        for combinator in ("allOf", "oneOf", "anyOf"):
            self._variants(combinator, (old_file, o), (new_file, n), where, request)

    def _type(self, o: dict[str, Any], n: dict[str, Any], where: str, request: bool) -> None:
        old_types, new_types = _types(o), _types(n)
        if old_types != new_types:
            # None is "any type". Safe when a request accepts at least the old types, or a
            # response sends only types it sent before.
            inner, outer = (old_types, new_types) if request else (new_types, old_types)
            safe = outer is None or (inner is not None and inner <= outer)
            self.add(
                ADDITIVE if safe else BREAKING,
                where,
                f"retyped: {_type_text(old_types)} -> {_type_text(new_types)}",
            )
        if "const" in o and "const" in n and o["const"] != n["const"]:
            self.add(BREAKING, where, f"const {o['const']!r} -> {n['const']!r}")
        elif ("const" in o) != ("const" in n):
            # Like an enum: a request may not narrow; a response may send new values.
            narrowed = "const" in n
            kind = BREAKING if request and narrowed else ADDITIVE
            self.add(kind, where, "now a constant" if narrowed else "no longer a constant")

    def _enum(self, o: dict[str, Any], n: dict[str, Any], where: str, request: bool) -> None:
        if "enum" not in o and "enum" not in n:
            return
        if "enum" not in n:
            self.add(ADDITIVE, where, "enum restriction dropped")
            return
        old_values = o.get("enum")
        added = [v for v in n["enum"] if old_values is not None and v not in old_values]
        removed = [v for v in old_values or [] if v not in n["enum"]]
        if old_values is None:
            self.add(BREAKING if request else ADDITIVE, where, "now restricted to an enum")
        if added:
            self.add(ADDITIVE, where, f"enum values added: {added}")
        if removed:
            self.add(BREAKING if request else ADDITIVE, where, f"enum values removed: {removed}")

    def _bounds(self, o: dict[str, Any], n: dict[str, Any], where: str) -> None:
        for key in (*LOWER_BOUNDS, *UPPER_BOUNDS, "pattern"):
            before, after = o.get(key), n.get(key)
            if before == after:
                continue
            looser = after is None or (
                key != "pattern"
                and before is not None
                and (after < before if key in LOWER_BOUNDS else after > before)
            )
            self.add(ADDITIVE if looser else BREAKING, where, f"{key}: {before!r} -> {after!r}")
        if o.get("additionalProperties") is not False and n.get("additionalProperties") is False:
            self.add(BREAKING, where, "no longer accepts extra fields")

    def _properties(
        self, old: tuple[str, Any], new: tuple[str, Any], where: str, request: bool
    ) -> None:
        (old_file, o), (new_file, n) = old, new
        old_props, new_props = o.get("properties") or {}, n.get("properties") or {}
        old_req, new_req = set(o.get("required") or ()), set(n.get("required") or ())
        for name in sorted(set(old_props) | set(new_props)):
            at = f"{where}.{name}"
            if name not in new_props:
                self.add(BREAKING, at, "field removed")
            elif name not in old_props:
                required = name in new_req
                kind = BREAKING if request and required else ADDITIVE
                self.add(kind, at, f"{'required' if required else 'optional'} field added")
            else:
                if request and name in new_req - old_req:
                    self.add(BREAKING, at, "request field became required")
                elif not request and name in old_req - new_req:
                    self.add(BREAKING, at, "response field no longer always present")
                elif (name in new_req) != (name in old_req):
                    self.add(ADDITIVE, at, "required-ness relaxed for this side")
                self.schema((old_file, old_props[name]), (new_file, new_props[name]), at, request)

    def _variants(
        self, combinator: str, old: tuple[str, Any], new: tuple[str, Any], where: str, request: bool
    ) -> None:
        (old_file, o), (new_file, n) = old, new
        old_parts, new_parts = o.get(combinator) or [], n.get(combinator) or []
        for index, (a, b) in enumerate(zip(old_parts, new_parts, strict=False)):
            self.schema((old_file, a), (new_file, b), f"{where}<{combinator}[{index}]>", request)
        if len(old_parts) == len(new_parts):
            return
        grew = len(new_parts) > len(old_parts)
        # allOf parts are constraints (more = stricter); oneOf/anyOf parts are alternatives.
        stricter = grew if combinator == "allOf" else not grew
        kind = BREAKING if request and stricter else ADDITIVE
        if not request and combinator == "allOf" and not grew:
            kind = BREAKING  # a response part the client read is gone
        self.add(kind, where, f"{combinator}: {len(old_parts)} -> {len(new_parts)} parts")


def _body(folder: _Folder, file: str, container: Any) -> tuple[str, Any, bool] | None:
    """(file, schema, required) of a request body or response; None when it has no body."""
    file, container = folder.resolve(file, container)
    content = (container or {}).get("content") or {}
    if not content:
        return None
    media = content.get("application/json") or next(iter(content.values()))
    return file, media.get("schema") or {}, bool(container.get("required"))


def _parameters(folder: _Folder, file: str, op: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    out = {}
    for param in op.get("parameters") or []:
        param_file, resolved = folder.resolve(file, param)
        out[f"{resolved['in']}:{resolved['name']}"] = (param_file, resolved)
    return out


def _compare_operation(
    differ: _Differ, name: str, old: tuple[str, str, str, Any], new: tuple[str, str, str, Any]
) -> None:
    (old_doc, old_method, old_path, o), (new_doc, new_method, new_path, n) = old, new
    if (old_method, old_path) != (new_method, new_path):
        differ.add(BREAKING, name, f"moved: {old_method} {old_path} -> {new_method} {new_path}")
    old_params = _parameters(differ.old, old_doc, o)
    new_params = _parameters(differ.new, new_doc, n)
    for key in sorted(set(old_params) | set(new_params)):
        at = f"{name} parameter {key}"
        if key not in new_params:
            differ.add(BREAKING, at, "parameter removed")
            continue
        required = bool(new_params[key][1].get("required"))
        if key not in old_params:
            kind = BREAKING if required else ADDITIVE
            differ.add(kind, at, f"{'required' if required else 'optional'} parameter added")
            continue
        if required and not old_params[key][1].get("required"):
            differ.add(BREAKING, at, "parameter became required")
        old_schema = (old_params[key][0], old_params[key][1].get("schema") or {})
        differ.schema(
            old_schema, (new_params[key][0], new_params[key][1].get("schema") or {}), at, True
        )
    old_body = _body(differ.old, old_doc, o.get("requestBody"))
    new_body = _body(differ.new, new_doc, n.get("requestBody"))
    if old_body is None and new_body is not None:
        differ.add(BREAKING if new_body[2] else ADDITIVE, f"{name} request.body", "body added")
    elif old_body is not None and new_body is None:
        differ.add(BREAKING, f"{name} request.body", "body removed")
    elif old_body is not None and new_body is not None:
        if new_body[2] and not old_body[2]:
            differ.add(BREAKING, f"{name} request.body", "body became required")
        differ.schema(old_body[:2], new_body[:2], f"{name} request.body", True)
    _compare_responses(differ, name, (old_doc, o), (new_doc, n))


def _compare_responses(
    differ: _Differ, name: str, old: tuple[str, Any], new: tuple[str, Any]
) -> None:
    (old_doc, o), (new_doc, n) = old, new
    old_responses, new_responses = o.get("responses") or {}, n.get("responses") or {}
    for status in sorted(set(old_responses) | set(new_responses), key=str):
        if not str(status).startswith("2"):
            continue
        at = f"{name} response.{status}"
        if status not in new_responses:
            differ.add(BREAKING, at, "success status removed")
        elif status not in old_responses:
            differ.add(ADDITIVE, at, "success status added")
        else:
            old_body = _body(differ.old, old_doc, old_responses[status])
            new_body = _body(differ.new, new_doc, new_responses[status])
            if old_body is not None and new_body is None:
                differ.add(BREAKING, at, "response body removed")
            elif old_body is not None and new_body is not None:
                differ.schema(old_body[:2], new_body[:2], at, False)


def diff_folders(old: Path, new: Path) -> list[Change]:
    """Every additive or breaking change from spec folder ``old`` to ``new``."""
    differ = _Differ(_Folder(old), _Folder(new))
    old_ops, new_ops = differ.old.operations(), differ.new.operations()
    if not old_ops and not new_ops:
        raise FileNotFoundError(f"no *.openapi.yaml operations in {old} or {new}")
    for name in sorted(set(old_ops) | set(new_ops)):
        if name not in new_ops:
            differ.add(BREAKING, name, f"operation removed ({old_ops[name][1]} {old_ops[name][2]})")
        elif name not in old_ops:
            differ.add(ADDITIVE, name, f"operation added ({new_ops[name][1]} {new_ops[name][2]})")
        else:
            _compare_operation(differ, name, old_ops[name], new_ops[name])
    return differ.changes
