"""One-mutation fuzz seeded from upstream's control-plane parity fixtures.

Each request is a fixture request (method, path, query, body) with exactly one
mutation: a body value replaced (deep nesting, a lone surrogate, huge or negative
numbers, empty or wrong types, long or control-character text), a key dropped or
added, a path segment or query value replaced, or the namespace or version header
changed. Reads the fixtures in place from ``shared/upstream/control-plane`` (skips
when absent). A failure is an undocumented 5xx, a dropped connection or an error
body without ``reason``.

``python tests/fuzz/mutation_fuzz.py --requests 20000``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from fuzz_server import fuzz_server
from schemathesis_fuzz import CONTROL, WORKER, _contract_problem, database_problems

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "upstream" / "control-plane"

DEEP = "[" * 3000 + "]" * 3000
VALUES: list[Any] = [
    "\ud800", "a\udfffb", 2**70, -(2**70), 2**63, 10**18, -1, 0, 1.5, 1e308, -1e308, "", None,
    True, [], {}, "x" * 100_000, "\u0000", "\u202e\U0001f680", "NaN", [None] * 1000,
    {"\ud800": 1}, {"": {"": [{}]}}, "../../etc/passwd", "' OR 1=1 --", "%s%n", 3.0,
    "9999-99-99T99:99:99Z", "P999999999Y", "* * * * * * *", 2**63 - 1, -(2**63), "1" * 40,
    "-" + "9" * 30, "\u00b2", 1e18, -0.0, [[[[[]]]]], {"codec": "avro", "blob": "\ud800"},
    {"codec": "json", "blob": "{"}, {"codec": "nope", "blob": ""},
]  # fmt: skip
SEGMENTS = ["%ED%A0%80", "%00", "..", "x" * 5000, "%F0%9F%9A%80", "a%2Fb", "%25", " ", "%0A"]
QUERY_VALUES = ["-1", "0", "1" * 40, "abc", "", "%00", "\u00e9", "1e9", "null", "99999999999"]


def seeds() -> list[dict[str, Any]]:
    return [json.loads(p.read_text())["request"] for p in sorted(FIXTURES.glob("*.json"))]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


def _set(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return body


Request = tuple[str, str, dict[str, str], bytes | None, dict[str, str]]


def mutate(seed: dict[str, Any], rng: random.Random) -> Request:
    method, path = seed["method"], "/api" + seed["path"]
    query = dict(seed.get("query") or {})
    body = copy.deepcopy(seed.get("body"))
    headers = {**CONTROL, **WORKER, "Content-Type": "application/json"}
    raw: bytes | None = None
    kind = rng.choice(["value", "value", "value", "drop", "add", "segment", "query", "header",
                       "deep"])  # fmt: skip
    if kind in ("value", "drop", "add") and body is not None:
        target = rng.choice(_paths(body))
        if kind == "value":
            body = _set(body, target, copy.deepcopy(rng.choice(VALUES)))
        elif kind == "drop" and target:
            parent = body
            for part in target[:-1]:
                parent = parent[part]
            del parent[target[-1]]
        elif kind == "add":
            node = body
            for part in target:
                node = node[part]
            if isinstance(node, dict):
                node[rng.choice(["extra", "\ud800", "workflow_id", "namespace"])] = rng.choice(
                    VALUES
                )
    elif kind == "deep":
        raw = DEEP.encode()
    elif kind == "segment":
        parts = path.split("/")
        index = rng.randrange(2, len(parts)) if len(parts) > 2 else 1
        parts[index] = rng.choice(SEGMENTS)
        path = "/".join(parts)
    elif kind == "query":
        query[rng.choice([*query, "page_size", "limit", "namespace"])] = rng.choice(QUERY_VALUES)
    elif kind == "header":
        headers[rng.choice(["X-Namespace", *CONTROL, *WORKER])] = rng.choice(
            ["", "x" * 300, "\u00e9t\u00e9", "ORDERS-PROD", "2.0", "1.1 "]
        )
    if raw is None and body is not None:
        raw = json.dumps(body).encode("utf-8", "surrogatepass")
    return method, path, query, raw, headers


def run(url: str, budget: int, seed_value: int) -> tuple[Counter[str], list[str]]:
    rng = random.Random(seed_value)
    fixtures = seeds()
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post("/api/namespaces", json={"name": "orders-prod"}, headers=CONTROL)
        for _ in range(budget):
            seed = rng.choice(fixtures)
            method, path, query, raw, headers = mutate(seed, rng)
            headers.setdefault("X-Namespace", "orders-prod")
            try:
                response = http.request(method, path, params=query, content=raw, headers=headers)
            except (httpx.LocalProtocolError, httpx.InvalidURL, UnicodeError):
                statuses["unsendable"] += 1
                continue
            except httpx.TransportError as exc:
                failures.append(f"{method} {path}: transport error {exc!r}")
                continue
            statuses[f"{response.status_code // 100}xx"] += 1
            try:
                payload: Any = response.json()
            except ValueError:
                payload = response.text[:200]
            problem = _contract_problem(response.status_code, payload)
            if problem is not None:
                failures.append(f"{method} {path} -> {problem}: {str(payload)[:200]} | "
                                f"{(raw or b'')[:300]!r}")  # fmt: skip
    return statuses, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not FIXTURES.is_dir():
        print(f"no fixtures at {FIXTURES}; nothing to do")
        return 0
    with tempfile.TemporaryDirectory(prefix="dw-mutate-") as tmp:
        db = Path(tmp) / "mutate.sqlite"
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(fuzz_server(db))
            statuses, failures = run(url, args.requests, args.seed)
        failures.extend(database_problems(db))
    print(f"mutation fuzz: {sum(v for k, v in statuses.items() if k != 'unsendable')} requests "
          f"({dict(sorted(statuses.items()))}); {len(failures)} failures")  # fmt: skip
    for line in failures[:50]:
        print("  FAIL", line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
