"""The bridge adapter webhook (control-plane.md §14): outcome documents for every case."""

from __future__ import annotations

import httpx
from server_http_helpers import Api, check_model

from durable_workflow._generated import manifest


def _send(api: Api, body: dict[str, object], adapter: str = "stripe") -> httpx.Response:
    return api.control("POST", f"/bridge-adapters/webhook/{adapter}", json=body)


def test_start_then_duplicate_start(api: Api) -> None:
    body = {"action": "start_workflow", "idempotency_key": "evt-1",
            "target": {"workflow_type": "greeting", "task_queue": "q"}, "input": ["Ada"],
            "correlation": {"request": "r1"}}  # fmt: skip
    first = _send(api, body)
    assert first.status_code == 202, first.text
    check_model("bridge.webhook", first)
    doc = first.json()
    assert doc["schema"] == manifest.BRIDGE_ADAPTER_OUTCOME_CONTRACT_SCHEMA
    assert doc["outcome"] == "accepted" and doc["control_plane_outcome"] == "started_new"
    assert doc["workflow_id"].startswith("bridge-stripe-") and doc["correlation"] == {
        "request": "r1"
    }
    again = _send(api, body).json()
    assert again["outcome"] == "duplicate" and again["reason"] == "duplicate_start"


def test_signal_redelivery_is_deduplicated(api: Api) -> None:
    api.start()
    body = {"action": "signal_workflow", "idempotency_key": "evt-2",
            "target": {"workflow_id": "wf-1", "signal_name": "paid"}, "input": [1]}  # fmt: skip
    first = _send(api, body)
    assert first.status_code == 202
    assert first.json()["control_plane_outcome"] == "signal_received"
    second = _send(api, body)
    assert second.status_code == 200
    assert second.json()["control_plane_outcome"] == "deduped_existing_command"


def test_rejections(api: Api) -> None:
    bad_key = _send(api, {"action": "start_workflow"}, adapter="bad%20key").json()
    assert bad_key["reason"] == "unsupported_routing"
    action = _send(api, {"action": "handoff_external_task"}).json()
    assert action["reason"] == "unsupported_action"
    malformed = _send(api, {"action": "signal_workflow", "idempotency_key": "k",
                            "target": {}})  # fmt: skip
    assert malformed.status_code == 422
    assert malformed.json()["reason"] == "malformed_payload"
    assert "target.workflow_id" in malformed.json()["errors"]
    target = {"workflow_id": "ghost", "update_name": "u"}
    unknown = _send(api, {"action": "update_workflow", "idempotency_key": "k", "target": target})
    unknown = unknown.json()
    assert unknown["reason"] == "unknown_target" and unknown["accepted"] is False
