"""What differs between the server generations, in one object the HTTP pipeline asks.

Generation 1 is the 0.x line (worker protocol 1.1, the protocol reference in
``contracts/``); generation 2 is the 2.x line of ``contracts/server-2.x``. Both
run the same engine: a profile only decides the edge -- the versions negotiated,
the capabilities advertised, the cluster-info document, request checks before the
engine (spec validation, payload codec) and the extra operations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from durable_workflow._dev_operations import CLOSED_RUNS
from durable_workflow._generated import manifest
from durable_workflow._generated.operations import OperationSpec
from durable_workflow.server.config import ServerConfig
from durable_workflow.server.engine.errors import Outcome
from durable_workflow.server.http import cluster_info as gen1_info
from durable_workflow.server.http.closed_runs_routes import closed_runs

if TYPE_CHECKING:
    from durable_workflow.server.http.app import Handler

ClusterInfo = Callable[[ServerConfig, dict[str, Any]], dict[str, Any]]
RequestCheck = Callable[[str, str, Any], Outcome | None]


def _no_check(_method: str, _path: str, _body: Any) -> Outcome | None:
    return None


@dataclass(frozen=True)
class Profile:
    generation: int
    worker_protocol_version: str
    accepted_worker_versions: tuple[str, ...]
    capabilities: dict[str, Any]
    cluster_info: ClusterInfo
    # Runs after the version and namespace checks, before the handler.
    request_error: RequestCheck = _no_check
    extra_operations: tuple[OperationSpec, ...] = ()
    handlers: dict[str, Handler] = field(default_factory=dict)


def profile_for(config: ServerConfig) -> Profile:
    if config.generation == 2:
        from durable_workflow.server.http.gen2.profile import generation_2

        return generation_2(config)
    return Profile(
        generation=1,
        worker_protocol_version=manifest.WORKER_PROTOCOL_VERSION,
        accepted_worker_versions=manifest.ACCEPTED_WORKER_PROTOCOL_VERSIONS,
        capabilities=gen1_info.server_capabilities(config),
        cluster_info=gen1_info.cluster_info,
        # The dev extensions' own routes (``_dev_extensions.GEN1_ONLY``).
        extra_operations=(CLOSED_RUNS,),
        handlers={CLOSED_RUNS.name: closed_runs},
    )
