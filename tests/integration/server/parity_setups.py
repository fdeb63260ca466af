"""What each upstream parity fixture's request needs the dev server to hold first.

Every fixture runs in a namespace of its own, seeded by its setup. A setup
returns the substitutions that turn the ids the fixture invented
(``activity-task-231``, ``run-polyglot-231``…) into the ones the server chose,
and the attempt counters it handed out; the rest of the fixture's request is
sent as written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from server_http_helpers import CONTROL, WORKER
from storage_emulators import BUCKET

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "upstream" / "control-plane"
WORKER_ID = "polyglot-worker-231"
QUEUE = "external-workflows"
WORKFLOW_ID = "wf-polyglot-231"
WAIT_SECONDS = 20.0


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}-parity.json").read_text())
    return loaded


@dataclass
class Prepared:
    """How the fixture's request is adapted to the seeded namespace.

    ``replace`` maps an id literal of the fixture to the server's id (in the path and
    in every string of the body); ``fields`` overrides top-level body fields;
    ``refused_as_written`` is the (status, field) the real server answers to the
    request exactly as written, checked before the adapted request is sent;
    ``answer_queries`` has the fixture worker answer the query the request asks.
    """

    replace: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    refused_as_written: tuple[int, str] | None = None
    answer_queries: bool = False


class Seeder:
    """Seeds one namespace over real HTTP; every seeding call must succeed."""

    def __init__(self, http: httpx.Client, namespace: str, pool: ThreadPoolExecutor) -> None:
        self.http = http
        self.namespace = namespace
        self.pool = pool
        self.pending: list[Future[httpx.Response]] = []
        # workflow ids are unique across namespaces (409 workflow_id_reserved_in_namespace)
        self.workflow_id = f"{WORKFLOW_ID}.{namespace}"

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        plane = WORKER if path.startswith("/worker/") else CONTROL
        headers = {**plane, "X-Namespace": self.namespace, **kwargs.pop("headers", {})}
        return self.http.request(method, "/api" + path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, json=body, **kwargs)
        assert response.status_code < 400, (method, path, response.status_code, response.text)
        result: dict[str, Any] = response.json()
        return result

    def fixture_request(self, name: str) -> dict[str, Any]:
        """Send another fixture's request as written (it builds state this one needs)."""
        request = fixture(name)["request"]
        return self.ok(request["method"], request["path"], request.get("body"))

    # -- seeds ------------------------------------------------------------------------------

    def register(self) -> None:
        self.ok("POST", "/worker/register", {
            "worker_id": WORKER_ID, "task_queue": QUEUE, "runtime": "python",
            "sdk_version": "durable-worker/1.2.3"})  # fmt: skip

    def start(self) -> str:
        """The run the workflow fixtures describe (memo, search attributes, input, timeouts)."""
        started = self.ok("POST", "/workflows", {
            "workflow_id": self.workflow_id, "workflow_type": "orders.process", "task_queue": QUEUE,
            "business_key": "order-42", "input": [{"order_id": 42, "priority": "gold"}],
            "memo": {"source": "polyglot-fixture"},
            "search_attributes": {"CustomerId": "cust-42", "Tier": "gold"},
            "execution_timeout_seconds": 86400, "run_timeout_seconds": 3600})  # fmt: skip
        return str(started["run_id"])

    def schedules(self) -> None:
        """The two schedules the schedule fixtures name, as their describe/list show them."""
        self.ok("POST", "/schedules", {
            "schedule_id": "daily-order-rollup",
            "spec": {"cron_expressions": ["0 6 * * *"], "timezone": "UTC"},
            "action": {"workflow_type": "orders.rollup", "task_queue": "orders-critical",
                       "execution_timeout_seconds": 600, "run_timeout_seconds": 300},
            "memo": {"team": "orders"}, "search_attributes": {"CustomerTier": "enterprise"},
            "jitter_seconds": 30, "max_runs": 50})  # fmt: skip
        self.ok("POST", "/schedules", {
            "schedule_id": "inventory-refresh",
            "spec": {"intervals": [{"every": "PT30M"}], "timezone": "UTC"},
            "action": {"workflow_type": "inventory.refresh", "task_queue": "inventory-standard"},
            "overlap_policy": "buffer_one", "paused": True})  # fmt: skip

    def common(self) -> str:
        """The fixture worker and the fixture workflow on its queue; returns the run id."""
        self.register()
        return self.start()

    # -- driving tasks ----------------------------------------------------------------------

    def poll(self, kind: str) -> dict[str, Any]:
        """Lease the next ``kind`` task of the fixture worker, waiting for it to appear."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            task = self.ok("POST", f"/worker/{kind}/poll",
                           {"worker_id": WORKER_ID, "task_queue": QUEUE})["task"]  # fmt: skip
            if task is not None:
                return dict(task)
        raise AssertionError(f"no {kind} task within {WAIT_SECONDS}s")

    def activity_attempt(self) -> dict[str, Any]:
        """Workflow task -> schedule_activity on the worker's queue -> leased attempt."""
        task = self.poll("workflow-tasks")
        self.ok("POST", f"/worker/workflow-tasks/{task['task_id']}/complete", {
            "lease_owner": WORKER_ID, "workflow_task_attempt": task["workflow_task_attempt"],
            "commands": [{"type": "schedule_activity", "activity_type": "inventory.sync-page",
                          "task_queue": QUEUE, "input": [{"page": 7}]}]})  # fmt: skip
        return self.poll("activity-tasks")

    def ask_query(self) -> None:
        """A control-plane query whose caller blocks until the query task is answered."""
        path = f"/workflows/{self.workflow_id}/query/current_status"
        self.pending.append(self.pool.submit(self.request, "POST", path, json={}))

    def answered(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        """``send`` a control-plane query while the fixture worker answers it."""
        future = self.pool.submit(send)
        self._answer_until(future.done)
        return future.result(timeout=WAIT_SECONDS)

    def answer_query(self, task: dict[str, Any]) -> httpx.Response:
        body = {"lease_owner": WORKER_ID, "query_task_attempt": task["query_task_attempt"]}
        path = f"/worker/query-tasks/{task['query_task_id']}/complete"
        return self.request("POST", path, json={**body, "result": "parity"})

    def _answer_until(self, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        poll = {"worker_id": WORKER_ID, "task_queue": QUEUE}
        while not done() and time.monotonic() < deadline:
            task = self.request("POST", "/worker/query-tasks/poll", json=poll).json()["task"]
            if task:
                self.answer_query(task)

    def finish(self, leased: dict[str, Any] | None = None) -> None:
        """Release blocked query callers: answer the query task the fixture leased (if
        the fixture did not) and any still pending."""
        if leased and "query_task_id" in leased:
            self.answer_query(leased)
        self._answer_until(lambda: all(f.done() for f in self.pending))
        for pending in self.pending:
            assert pending.result(timeout=WAIT_SECONDS).status_code == 200


def _common(s: Seeder) -> Prepared:
    s.common()
    return Prepared()


def _nothing(s: Seeder) -> Prepared:
    return Prepared()


def _s3_policy(s: Seeder) -> Prepared:
    """An s3 policy on the session's moto bucket (the test sets the AWS_* environment)."""
    s.ok("PUT", f"/namespaces/{s.namespace}/external-storage",
         {"driver": "s3", "config": {"bucket": BUCKET}})  # fmt: skip
    return Prepared()


def _schedules(s: Seeder) -> Prepared:
    s.schedules()
    return Prepared()


def _run(literal: str) -> Callable[[Seeder], Prepared]:
    def setup(s: Seeder) -> Prepared:
        return Prepared(replace={literal: s.common()})

    return setup


def _workflow_task(s: Seeder) -> Prepared:
    s.common()
    task = s.poll("workflow-tasks")
    return Prepared(
        replace={"workflow-task-231": task["task_id"]},
        fields={"workflow_task_attempt": task["workflow_task_attempt"]},
    )


def _activity_task(s: Seeder) -> Prepared:
    s.common()
    attempt = s.activity_attempt()
    return Prepared(replace={"activity-task-231": attempt["task_id"],
                             "activity-attempt-231": attempt["activity_attempt_id"]})  # fmt: skip


def _query_asked(s: Seeder) -> Prepared:
    s.common()
    s.ask_query()
    return Prepared()


def _query_task(s: Seeder) -> Prepared:
    s.common()
    s.ask_query()
    task = s.poll("query-tasks")
    return Prepared(
        replace={"query-task-231": task["query_task_id"]},
        fields={"query_task_attempt": task["query_task_attempt"]},
    )


def _answered_query(s: Seeder) -> Prepared:
    s.common()
    return Prepared(answer_queries=True)


def _closed_run(s: Seeder) -> Prepared:
    """Archive needs a closed run (control-plane §7.13)."""
    s.common()
    s.ok("POST", f"/workflows/{s.workflow_id}/terminate", {"reason": "parity"})
    return Prepared()


def _billing(s: Seeder) -> Prepared:
    """The namespace fixtures act on ``billing``, created by the namespace-create fixture."""
    request = fixture("namespace-create")["request"]
    response = s.request(request["method"], request["path"], json=request["body"])
    assert response.status_code in (201, 409), response.text
    return Prepared()


def _inventory_check(s: Seeder) -> Prepared:
    s.fixture_request("schedule-create")
    return Prepared()


def _triggerable_inventory_check(s: Seeder) -> Prepared:
    """The schedule-create fixture pauses its schedule; the real server skips a paused
    trigger (control-plane §9.1, §9.8). Check that, then resume so the trigger fires as
    the fixture's response shows."""
    _inventory_check(s)
    path = "/schedules/daily-inventory-check/trigger"
    skipped = s.ok("POST", path, {})
    assert (skipped["outcome"], skipped["reason"]) == ("skipped", "status_not_triggerable")
    s.ok("POST", "/schedules/daily-inventory-check/resume", {})
    return Prepared()


def _paused_rollup(s: Seeder) -> Prepared:
    """Only a paused schedule can be resumed: pause it with the schedule-pause fixture."""
    s.schedules()
    s.fixture_request("schedule-pause")
    return Prepared()


def _custom_attributes(s: Seeder) -> Prepared:
    """Custom attributes are ``[]`` (a PHP empty array) until one is defined."""
    s.fixture_request("search-attribute-create")
    return Prepared()


def _external_runtime(s: Seeder) -> Prepared:
    """The fixture registers runtime ``external``: the real server's rule is one of
    php/python/typescript/go/java, else 422 (worker-protocol §8.1)."""
    return Prepared(fields={"runtime": "python"}, refused_as_written=(422, "runtime"))


SETUPS: dict[str, Callable[[Seeder], Prepared]] = {
    "activity-complete": _activity_task,
    "activity-fail": _activity_task,
    "query-task-poll": _query_asked,
    "query-task-complete": _query_task,
    "workflow-task-complete": _workflow_task,
    "workflow-task-fail": _workflow_task,
    "workflow-history": _run("run-polyglot-231"),
    "workflow-history-export": _run("run-polyglot-231"),
    "workflow-show-run": _run("run-polyglot-231-002"),
    "workflow-archive": _closed_run,
    "workflow-query": _answered_query,
    "namespace-describe": _billing,
    "namespace-list": _billing,
    "namespace-update": _billing,
    "namespace-create": _nothing,
    "schedule-history": _inventory_check,
    "schedule-trigger": _triggerable_inventory_check,
    "schedule-resume": _paused_rollup,
    "search-attribute-list": _custom_attributes,
    "worker-register": _external_runtime,
    "storage-test": _s3_policy,
}


def setup_for(name: str) -> Callable[[Seeder], Prepared]:
    """The fixture's own setup, else one by family: the schedule fixtures act on the
    two seeded schedules, the admin-scan fixtures (system, search-attribute-create,
    storage) on an empty namespace, the rest on the fixture worker and workflow."""
    if name in SETUPS:
        return SETUPS[name]
    if name.startswith("schedule-"):
        return _schedules
    if name.startswith(("system-", "search-attribute-", "storage-")):
        return _nothing
    return _common
