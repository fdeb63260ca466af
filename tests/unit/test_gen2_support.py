"""The 2.x fixtures of the unit tests are what the vendored specs describe."""

from __future__ import annotations

from typing import Any

import jsonschema
from gen2_support import SPECS, cluster_info, load_schema, server_capabilities, worker_envelope
from referencing import Registry, Resource

from durable_workflow._generated.v2.models import worker_protocol as v2


def _envelope_validator() -> jsonschema.Draft202012Validator:
    schema: Any = load_schema("cluster-info-envelope.schema.json")
    # The envelope types worker_protocol.version as an integer while the worker protocol
    # document (and every 2.x server and SDK) uses the "1.N" string the negotiation rule
    # compares; the worker protocol document is the authority on its own version.
    worker_protocol = schema["properties"]["worker_protocol"]["properties"]
    worker_protocol["version"] = {"type": "string"}
    # Likewise server_capabilities.local_activities: the envelope points at the PHP
    # runtime's local-activity contract, the worker protocol document (which the SDK
    # reads, WorkerServerCapabilities) at its portable LocalActivityCapability.
    del worker_protocol["server_capabilities"]["properties"]["local_activities"]
    registry: Registry[Any] = Registry()
    for path in SPECS.glob("*.schema.json"):
        registry = registry.with_resource(path.name, Resource.from_contents(load_schema(path.name)))
    return jsonschema.Draft202012Validator(schema, registry=registry)


def test_cluster_info_is_a_valid_2x_envelope() -> None:
    validator = _envelope_validator()
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(cluster_info())]
    assert errors == []


def test_server_capabilities_are_the_generated_model() -> None:
    v2.WorkerServerCapabilities.model_validate(server_capabilities())
    v2.WorkerEnvelope.model_validate(worker_envelope(task=None))
