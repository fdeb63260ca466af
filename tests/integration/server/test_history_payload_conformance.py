"""The dev server's history events carry the payloads the contract describes.

Drives runs through every lifecycle path the dev server records (activities
with retry, heartbeat, failure and timeout; timers fired and cancelled;
continue-as-new; completed, failed, cancelled, terminated and timed-out runs;
archive; repair; accepted and rejected starts) over real HTTP, then checks
every event of every run, as the control-plane history page and the
worker-plane task poll show it, against the generated ``<EventType>Payload``
model (history-events.md §3). Every worker-plane reply met on the way is
checked against ``WorkerPlaneFields``.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel
from server_http_helpers import Api, check_worker_plane

from durable_workflow._generated.models import history
from durable_workflow.server.engine.payload_codec import encode_avro

# history-events.md §3.1-3.3: the run, activity and timer payload models; each must be met.
LIFECYCLE_MODELS: tuple[type[BaseModel], ...] = (
    history.StartAcceptedPayload,
    history.StartRejectedPayload,
    history.WorkflowStartedPayload,
    history.WorkflowContinuedAsNewPayload,
    history.WorkflowCompletedPayload,
    history.WorkflowFailedPayload,
    history.WorkflowTimedOutPayload,
    history.CancelRequestedPayload,
    history.WorkflowCancelledPayload,
    history.TerminateRequestedPayload,
    history.WorkflowTerminatedPayload,
    history.ArchiveRequestedPayload,
    history.WorkflowArchivedPayload,
    history.RepairRequestedPayload,
    history.ActivityScheduledPayload,
    history.ActivityStartedPayload,
    history.ActivityHeartbeatRecordedPayload,
    history.ActivityRetryScheduledPayload,
    history.ActivityCompletedPayload,
    history.ActivityFailedPayload,
    history.ActivityTimedOutPayload,
    history.ActivityCancelledPayload,
    history.TimerScheduledPayload,
    history.TimerFiredPayload,
    history.TimerCancelledPayload,
)
LIFECYCLE_EVENTS = tuple(m.__name__.removesuffix("Payload") for m in LIFECYCLE_MODELS)
WAIT_SECONDS = 15.0
# history-events.md §1.1: snapshot keys any payload may carry, outside the per-type contract.
SNAPSHOT_KEYS = {"task", "command"}
# Keys the dev server adds beyond the engine's contract, each a documented stance
# (engine-semantics.md §19 row 4: WorkflowStarted gets the start time for ctx.now()).
EXTENSIONS = {"WorkflowStarted": {"timestamp"}}


def payload_model(event_type: str) -> type[BaseModel] | None:
    """The generated payload model named for the event type, if the contract has one."""
    model = getattr(history, f"{event_type}Payload", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


class Driver:
    """Drives runs over the worker plane, one task queue per workflow id."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.worker_events: list[dict[str, Any]] = []
        self.worker_replies = 0

    def worker(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = self.api.worker(path, body)
        assert response.status_code == status, (path, response.status_code, response.text)
        self.worker_replies += 1
        return check_worker_plane(response)

    def begin(self, workflow_id: str, **extra: Any) -> dict[str, Any]:
        """Start ``workflow_id`` on its own queue and lease its first workflow task."""
        ident = {"worker_id": "w1", "task_queue": workflow_id, "runtime": "python"}
        self.worker("/register", ident, status=201)
        started = self.api.start(workflow_id, task_queue=workflow_id, **extra)
        assert started.status_code == 201, started.text
        return self.workflow_task(workflow_id)

    def poll(self, kind: str, queue: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            body = self.worker(f"/{kind}/poll", {"worker_id": "w1", "task_queue": queue})
            if body["task"] is not None:
                task: dict[str, Any] = body["task"]
                return task
        raise AssertionError(f"no {kind} task on {queue}")

    def workflow_task(self, queue: str) -> dict[str, Any]:
        task = self.poll("workflow-tasks", queue)
        self.worker_events.extend(task.get("history_events") or [])
        return task

    def complete(self, task: dict[str, Any], *commands: dict[str, Any]) -> dict[str, Any]:
        body = {"lease_owner": "w1", "workflow_task_attempt": task["workflow_task_attempt"]}
        path = f"/workflow-tasks/{task['task_id']}/complete"
        return self.worker(path, {**body, "commands": list(commands)})

    def activity(self, task: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
        ident = {"activity_attempt_id": task["activity_attempt_id"], "lease_owner": "w1"}
        return self.worker(f"/activity-tasks/{task['task_id']}/{action}", {**ident, **body})


def _value(value: Any) -> dict[str, str]:
    return {"codec": "avro", "blob": encode_avro(value)}


def _activity(activity_type: str, queue: str, **extra: Any) -> dict[str, Any]:
    return {"type": "schedule_activity", "activity_type": activity_type, "queue": queue,
            "arguments": _value([activity_type]), **extra}  # fmt: skip


def _wait_for(api: Api, workflow_id: str, run_id: str, *event_types: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        seen = {e["event_type"] for e in _history(api, workflow_id, run_id)}
        if seen >= set(event_types):
            return
        time.sleep(0.1)
    raise AssertionError(f"{workflow_id}: {set(event_types) - seen} not recorded")


def _history(api: Api, workflow_id: str, run_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    params: dict[str, str] = {}
    while True:
        page = api.control("GET", f"/workflows/{workflow_id}/runs/{run_id}/history", params=params)
        assert page.status_code == 200, page.text
        events.extend(page.json()["events"])
        token = page.json().get("next_page_token")
        if not token:
            return events
        params = {"next_page_token": token}


def _activities_and_timers(driver: Driver) -> None:
    """Retry then heartbeat then success, final failure, start-to-close timeout, fired timer."""
    queue = "wf-acts"
    task = driver.begin(queue)
    driver.complete(
        task,
        _activity("retried", queue, retry_policy={"max_attempts": 2}),
        _activity("failing", queue),
        _activity("stalled", queue, start_to_close_timeout=1),
        {"type": "start_timer", "delay_seconds": 1},
    )
    leased = {t["activity_type"]: t for t in (driver.poll("activity-tasks", queue) for _ in "abc")}
    retry = {"message": "try again", "type": "Transient"}
    driver.activity(leased["retried"], "fail", failure=retry)
    driver.activity(leased["failing"], "fail", failure={"message": "no", "non_retryable": True})
    second = driver.poll("activity-tasks", queue)
    progress = {"message": "half", "current": 1, "total": 2, "unit": "steps"}
    beat = driver.activity(second, "heartbeat", **progress)
    assert beat["can_continue"] is True
    driver.activity(second, "complete", result=_value("done"))
    run_id = task["run_id"]
    _wait_for(driver.api, queue, run_id, "ActivityTimedOut", "TimerFired", "ActivityCompleted")
    final = driver.workflow_task(queue)
    driver.complete(final, {"type": "complete_workflow", "result": _value("ok")})


def _cancelled_with_open_work(driver: Driver) -> None:
    queue = "wf-cancel"
    task = driver.begin(queue)
    driver.complete(task, _activity("open", queue), {"type": "start_timer", "delay_seconds": 3600})
    leased = driver.poll("activity-tasks", queue)
    cancelled = driver.api.control("POST", f"/workflows/{queue}/cancel", json={"reason": "stop"})
    assert cancelled.status_code == 200, cancelled.text
    assert driver.activity(leased, "heartbeat")["can_continue"] is False


def _terminated_archived_and_restarted(driver: Driver) -> None:
    queue = "wf-term"
    driver.begin(queue)
    api = driver.api
    assert api.control("POST", f"/workflows/{queue}/terminate", json={"reason": "x"}).is_success
    assert api.control("POST", f"/workflows/{queue}/archive", json={"reason": "y"}).is_success
    assert api.control("POST", f"/workflows/{queue}/archive", json={}).is_success
    assert api.start(queue, task_queue=queue).status_code == 409  # StartRejected


def _failed(driver: Driver) -> None:
    task = driver.begin("wf-fail")
    failure = {"type": "fail_workflow", "message": "boom", "exception_type": "ValueError"}
    driver.complete(task, failure)


def _continued_then_completed(driver: Driver) -> None:
    queue = "wf-can"
    task = driver.begin(queue)
    driver.complete(task, {"type": "continue_as_new", "arguments": _value(["again"])})
    second = driver.workflow_task(queue)
    assert second["run_id"] != task["run_id"]
    driver.complete(second, {"type": "complete_workflow", "result": _value(None)})


def _repaired_and_reused(driver: Driver) -> None:
    queue = "wf-repair"
    task = driver.begin(queue)
    failed = {"lease_owner": "w1", "workflow_task_attempt": task["workflow_task_attempt"],
              "failure": {"message": "crash"}}  # fmt: skip
    driver.worker(f"/workflow-tasks/{task['task_id']}/fail", failed)
    api = driver.api
    assert api.control("POST", f"/workflows/{queue}/repair", json={}).json()["outcome"] == (
        "repair_dispatched"
    )
    assert api.control("POST", f"/workflows/{queue}/repair", json={}).json()["outcome"] == (
        "repair_not_needed"
    )
    reused = api.start(queue, task_queue=queue, duplicate_policy="use-existing")
    assert reused.json()["outcome"] == "returned_existing_active"


def _timed_out(driver: Driver) -> None:
    run_id = driver.api.start("wf-timeout", run_timeout_seconds=1).json()["run_id"]
    _wait_for(driver.api, "wf-timeout", run_id, "WorkflowTimedOut")


def _all_events(api: Api) -> list[dict[str, Any]]:
    listed = api.control("GET", "/workflows", params={"page_size": 100})
    assert listed.status_code == 200, listed.text
    events = []
    for workflow_id in {w["workflow_id"] for w in listed.json()["workflows"]}:
        runs = api.control("GET", f"/workflows/{workflow_id}/runs").json()["runs"]
        for run in runs:
            events.extend(_history(api, workflow_id, run["run_id"]))
    return events


def _check_payloads(events: list[dict[str, Any]]) -> set[str]:
    """Validate each event with a payload model; return the event types checked."""
    checked = set()
    for event in events:
        model = payload_model(event["event_type"])
        if model is None:
            continue
        history.HistoryEvent.model_validate(event, strict=True)
        model.model_validate(event["payload"], strict=True)
        # The models allow extra keys (for the snapshots); the contract's key list does not.
        known = set(model.model_fields) | SNAPSHOT_KEYS | EXTENSIONS.get(event["event_type"], set())
        assert set(event["payload"]) <= known, (event["event_type"], set(event["payload"]) - known)
        checked.add(event["event_type"])
    return checked


def test_every_lifecycle_payload_matches_its_contract_model(api: Api) -> None:
    driver = Driver(api)
    for scenario in (
        _activities_and_timers,
        _cancelled_with_open_work,
        _terminated_archived_and_restarted,
        _failed,
        _continued_then_completed,
        _repaired_and_reused,
        _timed_out,
    ):
        scenario(driver)
    control_events = _all_events(api)
    checked = _check_payloads(control_events)
    missing = set(LIFECYCLE_EVENTS) - checked
    assert not missing, f"never produced: {sorted(missing)}"
    assert _check_payloads(driver.worker_events) >= {"StartAccepted", "WorkflowStarted"}
    assert driver.worker_replies > 20


def test_payload_models_are_found_by_event_type() -> None:
    assert [payload_model(e) for e in LIFECYCLE_EVENTS] == list(LIFECYCLE_MODELS)
    assert payload_model("NoSuchEvent") is None
