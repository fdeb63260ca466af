"""Which server generation is this, and what may the SDK do with it? (``/api/cluster/info``)

The SDK speaks two server generations (docs/compat.md, "Which server?"): the 0.x line
(worker protocol 1.1, ``avro`` = the ``0x00`` wrapper) and the 2.x line (worker protocol
up to 1.20, ``avro`` = the single-object ``Value`` frame). A client reads the discovery
document once and keeps a :class:`ServerProfile`: the generation, the worker protocol
version it sends (the highest both sides speak), the payload framing it writes, and the
capabilities that gate features. The facts come from the contracts: generation 1's from
``contracts/manifest.json`` (the generated ``manifest``), generation 2's from the vendored
2.x specs (the generated ``v2`` models and operation catalogue).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from durable_workflow import errors, serializer
from durable_workflow._generated import manifest as _manifest
from durable_workflow._generated.v2.models import worker_protocol as _v2
from durable_workflow._generated.v2.operations import OPERATIONS as V2_OPERATIONS
from durable_workflow._generated.v2.operations import OperationSpec as V2OperationSpec

__all__ = [
    "FEATURES",
    "GEN1_WORKER_PROTOCOL",
    "GEN2_DEFAULT_WORKER_PROTOCOL",
    "GEN2_WORKER_PROTOCOLS",
    "GENERATION_ENV",
    "PROTOCOL_VERSION_ENV",
    "Feature",
    "ServerProfile",
    "assumed_profile",
    "choose_worker_protocol",
    "contracts_of",
    "detect_generation",
    "feature_for_route",
    "forced_generation",
    "literal_values",
    "profile_from_cluster_info",
    "v2_operation_for",
    "version_pair",
]

#: Force a generation without code changes: ``1``, ``2`` or ``auto`` (the default).
GENERATION_ENV: Final = "DURABLE_WORKFLOW_SERVER_GENERATION"
#: Override the worker protocol version sent (upstream 2.12.0 reads the same variable).
PROTOCOL_VERSION_ENV: Final = "DURABLE_WORKFLOW_WORKER_PROTOCOL_VERSION"

#: The one worker protocol version this SDK speaks to a 0.x server.
GEN1_WORKER_PROTOCOL: Final = str(_manifest.WORKER_PROTOCOL_VERSION)


def literal_values(model: Any, name: str = "root") -> tuple[str, ...]:
    """The values a generated model's ``Literal`` field admits (facts from the specs)."""
    annotation = model.model_fields[name].annotation
    values = get_args(annotation)
    # ``Literal[...] | None`` wraps the literal one level deeper.
    if values and not isinstance(values[0], str):
        values = tuple(v for arg in values for v in get_args(arg) if isinstance(v, str))
    return tuple(str(v) for v in values)


#: Request versions a 2.x server accepts (the vendored spec's negotiation rule).
GEN2_WORKER_PROTOCOLS: Final = literal_values(_v2.AcceptedWorkerProtocolRequestVersion)
#: What the vendored spec says a 2.x server advertises by default.
GEN2_DEFAULT_WORKER_PROTOCOL: Final = literal_values(_v2.WorkerEnvelope, "protocol_version")[0]
_UPDATE_VALIDATION_MINIMUM = literal_values(
    _v2.SynchronousUpdateValidationCapability, "minimum_protocol_version"
)[0]


def version_pair(value: object) -> tuple[int, int] | None:
    """``"1.20"`` -> ``(1, 20)``; anything that is not MAJOR.MINOR -> ``None``."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    parts = str(value).strip().split(".")
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        return None
    return int(parts[0]), int(parts[1])


_CATALOG_SCHEMA_V2 = "durable-workflow.v2.platform-protocol-specs.catalog"


def detect_generation(info: Mapping[str, Any]) -> tuple[int, str]:
    """The generation a discovery document describes, and the evidence for it.

    A 2.x server publishes its platform protocol-spec catalogue (the 2.x envelope
    requires it) and update-validation tasks (``WorkerServerCapabilities`` requires
    them, from worker protocol 1.13 on), so it advertises at least 1.13; the 0.x
    line published none of these and advertised 1.0/1.1.
    """
    catalog = info.get("platform_protocol_specs")
    if isinstance(catalog, Mapping) and catalog.get("schema") == _CATALOG_SCHEMA_V2:
        return 2, "platform_protocol_specs is the 2.x catalogue"
    worker_protocol = info.get("worker_protocol")
    worker_protocol = worker_protocol if isinstance(worker_protocol, Mapping) else {}
    advertised = worker_protocol.get("version")
    pair, floor = version_pair(advertised), version_pair(_UPDATE_VALIDATION_MINIMUM)
    if pair is not None and floor is not None and pair[0] == floor[0] and pair >= floor:
        return 2, f"worker_protocol.version {advertised} is a 2.x line version"
    capabilities = worker_protocol.get("server_capabilities")
    if isinstance(capabilities, Mapping) and capabilities.get("update_validation_tasks") is True:
        return 2, "worker_protocol.server_capabilities offers update-validation tasks"
    return 1, f"worker_protocol.version {advertised!r} and no 2.x catalogue: the 0.x line"


def contracts_of(generation: int) -> str:
    """Where the contracts a server of ``generation`` is judged by live in the repository."""
    return "contracts/server-2.x" if generation == 2 else "contracts/manifest.json"


def choose_worker_protocol(generation: int, advertised: object, override: str | None = None) -> str:
    """The version to send: the highest this SDK speaks that the server accepts.

    A server accepts the same major with a minor up to what it advertises. Where
    nothing fits (an older 0.x server, another major) the SDK's own version is
    sent and the fail-closed check reports the mismatch. ``override`` (the
    ``DURABLE_WORKFLOW_WORKER_PROTOCOL_VERSION`` variable) wins when it is one of
    the generation's versions.
    """
    ours = (GEN1_WORKER_PROTOCOL,) if generation == 1 else GEN2_WORKER_PROTOCOLS
    if override is not None:
        if override not in ours:
            raise errors.InvalidArgument(
                f"{PROTOCOL_VERSION_ENV}={override!r} is not a worker protocol version this "
                f"SDK speaks to a generation {generation} server ({', '.join(ours)})",
                {PROTOCOL_VERSION_ENV: ["unsupported version"]},
            )
        return override
    theirs = version_pair(advertised)
    fitting = [
        v
        for v in ours
        if theirs is not None
        and (pair := version_pair(v)) is not None
        and pair[0] == theirs[0]
        and pair[1] <= theirs[1]
    ]
    if fitting:
        return max(fitting, key=lambda v: version_pair(v) or (0, 0))
    return ours[-1] if generation == 1 else GEN2_DEFAULT_WORKER_PROTOCOL


@dataclass(frozen=True)
class Feature:
    """Something the SDK may use only when the server offers it.

    ``generations``: where it exists at all; ``minimum_version``: the worker
    protocol version it needs (2.x minors); ``flag``: the path in the discovery
    document that must be ``true`` (``None``: existence is enough);
    ``absent_is_offered``: a 0.x server (or one never asked) that lacks the flag
    is taken to offer the feature, as upstream 0.4.53 assumed; the 2.x envelope
    requires the flag, so its absence there means "not offered".
    """

    name: str
    generations: frozenset[int]
    minimum_version: str | None = None
    flag: tuple[str, ...] | None = None
    absent_is_offered: bool = False


def _control(name: str) -> Feature:
    return Feature(name, frozenset({1, 2}), flag=("capabilities", name), absent_is_offered=True)


FEATURES: Final[dict[str, Feature]] = {
    feature.name: feature
    for feature in (
        _control("signals"),
        _control("queries"),
        _control("updates"),
        _control("schedules"),
        _control("history_export"),
        Feature(
            "query_tasks",
            frozenset({1, 2}),
            flag=("worker_protocol", "server_capabilities", "query_tasks"),
        ),
        Feature(
            "update_validation_tasks",
            frozenset({2}),
            minimum_version=_UPDATE_VALIDATION_MINIMUM,
            flag=("worker_protocol", "server_capabilities", "update_validation_tasks"),
        ),
        # Graceful deregistration on the worker plane (DELETE /worker/registrations/{id}).
        Feature("worker_deregistration", frozenset({2})),
    )
}


# Route shapes -> the advertised capability they need (the same on both generations'
# routes): ``(fragment, where it must occur, feature)``, first match wins.
_ROUTE_FEATURES: Final = (
    ("/history/export", "end", "history_export"),
    ("/signal/", "inside", "signals"),
    ("/query/", "inside", "queries"),
    ("/update/", "inside", "updates"),
    ("/api/schedules", "start", "schedules"),
)


def feature_for_route(path: str) -> str | None:
    """The capability a route needs (``signals``, ``schedules``, ...), ``None`` when none."""
    for fragment, where, feature in _ROUTE_FEATURES:
        hit = (
            path.endswith(fragment)
            if where == "end"
            else path.startswith(fragment)
            if where == "start"
            else fragment in path
        )
        if hit:
            return feature
    return None


def _lookup(document: Mapping[str, Any] | None, path: tuple[str, ...]) -> Any:
    node: Any = document
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


_ABSENT = object()


@dataclass(frozen=True)
class ServerProfile:
    """What the client learned about its server, once: generation, version, framing, flags.

    ``source`` is ``discovered`` (read from ``/api/cluster/info``), ``forced`` (the
    caller chose the generation) or ``assumed`` (discovery was unavailable: the 0.x
    line, as upstream 0.4.53 assumed). ``info`` is the discovery document, if read.
    """

    generation: int
    worker_protocol_version: str
    source: Literal["discovered", "forced", "assumed"]
    advertised_worker_protocol: str | None = None
    evidence: str = ""
    info: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def framing(self) -> str:
        """How ``avro`` payloads are written for this server (both are always read)."""
        return serializer.VALUE_FRAMING if self.generation == 2 else serializer.WRAPPER_FRAMING

    def dev_extension(self, name: str) -> bool:
        """Whether a generation-1 server lists ``name`` in ``capabilities.extensions``.

        The dev server's behaviours beyond the protocol (docs/compat.md); the SDK uses
        one only where advertised, so any other server sees the protocol's requests.
        """
        if self.generation != 1 or self.info is None:
            return False
        capabilities = self.info.get("capabilities")
        extensions = capabilities.get("extensions") if isinstance(capabilities, Mapping) else None
        return isinstance(extensions, list) and name in extensions

    def supports(self, feature: str) -> bool:
        """Whether the server offers ``feature`` (a key of :data:`FEATURES`)."""
        return self._missing(FEATURES[feature]) is None

    def require(self, feature: str) -> None:
        """Raise ``UnsupportedServerCapability`` naming ``feature`` unless the server offers it."""
        spec = FEATURES[feature]
        problem = self._missing(spec)
        if problem is not None:
            raise errors.UnsupportedServerCapability(
                feature,
                required_version=spec.minimum_version,
                generation=self.generation,
                advertised_version=self.advertised_worker_protocol,
                detail=problem,
            )

    def _missing(self, spec: Feature) -> str | None:
        if self.generation not in spec.generations:
            return (
                f"it exists only on generation {' and '.join(map(str, sorted(spec.generations)))}"
            )
        if spec.minimum_version is not None:
            need, have = (
                version_pair(spec.minimum_version),
                version_pair(self.worker_protocol_version),
            )
            if need is None or have is None or have < need:
                return f"this client negotiated worker protocol {self.worker_protocol_version}"
        if spec.flag is None:
            return None
        value = _lookup(self.info, spec.flag)
        if value is True:
            return None
        lenient = self.info is None or self.generation == 1
        if value is _ABSENT and spec.absent_is_offered and lenient:
            return None
        where = ".".join(spec.flag)
        return f"{where} is absent" if value is _ABSENT else f"{where} is {value!r}"

    def server_capability(self, name: str) -> Any:
        """``worker_protocol.server_capabilities[name]`` (``None`` when absent)."""
        value = _lookup(self.info, ("worker_protocol", "server_capabilities", name))
        return None if value is _ABSENT else value


def forced_generation(value: object = None) -> int | None:
    """The generation the caller forces: the argument, else the environment; ``None``: auto."""
    if value is None:
        value = os.environ.get(GENERATION_ENV)
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    text = str(value).strip()
    if isinstance(value, bool) or text not in ("1", "2"):
        raise errors.InvalidArgument(
            f"server_generation must be 1, 2 or 'auto', got {value!r}",
            {"server_generation": ["must be 1, 2 or auto"]},
        )
    return int(text)


def _protocol_override() -> str | None:
    value = os.environ.get(PROTOCOL_VERSION_ENV, "").strip()
    return value or None


def profile_from_cluster_info(info: Mapping[str, Any], forced: int | None = None) -> ServerProfile:
    """The profile of a server from its discovery document (``forced`` wins on generation)."""
    generation, evidence = detect_generation(info)
    worker_protocol = info.get("worker_protocol")
    advertised = worker_protocol.get("version") if isinstance(worker_protocol, Mapping) else None
    source: Literal["discovered", "forced"] = "discovered"
    if forced is not None and forced != generation:
        evidence = f"forced to generation {forced} (discovery found {generation}: {evidence})"
        generation, source = forced, "forced"
    return ServerProfile(
        generation=generation,
        worker_protocol_version=choose_worker_protocol(
            generation, advertised, _protocol_override()
        ),
        source=source,
        advertised_worker_protocol=None if advertised is None else str(advertised),
        evidence=evidence,
        info=dict(info),
    )


def assumed_profile(forced: int | None, why: str) -> ServerProfile:
    """The profile without discovery: the forced generation, else the 0.x line."""
    generation = forced if forced is not None else 1
    default = GEN1_WORKER_PROTOCOL if generation == 1 else GEN2_DEFAULT_WORKER_PROTOCOL
    return ServerProfile(
        generation=generation,
        worker_protocol_version=choose_worker_protocol(generation, default, _protocol_override()),
        source="forced" if forced is not None else "assumed",
        evidence=why,
    )


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    body = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{body}$")


_V2_ROUTES: Final = sorted(
    (
        (spec.method, _template_pattern(spec.path), spec.path.count("{"), spec)
        for spec in V2_OPERATIONS.values()
    ),
    key=lambda route: route[2],
)


def v2_operation_for(method: str, path: str) -> V2OperationSpec | None:
    """The 2.x catalogue's operation serving ``method path`` (most literal route first).

    ``path`` may be concrete (``/api/workflows/w-1``) or a 0.x route template
    (``/api/workflows/{workflowId}``); templates are looked up once and remembered.
    """
    if "{" in path:
        return _v2_operation_for_template(method.upper(), path)
    return _match(method.upper(), path)


def _match(method: str, path: str) -> V2OperationSpec | None:
    for route_method, pattern, _, spec in _V2_ROUTES:
        if route_method == method and pattern.match(path):
            return spec
    return None


@functools.cache
def _v2_operation_for_template(method: str, template: str) -> V2OperationSpec | None:
    return _match(method, template)
