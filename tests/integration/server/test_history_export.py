"""History export bundles (control-plane.md §8.2) pass the SDK's own bundle verifier."""

from __future__ import annotations

from pathlib import Path

import httpx
from server_http_helpers import CONTROL, Api, check_model

from durable_workflow.history_bundle_verify import verify_bundle, verify_bundle_json
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.app import DevServer


def test_export_of_a_non_ascii_run_verifies_and_is_ascii_on_the_wire(api: Api) -> None:
    started = api.start("wf-1", input=["Zoë 🚀"], memo={"note": "naïve"})
    run_id = started.json()["run_id"]
    api.control("POST", "/workflows/wf-1/signal/poke", json={"input": ["ü"]})
    response = api.control("GET", f"/workflows/wf-1/runs/{run_id}/history/export")
    assert response.status_code == 200, response.text
    check_model("workflow.history_export", response)
    assert response.content.isascii()
    report = verify_bundle_json(response.content)
    assert report["summary"]["errors"] == 0, report["findings"]
    assert report["integrity"]["checksum_matches"] is True
    bundle = response.json()
    assert list(bundle)[-1] == "integrity" and "control_plane" not in bundle
    assert bundle["history_complete"] is False
    assert [e["type"] for e in bundle["history_events"]] == [
        "StartAccepted", "WorkflowStarted", "SignalReceived",
    ]  # fmt: skip
    assert bundle["workflow"]["instance_id"] == "wf-1"
    assert bundle["codec_schemas"]["avro"]["wrapper_prefix_hex"] == "00"
    tampered = dict(bundle, exported_at="2000-01-01T00:00:00Z")
    assert verify_bundle(tampered)["status"] == "failed"


def test_export_of_an_unknown_run_is_404(api: Api) -> None:
    api.start()
    response = api.control("GET", "/workflows/wf-1/runs/nope/history/export")
    assert response.status_code == 404 and response.json()["reason"] == "run_not_found"


async def test_signed_export_verifies_with_the_key(tmp_path: Path) -> None:
    config = ServerConfig(
        db_path=tmp_path / "s.sqlite", export_signing_key="k3y", export_signing_key_id="kid-1"
    )
    dev = DevServer(config)
    transport = httpx.ASGITransport(app=dev.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dev") as http:
        start = {"workflow_id": "wf-1", "workflow_type": "greeting", "task_queue": "q"}
        run_id = (await http.post("/api/workflows", json=start, headers=CONTROL)).json()["run_id"]
        response = await http.get(f"/api/workflows/wf-1/runs/{run_id}/history/export",
                                  headers=CONTROL)  # fmt: skip
    dev.store.close()
    bundle = response.json()
    assert bundle["integrity"]["signature_algorithm"] == "hmac-sha256"
    assert bundle["integrity"]["key_id"] == "kid-1"
    assert verify_bundle(bundle, signing_key="k3y")["integrity"]["signature_verified"] is True
    assert verify_bundle(bundle, signing_key="wrong")["status"] == "failed"
