"""The ASGI app in-process (no socket): unexpected errors and check-order details."""

from __future__ import annotations

from pathlib import Path

import httpx

from durable_workflow._generated import manifest
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.app import Call, DevServer

CONTROL = {manifest.CONTROL_PLANE_HEADER: manifest.CONTROL_PLANE_VERSION}


async def test_unexpected_exception_is_a_json_500_not_a_traceback(tmp_path: Path) -> None:
    server = DevServer(ServerConfig(db_path=tmp_path / "dev.sqlite"))

    async def explode(call: Call) -> tuple[int, dict[str, object]]:
        raise RuntimeError("secret internals")

    server.handlers["namespace.list"] = explode
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dev") as client:
        response = await client.get("/api/namespaces", headers=CONTROL)
    server.store.close()
    assert response.status_code == 500
    assert response.json()["reason"] == "server_error"
    assert "secret internals" not in response.text
    assert response.headers[manifest.CONTROL_PLANE_HEADER] == manifest.CONTROL_PLANE_VERSION


async def test_version_check_wins_over_namespace_and_validation(tmp_path: Path) -> None:
    server = DevServer(ServerConfig(db_path=tmp_path / "dev.sqlite"))
    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dev") as client:
        response = await client.post("/api/workflows", json={}, headers={"X-Namespace": "missing"})
        namespace_first = await client.post(
            "/api/workflows", json={}, headers={**CONTROL, "X-Namespace": "missing"}
        )
    server.store.close()
    assert response.json()["reason"] == "missing_control_plane_version"
    assert namespace_first.json()["reason"] == "namespace_not_found"


async def test_worker_responses_end_with_the_servers_capabilities(tmp_path: Path) -> None:
    """The block is serialized once and spliced into every worker response, after the
    handler's fields; a handler that sends its own block keeps it."""
    server = DevServer(ServerConfig(db_path=tmp_path / "dev.sqlite"))
    worker = {manifest.WORKER_PROTOCOL_HEADER: manifest.WORKER_PROTOCOL_VERSION}
    body = {
        "worker_id": "w1",
        "task_queue": "q",
        "runtime": "python",
        "supported_workflow_types": ["t"],
    }

    async def empty(call: Call) -> tuple[int, dict[str, object]]:
        return 200, {}

    async def own(call: Call) -> tuple[int, dict[str, object]]:
        return 200, {"server_capabilities": {"mine": True}}

    transport = httpx.ASGITransport(app=server.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dev") as client:
        registered = await client.post("/api/worker/register", json=body, headers=worker)
        server.handlers["worker.register"] = empty
        bare = await client.post("/api/worker/register", json=body, headers=worker)
        server.handlers["worker.register"] = own
        kept = await client.post("/api/worker/register", json=body, headers=worker)
    server.store.close()
    first = registered.json()
    assert list(first)[-2:] == ["protocol_version", "server_capabilities"]
    assert first["server_capabilities"] == server.capabilities
    assert bare.json() == {
        "protocol_version": server.profile.worker_protocol_version,
        "server_capabilities": server.capabilities,
    }
    assert kept.json()["server_capabilities"] == {"mine": True}


async def test_history_wait_for_close_is_a_generation_1_extension(tmp_path: Path) -> None:
    """Advertised in generation 1's ``capabilities.extensions`` (never on generation 2);
    its value is checked like ``wait_new_event``'s."""
    for generation in (1, 2):
        config = ServerConfig(db_path=tmp_path / f"gen{generation}.sqlite", generation=generation)
        server = DevServer(config)
        transport = httpx.ASGITransport(app=server.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dev") as client:
            info = (await client.get("/api/cluster/info")).json()
            started = await client.post(
                "/api/workflows",
                json={"workflow_id": "wf", "workflow_type": "t", "task_queue": "q"},
                headers=CONTROL,
            )
            run_id = started.json()["run_id"]
            refused = await client.get(
                f"/api/workflows/wf/runs/{run_id}/history",
                params={"wait_for_close": "yes"},
                headers=CONTROL,
            )
        server.store.close()
        extensions = info.get("capabilities", {}).get("extensions", [])
        if generation == 1:
            assert "history_wait_for_close" in extensions
            assert refused.status_code == 422
            assert "wait_for_close" in refused.json()["errors"]
        else:
            assert "history_wait_for_close" not in extensions
