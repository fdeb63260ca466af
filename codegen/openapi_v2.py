"""Generate ``durable_workflow._generated.v2`` from the 2.x server's OpenAPI documents.

The 2.x server publishes its protocol as OpenAPI 3.1 documents, vendored unchanged in
``contracts/server-2.x/``. Each ``*.openapi.yaml`` there becomes one models module (by
datamodel-code-generator, which reads OpenAPI directly and follows the ``./`` references
between the vendored files) and contributes its operations to one ``OPERATIONS`` table, so
a server bump is: drop in the new files, regenerate, read the diff. ``generate.py`` calls
:func:`generate_into` for the ``v2`` folder of the generated layer; nothing here is run alone.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from _emit import ROOT, templates

SPECS = ROOT / "contracts" / "server-2.x"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class SpecError(Exception):
    """A vendored document cannot be turned into operation specs (missing id, bad ref)."""


def documents(specs: Path = SPECS) -> dict[str, dict[str, Any]]:
    """Module name -> parsed OpenAPI document, for every ``*.openapi.yaml`` in ``specs``."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(specs.glob("*.openapi.yaml")):
        with path.open(encoding="utf-8") as fh:
            out[module_name(path)] = yaml.safe_load(fh)
    if not out:
        raise SpecError(f"no *.openapi.yaml in {specs}")
    return out


def module_name(path: Path) -> str:
    """``worker-protocol-api.openapi.yaml`` -> ``worker_protocol`` (also the plane name)."""
    stem = path.name.removesuffix(".openapi.yaml").removesuffix("-api")
    return stem.replace("-", "_")


def snake(name: str) -> str:
    """``getClusterInfo`` -> ``get_cluster_info``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _component(doc: dict[str, Any], node: Any, kind: str) -> Any:
    """Follow ``#/components/<kind>/X`` references of a response, body or parameter."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        prefix = f"#/components/{kind}/"
        if not ref.startswith(prefix) or ref in seen:
            raise SpecError(f"unresolvable {kind} reference {ref!r}")
        seen.add(ref)
        node = doc.get("components", {}).get(kind, {}).get(ref[len(prefix) :])
        if node is None:
            raise SpecError(f"{ref!r} does not resolve")
    return node


def _media_type(container: dict[str, Any] | None) -> str | None:
    """``application/json`` when the body may be JSON, else its first declared media type."""
    content = (container or {}).get("content") or {}
    if "application/json" in content:
        return "application/json"
    return next(iter(content), None)


def _body_schema(container: dict[str, Any] | None) -> dict[str, Any] | None:
    media = _media_type(container)
    schema = container["content"][media].get("schema") if container and media else None
    return schema if isinstance(schema, dict) else None


def _model(schema: dict[str, Any] | None, classes: set[str]) -> str | None:
    """The generated class of a ``#/components/schemas/X`` schema; ``None`` for inline shapes."""
    ref = (schema or {}).get("$ref", "")
    name = ref.removeprefix("#/components/schemas/")
    return name if ref.startswith("#/components/schemas/") and name in classes else None


def _schema_ref(schema: dict[str, Any] | None) -> str | None:
    if schema is None:
        return None
    return schema.get("$ref") or "inline"


def operation_contexts(module: str, doc: dict[str, Any], classes: set[str]) -> list[dict[str, Any]]:
    """One template context per operation of ``doc``, in document order."""
    base = ((doc.get("servers") or [{}])[0].get("url") or "").rstrip("/")
    ops = []
    for path, item in doc.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            op_id = op.get("operationId")
            if not op_id:
                raise SpecError(f"{module}: {method.upper()} {path} has no operationId")
            params = [
                _component(doc, p, "parameters") for p in [*shared, *op.get("parameters", [])]
            ]
            body = _component(doc, op.get("requestBody"), "requestBodies")
            request = _body_schema(body)
            successes = {
                int(status): _body_schema(_component(doc, response, "responses"))
                for status, response in op.get("responses", {}).items()
                if str(status).startswith("2")
            }
            response = next((s for s in successes.values() if s is not None), None)
            ops.append(
                {
                    "name": op_id,
                    "method_name": snake(op_id),
                    "plane": module,
                    "method": method.upper(),
                    "path": base + path,
                    "path_params": [(snake(p), p) for p in re.findall(r"\{(\w+)\}", path)],
                    "query_params": [p["name"] for p in params if p.get("in") == "query"],
                    "headers": [p["name"] for p in params if p.get("in") == "header"],
                    "request_model": _model(request, classes),
                    "request_media_type": _media_type(body),
                    "request_required": bool((body or {}).get("required")),
                    "request_schema": _schema_ref(request),
                    "response_model": _model(response, classes),
                    "response_schema": _schema_ref(response),
                    "success_statuses": sorted(successes),
                    "summary": " ".join(str(op.get("summary", "")).split()),
                }
            )
    return ops


def generated_classes(models_file: Path) -> set[str]:
    tree = ast.parse(models_file.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def generate_into(
    out: Path, header: str, datamodel_options: list[str], run: Any, specs: Path = SPECS
) -> dict[str, int]:
    """Write ``out`` (the ``v2`` package); return the operation count per document.

    ``datamodel_options`` are the 0.x generator options with the input type set to
    ``openapi``; ``run`` runs a command and stops generation when it fails.
    """
    docs = documents(specs)
    models = out / "models"
    models.mkdir(parents=True)
    ops: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    classes_by_module: dict[str, list[str]] = {}
    for module, doc in docs.items():
        target = models / f"{module}.py"
        source = next(p for p in specs.glob("*.openapi.yaml") if module_name(p) == module)
        run(
            [
                sys.executable,
                "-m",
                "datamodel_code_generator",
                "--input",
                str(source),
                "--output",
                str(target),
                *datamodel_options,
            ]
        )
        classes = generated_classes(target)
        module_ops = operation_contexts(module, doc, classes)
        counts[module] = len(module_ops)
        ops += module_ops
        used = {op[key] for op in module_ops for key in ("request_model", "response_model")}
        classes_by_module[module] = sorted(name for name in used if name)
    names = [op["name"] for op in ops]
    if len(names) != len(set(names)):
        raise SpecError("two documents share an operationId")
    env = templates()
    env.filters["py"] = repr
    context = {
        "header": header,
        "ops": ops,
        "imports": classes_by_module,
        "modules": sorted(docs),
        "counts": counts,
    }
    for template, target in (
        ("v2_operations.py.jinja2", out / "operations.py"),
        ("v2_stubs.py.jinja2", out / "stubs.py"),
        ("v2_init.py.jinja2", out / "__init__.py"),
        ("v2_models_init.py.jinja2", models / "__init__.py"),
    ):
        target.write_text(env.get_template(template).render(**context), encoding="utf-8")
    return counts
