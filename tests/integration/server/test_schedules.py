"""Schedules over real HTTP (control-plane.md §9), fired by the server's own loop."""

from __future__ import annotations

import time
from typing import Any

from server_http_helpers import Api, check_model

SPEC = {"cron_expressions": ["0 9 * * *"], "timezone": "Europe/Paris"}
ACTION = {"workflow_type": "report", "task_queue": "q", "input": ["x"]}


def _create(api: Api, schedule_id: str = "daily", **extra: Any) -> Any:
    body = {"schedule_id": schedule_id, "spec": SPEC, "action": ACTION, **extra}
    return api.control("POST", "/schedules", json=body)


def test_create_describe_list_update_delete(api: Api) -> None:
    created = _create(api, jitter_seconds=5, max_runs=3, note="hello")
    assert created.status_code == 201, created.text
    check_model("schedule.create", created)
    assert _create(api).json()["reason"] == "schedule_already_exists"
    described = api.control("GET", "/schedules/daily")
    check_model("schedule.describe", described)
    body = described.json()
    assert body["spec"] == SPEC and body["state"]["status"] == "active"
    assert body["info"]["next_fire"] is not None and body["remaining_actions"] == 3
    assert body["next_fire_at"] == body["info"]["next_fire"]
    listed = api.control("GET", "/schedules")
    check_model("schedule.list", listed)
    (item,) = listed.json()["schedules"]
    assert item["schedule_id"] == "daily" and item["jitter_seconds"] == 5
    updated = api.control("PUT", "/schedules/daily", json={"action": {"task_queue": "other"}})
    assert updated.json()["outcome"] == "updated"
    action = api.control("GET", "/schedules/daily").json()["action"]
    assert action["task_queue"] == "other" and action["workflow_type"] == "report"
    deleted = api.control("DELETE", "/schedules/daily")
    assert deleted.json()["outcome"] == "deleted"
    assert api.control("GET", "/schedules/daily").status_code == 404
    history = api.control("GET", "/schedules/daily/history")
    check_model("schedule.history", history)
    types = [e["event_type"] for e in history.json()["events"]]
    assert types == ["ScheduleCreated", "ScheduleUpdated", "ScheduleDeleted"]
    assert _create(api).status_code == 201  # a deleted id can be recreated


def test_validation_errors(api: Api) -> None:
    bad_cron = _create(api, spec={"cron_expressions": ["nope"]})
    assert bad_cron.status_code == 422
    empty_spec = api.control("POST", "/schedules", json={"spec": {"timezone": "UTC"},
                                                         "action": ACTION})  # fmt: skip
    assert empty_spec.status_code == 422
    bad_zone = _create(api, spec={"cron_expressions": ["* * * * *"], "timezone": "Mars/Base"})
    assert bad_zone.status_code == 422
    big_memo = _create(api, memo={"x": "y" * 300_000})
    assert big_memo.status_code == 422 and big_memo.json()["reason"] == "memo_too_large"
    assert api.control("GET", "/schedules/missing").json()["reason"] == "schedule_not_found"
    _create(api)
    after = api.control("GET", "/schedules/daily/history", params={"after_sequence": "-1"})
    assert after.json()["reason"] == "invalid_after_sequence"
    backwards = api.control("POST", "/schedules/daily/backfill", json={
        "start_time": "2026-04-21T00:00:00Z", "end_time": "2026-04-20T00:00:00Z"})  # fmt: skip
    assert backwards.json()["reason"] == "invalid_time_range"


def test_trigger_overlap_pause_and_max_runs(api: Api) -> None:
    _create(api, max_runs=2)
    first = api.control("POST", "/schedules/daily/trigger", json={})
    check_model("schedule.trigger", first)
    assert first.json()["outcome"] == "triggered" and first.json()["workflow_id"]
    skipped = api.control("POST", "/schedules/daily/trigger", json={})
    assert skipped.json() == {**skipped.json(), "outcome": "skipped",
                              "reason": "overlap_policy_skip"}  # fmt: skip
    buffered = api.control("POST", "/schedules/daily/trigger",
                           json={"overlap_policy": "buffer_one"})  # fmt: skip
    assert buffered.json()["outcome"] == "buffered" and buffered.json()["buffer_depth"] == 1
    paused = api.control("POST", "/schedules/daily/pause", json={"note": "hold"})
    assert paused.json()["outcome"] == "paused"
    not_now = api.control("POST", "/schedules/daily/trigger", json={})
    assert not_now.json()["reason"] == "status_not_triggerable"
    assert api.control("POST", "/schedules/daily/resume", json={}).json()["outcome"] == "resumed"
    second = api.control("POST", "/schedules/daily/trigger", json={"overlap_policy": "allow_all"})
    assert second.json()["outcome"] == "triggered"
    assert api.control("GET", "/schedules/daily").status_code == 404  # max_runs exhausted


def test_backfill_starts_one_workflow_per_fire_time(api: Api) -> None:
    _create(api, overlap_policy="allow_all")
    result = api.control("POST", "/schedules/daily/backfill", json={
        "start_time": "2026-04-20T00:00:00Z", "end_time": "2026-04-23T00:00:00Z"})  # fmt: skip
    assert result.status_code == 200, result.text
    check_model("schedule.backfill", result)
    body = result.json()
    assert body["fires_attempted"] == 3
    assert [r["fire_time"] for r in body["results"]] == [
        "2026-04-20T07:00:00+00:00", "2026-04-21T07:00:00+00:00", "2026-04-22T07:00:00+00:00",
    ]  # fmt: skip
    assert all(r["outcome"] == "started" for r in body["results"])


def test_interval_schedule_is_fired_by_the_server_loop(api: Api) -> None:
    api.control("POST", "/schedules", json={
        "schedule_id": "tick", "spec": {"intervals": [{"every": "PT1S"}]}, "action": ACTION,
        "overlap_policy": "allow_all"})  # fmt: skip
    deadline = time.monotonic() + 10
    fired = 0
    while time.monotonic() < deadline and fired < 2:
        fired = api.control("GET", "/schedules/tick").json()["info"]["fires_count"]
        time.sleep(0.2)
    assert fired >= 2
    listed = api.control("GET", "/workflows", params={"workflow_type": "report"})
    assert listed.json()["workflow_count"] >= 2
