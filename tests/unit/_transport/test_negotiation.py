"""Negotiation: generation, worker protocol version, payload framing and gates, read once."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from gen2_support import Gen2Server, cluster_info, worker_envelope

from durable_workflow import errors, serializer
from durable_workflow._transport._negotiation import (
    GEN2_WORKER_PROTOCOLS,
    GENERATION_ENV,
    PROTOCOL_VERSION_ENV,
    ServerProfile,
    assumed_profile,
    choose_worker_protocol,
    detect_generation,
    profile_from_cluster_info,
    v2_operation_for,
)
from durable_workflow.client import Client
from durable_workflow.retry_policy import TransportRetryPolicy

GEN1_INFO = json.loads(
    (
        Path(__file__).resolve().parents[4] / "shared" / "protocol" / "cluster-info.example.json"
    ).read_text()
)

pytestmark = pytest.mark.usefixtures("auto_generation")


def _client(server: Any, **options: Any) -> Client:
    return Client("http://dw.test", transport=httpx.MockTransport(server), **options)


def _blob_bytes(envelope: dict[str, Any]) -> bytes:
    return base64.b64decode(envelope["blob"])


# -- pure negotiation ------------------------------------------------------------


def test_the_0x_document_is_generation_1_and_a_2x_one_generation_2() -> None:
    assert detect_generation(GEN1_INFO)[0] == 1
    assert detect_generation(cluster_info())[0] == 2
    # A 2.x server is recognised by its catalogue even without a parseable version.
    info = cluster_info()
    info["worker_protocol"]["version"] = 1
    generation, evidence = detect_generation(info)
    assert generation == 2 and "catalogue" in evidence


@pytest.mark.parametrize(
    ("generation", "advertised", "chosen"),
    [
        (2, "1.20", "1.20"),
        (2, "1.19", "1.19"),  # what 2.x servers of late 2026 advertise
        (2, "1.25", "1.20"),  # a newer server: our newest
        (2, "2.0", "1.20"),  # another major: ours, and the fail-closed check objects
        (1, "1.1", "1.1"),
        (1, "1.0", "1.1"),
    ],
)
def test_the_highest_version_both_speak_is_sent(
    generation: int, advertised: str, chosen: str
) -> None:
    assert choose_worker_protocol(generation, advertised) == chosen


def test_the_2x_versions_are_the_vendored_specs() -> None:
    assert GEN2_WORKER_PROTOCOLS[0] == "1.0" and GEN2_WORKER_PROTOCOLS[-1] == "1.20"


def test_the_version_override_must_be_one_the_generation_speaks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PROTOCOL_VERSION_ENV, "1.19")
    assert profile_from_cluster_info(cluster_info()).worker_protocol_version == "1.19"
    monkeypatch.setenv(PROTOCOL_VERSION_ENV, "1.7")
    with pytest.raises(errors.InvalidArgument, match=PROTOCOL_VERSION_ENV):
        profile_from_cluster_info(GEN1_INFO)


def test_framing_follows_the_generation() -> None:
    assert profile_from_cluster_info(GEN1_INFO).framing == serializer.WRAPPER_FRAMING
    assert profile_from_cluster_info(cluster_info()).framing == serializer.VALUE_FRAMING


def test_2x_routes_map_to_the_2x_catalogue() -> None:
    assert v2_operation_for("POST", "/api/workflows/w/runs/r/signal/go").name == (  # type: ignore[union-attr]
        "commandWorkflowRunByName"
    )
    assert v2_operation_for("POST", "/api/schedules/s/pause").name == "scheduleAction"  # type: ignore[union-attr]
    assert v2_operation_for("GET", "/api/workflows/w/runs/r/history").name == (  # type: ignore[union-attr]
        "getWorkflowRunHistory"
    )
    assert v2_operation_for("POST", "/api/activities") is None


# -- gates -------------------------------------------------------------------------


def test_a_capability_the_2x_server_does_not_advertise_is_refused_with_its_name() -> None:
    profile = profile_from_cluster_info(cluster_info(schedules=False))
    assert not profile.supports("schedules")
    with pytest.raises(errors.UnsupportedServerCapability) as caught:
        profile.require("schedules")
    assert caught.value.capability == "schedules"
    assert "capabilities.schedules is False" in str(caught.value)
    # Absent on a 2.x server (the envelope requires it): not offered either.
    info = cluster_info()
    del info["capabilities"]["updates"]
    assert not profile_from_cluster_info(info).supports("updates")


def test_an_absent_flag_on_a_0x_server_is_offered_as_upstream_assumed() -> None:
    info = dict(GEN1_INFO, capabilities={})
    assert profile_from_cluster_info(info).supports("schedules")
    assert (
        profile_from_cluster_info(dict(info, capabilities={"schedules": False})).supports(
            "schedules"
        )
        is False
    )


def test_a_feature_needing_a_newer_minor_names_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PROTOCOL_VERSION_ENV, "1.12")
    profile = profile_from_cluster_info(cluster_info())
    with pytest.raises(errors.UnsupportedServerCapability) as caught:
        profile.require("update_validation_tasks")
    assert caught.value.required_version == "1.13"
    assert ">= 1.13" in str(caught.value)
    monkeypatch.delenv(PROTOCOL_VERSION_ENV)
    profile_from_cluster_info(cluster_info()).require("update_validation_tasks")


def test_generation_only_features() -> None:
    with pytest.raises(errors.UnsupportedServerCapability, match="only on generation 2"):
        profile_from_cluster_info(GEN1_INFO).require("worker_deregistration")
    assert profile_from_cluster_info(cluster_info()).supports("worker_deregistration")
    assert isinstance(errors.UnsupportedServerCapability("x"), errors.IncompatibleServerError)


# -- the client ----------------------------------------------------------------------


async def test_a_2x_server_gets_value_frames_and_its_version_discovered_once() -> None:
    server = Gen2Server()
    server.on(
        "POST", "/api/workflows", {"workflow_id": "w", "run_id": "r", "outcome": "started_new"}
    )
    server.on("POST", "/api/workflows/w/signal/go", {"outcome": "signal_received"}, status=202)
    server.on("POST", "/api/worker/heartbeat", worker_envelope())
    async with _client(server) as client:
        await asyncio.gather(
            client.start_workflow(
                workflow_type="t", task_queue="q", workflow_id="w", input=["Ada", (1, 2)]
            ),
            client.signal_workflow("w", "go", args=[b"\x00raw"]),
            client.heartbeat_worker(worker_id="wk"),
        )
        profile = await client.server_profile()
    assert len(server.sent("/api/cluster/info")) == 1
    assert (profile.generation, profile.worker_protocol_version, profile.source) == (
        2,
        "1.20",
        "discovered",
    )
    (start,) = server.bodies("/api/workflows")
    assert _blob_bytes(start["input"])[:2] == b"\xc3\x01"
    assert serializer.decode_envelope(start["input"]) == ["Ada", [1, 2]]
    (signal,) = server.bodies("/api/workflows/w/signal/go")
    assert serializer.decode_envelope(signal["input"]) == [b"\x00raw"]
    (heartbeat,) = server.sent("/api/worker/heartbeat")
    assert heartbeat.headers["X-Durable-Workflow-Protocol-Version"] == "1.20"
    assert client.converter.framing == serializer.VALUE_FRAMING


async def test_a_0x_server_keeps_todays_wire() -> None:
    server = Gen2Server(GEN1_INFO)
    server.on("POST", "/api/workflows", {"workflow_id": "w", "run_id": "r"})
    server.on("POST", "/api/worker/heartbeat", {"acknowledged": True})
    async with _client(server) as client:
        await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="w", input=[1])
        await client.heartbeat_worker(worker_id="wk")
    (start,) = server.bodies("/api/workflows")
    assert start["input"] == serializer.envelope([1])
    assert (
        server.sent("/api/worker/heartbeat")[0].headers["X-Durable-Workflow-Protocol-Version"]
        == "1.1"
    )


async def test_without_discovery_the_0x_line_is_assumed() -> None:
    server = Gen2Server()
    server.info = {}  # routed below as an error status instead

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/cluster/info":
            return httpx.Response(404, json={"reason": "not_found"})
        return server(request)

    server.on("POST", "/api/workflows", {"workflow_id": "w", "run_id": "r"})
    async with Client("http://dw.test", transport=httpx.MockTransport(handler)) as client:
        await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="w", input=[1])
        profile = await client.server_profile()
    assert (profile.generation, profile.source) == (1, "assumed")
    assert server.bodies("/api/workflows")[0]["input"] == serializer.envelope([1])


async def test_an_unreachable_server_is_asked_again_next_time() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=cluster_info())

    async with Client(
        "http://dw.test",
        transport=httpx.MockTransport(handler),
        retry_policy=TransportRetryPolicy(max_attempts=1),
    ) as client:
        with pytest.raises(errors.TransportError):
            await client.server_profile()
        assert (await client.server_profile()).generation == 2


@pytest.mark.parametrize("how", ["argument", "environment"])
async def test_a_forced_generation_sends_no_discovery(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Gen2Server(GEN1_INFO)  # discovery would say 0.x
    server.on("POST", "/api/workflows", {"workflow_id": "w", "run_id": "r"})
    options: dict[str, Any] = {}
    if how == "argument":
        options["server_generation"] = 2
    else:
        monkeypatch.setenv(GENERATION_ENV, "2")
    async with _client(server, **options) as client:
        await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="w", input=[1])
        profile = await client.server_profile()
    assert server.sent("/api/cluster/info") == []
    assert (profile.generation, profile.source, profile.worker_protocol_version) == (
        2,
        "forced",
        "1.20",
    )
    assert _blob_bytes(server.bodies("/api/workflows")[0]["input"])[:2] == b"\xc3\x01"


def test_a_bad_generation_is_refused_naming_the_option() -> None:
    with pytest.raises(errors.InvalidArgument, match="server_generation"):
        Client("http://dw.test", server_generation=3)


async def test_an_operation_the_2x_catalogue_lacks_is_refused_before_sending() -> None:
    server = Gen2Server()
    async with _client(server) as client:
        with pytest.raises(errors.UnsupportedServerCapability) as caught:
            await client.start_activity(activity_type="a", task_queue="q")
    assert caught.value.capability == "operation:POST /api/activities"
    assert caught.value.generation == 2
    assert [r.url.path for r in server.requests] == ["/api/cluster/info"]


async def test_a_feature_the_server_turned_off_is_refused_before_sending() -> None:
    server = Gen2Server(cluster_info(updates=False))
    async with _client(server) as client:
        with pytest.raises(errors.UnsupportedServerCapability, match="updates"):
            await client.update_workflow("w", "set", args=[1])
    assert [r.url.path for r in server.requests] == ["/api/cluster/info"]


def test_an_assumed_profile_offers_control_features_and_no_worker_flags() -> None:
    profile = assumed_profile(None, "test")
    assert isinstance(profile, ServerProfile)
    assert profile.supports("signals") and not profile.supports("query_tasks")


async def test_a_payload_codec_chain_is_refused_by_a_2x_server() -> None:
    from durable_workflow.codecs import GzipCodec

    server = Gen2Server()
    async with _client(server, payload_codec=GzipCodec()) as client:
        with pytest.raises(errors.UnsupportedServerCapability, match="payload_codec_chain"):
            await client.start_workflow(workflow_type="t", task_queue="q", workflow_id="w")
    assert [r.url.path for r in server.requests] == ["/api/cluster/info"]
