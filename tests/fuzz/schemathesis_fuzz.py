"""Schemathesis over every operation of the dev server's own ``/api/openapi.json``.

Cases come from the document (positive and negative generation per operation); half
the path parameters are swapped for ids that exist (a seeded workflow, run, worker,
schedule, task queue) so generated bodies reach the engine, not only the 404 of an
unknown id. Every response is checked: no 5xx (except 501 ``not_implemented`` of an
operation the dev server does not implement), every error body is the contract's
(``reason`` plus ``message`` or ``error``). The run ends with the server healthy and
``PRAGMA integrity_check`` ok.

``python tests/fuzz/schemathesis_fuzz.py --requests 100000`` (``nox -s fuzz``) prints
requests, status classes and failures; exit 1 on any failure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from fuzz_server import fuzz_server
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode

from durable_workflow._generated import manifest

CONTROL = {manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION}
WORKER = {manifest.WORKER_PROTOCOL_HEADER: manifest.WORKER_PROTOCOL_VERSION}
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@dataclass
class FuzzReport:
    requests: int = 0
    unsendable: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        classes = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"schemathesis fuzz: {self.requests} requests in {self.seconds:.0f}s "
            f"({classes}); {len(self.failures)} failures; {self.unsendable} generated requests"
            " our HTTP client refused to send"
        )


def seed_state(url: str) -> dict[str, str]:
    """Create what path parameters can point at; return parameter name -> existing id."""
    with httpx.Client(base_url=url, timeout=10) as http:
        reg = {"worker_id": "fuzz-worker", "task_queue": "fuzz-q", "runtime": "python"}
        http.post("/api/worker/register", json=reg, headers=WORKER).raise_for_status()
        start = {"workflow_id": "fuzz-wf", "workflow_type": "t", "task_queue": "fuzz-q"}
        started = http.post("/api/workflows", json=start, headers=CONTROL)
        started.raise_for_status()
        schedule = {
            "schedule_id": "fuzz-schedule",
            "spec": {"cron_expressions": ["0 0 1 1 *"]},
            "action": {"workflow_type": "t", "task_queue": "fuzz-q"},
        }
        http.post("/api/schedules", json=schedule, headers=CONTROL).raise_for_status()
        attribute = {"name": "FuzzKeyword", "type": "keyword"}
        http.post("/api/search-attributes", json=attribute, headers=CONTROL).raise_for_status()
        return {
            "workflowId": "fuzz-wf",
            "runId": started.json()["run_id"],
            "workerId": "fuzz-worker",
            "scheduleId": "fuzz-schedule",
            "taskQueue": "fuzz-q",
            "namespace": "default",
            "name": "FuzzKeyword",
            "adapter": "stripe",
        }


# 5xx answers the protocol documents (and what they mean), by status and reason.
DOCUMENTED_5XX = {
    (501, "not_implemented"),  # an operation the dev server does not implement
    (504, "query_worker_timeout"),  # a query no worker answered in time (control-plane §8)
}


def _contract_problem(status: int, body: Any) -> str | None:
    if status >= 500:
        reason = body.get("reason") if isinstance(body, dict) else None
        if (status, reason) in DOCUMENTED_5XX:
            return None
        if isinstance(body, dict) and body.get("outcome") == "trigger_failed":
            return None  # a schedule trigger whose start failed (control-plane §9.8)
        return f"server error {status}"
    if status < 400:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("reason"), str) or not body["reason"]:
        return "error body without a reason"
    if not isinstance(body.get("message") or body.get("error"), str):
        return "error body without message/error"
    return None


def _fuzz_operation(
    operation: Any, mode: GenerationMode, examples: int, url: str, known: dict[str, str],
    rng: random.Random, report: FuzzReport, http: httpx.Client,
) -> None:  # fmt: skip
    @seed(rng.getrandbits(64))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        for name in list(case.path_parameters or {}):
            if name in known and rng.random() < 0.5:
                case.path_parameters[name] = known[name]
        kwargs = case.as_transport_kwargs(base_url=url)
        try:
            response = http.request(
                kwargs["method"], kwargs["url"], headers=kwargs.get("headers"),
                params=kwargs.get("params"), content=kwargs.get("content"),
                json=kwargs.get("json"), data=kwargs.get("data"),
            )  # fmt: skip
        except (httpx.LocalProtocolError, httpx.InvalidURL, UnicodeError):
            report.unsendable += 1  # refused by our HTTP client: never reached the server
            return
        except httpx.TransportError as exc:
            report.requests += 1
            report.failures.append(f"{operation.label}: transport error {exc!r}")
            return
        report.requests += 1
        report.statuses[f"{response.status_code // 100}xx"] += 1
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text[:200] if response.request.method != "HEAD" else {}
        if response.request.method == "HEAD":
            return
        problem = _contract_problem(response.status_code, body)
        if problem is not None:
            report.failures.append(
                f"{operation.label} [{mode.value}] -> {response.status_code} {problem}: "
                f"{json.dumps(body)[:300]} | request {case.as_curl_command()[:500]}"
            )

    with contextlib.suppress(Exception):  # hypothesis: unsatisfiable strategies etc.
        run()


def fuzz(url: str, budget: int, *, seed_value: int = 0, per_round: int = 25) -> FuzzReport:
    """Fuzz every operation round by round until ``budget`` requests were sent."""
    report = FuzzReport()
    rng = random.Random(seed_value)
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(url + "/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    known = seed_state(url)
    with httpx.Client(timeout=30) as http:
        while report.requests < budget:
            before = report.requests
            for operation in operations:
                for mode in MODES:
                    left = budget - report.requests
                    if left <= 0:
                        break
                    examples = max(1, min(per_round, left))
                    _fuzz_operation(operation, mode, examples, url, known, rng, report, http)
            if report.requests == before:
                break
        health = http.get(url + "/api/health")
        if health.status_code != 200:
            report.failures.append(f"server unhealthy after fuzzing: {health.status_code}")
    report.seconds = time.monotonic() - started
    return report


def database_problems(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return [] if check == "ok" else [f"integrity_check: {check}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="request budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--url", default=None, help="fuzz a running server instead")
    parser.add_argument("--show", type=int, default=50, help="failures to print")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dw-fuzz-") as tmp:
        db = Path(tmp) / "fuzz.sqlite"
        with contextlib.ExitStack() as stack:
            url = args.url or stack.enter_context(fuzz_server(db))
            report = fuzz(url, args.requests, seed_value=args.seed)
        if args.url is None:
            report.failures.extend(database_problems(db))
    print(report.summary())
    for line in report.failures[: args.show]:
        print("  FAIL", line)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
