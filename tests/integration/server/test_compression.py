"""Response compression (gzip / raw deflate) and compressed history pages."""

from __future__ import annotations

import base64
import gzip
import json
import zlib

import httpx
from server_http_helpers import Api


def test_large_responses_are_gzip_or_raw_deflate(api: Api) -> None:
    for encoding in ("gzip", "deflate"):
        raw = httpx.get(api.handle.url + "/api/cluster/info", headers={"Accept-Encoding": encoding})
        assert raw.headers["content-encoding"] == encoding
        assert raw.headers["vary"] == "Accept-Encoding"
        assert raw.json()["control_plane"]["version"] == "2"
    with httpx.Client() as client:
        request = client.build_request(
            "GET", api.handle.url + "/api/cluster/info", headers={"Accept-Encoding": "deflate"}
        )
        response = client.send(request, stream=True)
        body = b"".join(response.iter_raw())
        response.close()
    assert json.loads(zlib.decompress(body, wbits=-15))["version"]
    small = httpx.get(api.handle.url + "/api/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    tie = httpx.get(api.handle.url + "/api/cluster/info", headers={"Accept-Encoding": "*"})
    assert tie.headers["content-encoding"] == "gzip"


def test_history_pages_are_compressed_when_asked_and_large(api: Api) -> None:
    api.start()
    api.register()
    task = api.worker("/workflow-tasks/poll", {"worker_id": "w1", "task_queue": "q"}).json()["task"]
    commands = [{"type": "record_side_effect", "result": "AAhudWxsAg=="} for _ in range(60)]
    done = api.worker(
        f"/workflow-tasks/{task['task_id']}/complete",
        {"lease_owner": "w1", "workflow_task_attempt": 1,
         "commands": [*commands, {"type": "start_timer", "delay_seconds": 0}]},
    )  # fmt: skip
    assert done.status_code == 200
    fired = None
    for _ in range(3):
        fired = api.worker(
            "/workflow-tasks/poll",
            {"worker_id": "w1", "task_queue": "q", "accept_history_encoding": "deflate,gzip"},
        ).json()["task"]
        if fired is not None:
            break
    assert fired is not None
    assert fired["history_events"] == [] and fired["history_events_encoding"] == "gzip"
    events = json.loads(gzip.decompress(base64.b64decode(fired["history_events_compressed"])))
    assert len(events) == fired["total_history_events"] == 64
