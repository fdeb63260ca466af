"""Does a server's ``/api/cluster/info`` advertise what this SDK speaks?

Two pure functions over the discovery document, each judging the server against the
contracts of *its* generation (``_transport._negotiation.detect_generation``):

* :func:`check_cluster_info` is the worker's start-up gate (cluster-info.md §5,
  worker-protocol.md §2.1). It fails closed and lists *every* problem at once,
  so an operator fixes a deployment in one round trip.
* :func:`compare_manifest` compares each entry the SDK depends on with the live
  document, for ``nox -s compat`` and ``durable-workflow contract check``: the
  generated ``MANIFEST`` (``contracts/manifest.json``) for a 0.x server, the 2.x
  documents (``contracts/server-2.x``, ``_compat_v2``) for a 2.x one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from durable_workflow._generated import manifest as _manifest
from durable_workflow.errors import IncompatibleServerError

__all__ = [
    "ADDITIVE",
    "BREAKING",
    "MATCH",
    "ManifestCheck",
    "auth_composition_problems",
    "check_cluster_info",
    "compare_manifest",
    "format_manifest_report",
    "server_generation",
    "worker_protocol_compatible",
]

_MISSING = object()
# The manifest document's own schema/version describe the file, not the server.
_MANIFEST_IDENTITY = frozenset({"schema", "version"})

# What the SDK's auth-composition parser insists on (contracts.md §2.3): the
# canonical environment mapping and required effective-config fields as published
# in our manifest's contract document, plus upstream's never-echo minimum.
_CANONICAL_ENVIRONMENT: dict[str, str] = dict(
    _manifest.AUTH_COMPOSITION_CONTRACT["canonical_environment"]
)
_REQUIRED_EFFECTIVE_CONFIG_FIELDS: tuple[str, ...] = tuple(
    _manifest.AUTH_COMPOSITION_CONTRACT["effective_config"]["required_fields"]
)
_REQUIRED_NEVER_ECHO = ("bearer_tokens", "private_keys", "raw_authorization_headers")


def _version_pair(value: str) -> tuple[int, int] | None:
    parts = value.strip().split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def worker_protocol_compatible(advertised: object, spoken: str | None = None) -> bool:
    """Same MAJOR, advertised MINOR >= ours; exact match if either is not MAJOR.MINOR."""
    ours = spoken if spoken is not None else str(_manifest.WORKER_PROTOCOL_VERSION)
    if not isinstance(advertised, (str, int, float)) or isinstance(advertised, bool):
        return False
    theirs = str(advertised)
    mine, other = _version_pair(ours), _version_pair(theirs)
    if mine is None or other is None:
        return theirs.strip() == ours.strip()
    return other[0] == mine[0] and other[1] >= mine[1]


def _int_like(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def auth_composition_problems(contract: object) -> list[str]:
    """Why ``contract`` is not the auth composition contract this SDK reads (empty: it is)."""
    path = "auth_composition_contract"
    if not isinstance(contract, dict):
        return [f"{path} is missing or not an object"]
    problems: list[str] = []
    schema = _manifest.AUTH_COMPOSITION_CONTRACT_SCHEMA
    version = _manifest.AUTH_COMPOSITION_CONTRACT_VERSION
    if contract.get("schema") != schema:
        problems.append(f"{path}.schema is {contract.get('schema')!r}, expected {schema!r}")
    if _int_like(contract.get("version")) != int(version):
        problems.append(f"{path}.version is {contract.get('version')!r}, expected {version!r}")
    sections = {}
    for key in ("precedence", "canonical_environment", "auth_material", "effective_config"):
        value = contract.get(key)
        if not isinstance(value, dict):
            problems.append(f"{path}.{key} is missing or not an object")
        sections[key] = value if isinstance(value, dict) else {}
    redaction = contract.get("redaction")
    if not isinstance(redaction, dict):
        problems.append(f"{path}.redaction is missing or not an object")
        redaction = {}

    environment = sections["canonical_environment"]
    if any(not isinstance(v, str) for v in environment.values()):
        problems.append(f"{path}.canonical_environment has non-string values")
    for field, variable in _CANONICAL_ENVIRONMENT.items():
        if environment and environment.get(field) != variable:
            problems.append(
                f"{path}.canonical_environment.{field} is {environment.get(field)!r}, "
                f"expected {variable!r}"
            )

    material = sections["auth_material"]
    if any(not isinstance(v, dict) for v in material.values()):
        problems.append(f"{path}.auth_material has non-object members")
    if material:
        token = material.get("token")
        token = token if isinstance(token, dict) else {}
        if token.get("status") != "supported":
            problems.append(f"{path}.auth_material.token.status must be 'supported'")
        if token.get("effective_config_value") != "redacted":
            problems.append(f"{path}.auth_material.token.effective_config_value must be 'redacted'")
        for reserved in ("mtls", "signed_headers"):
            member = material.get(reserved)
            if not isinstance(member, dict) or member.get("status") != "reserved":
                problems.append(f"{path}.auth_material.{reserved}.status must be 'reserved'")

    if isinstance(contract.get("effective_config"), dict):
        problems.extend(
            _string_list_problems(
                sections["effective_config"].get("required_fields"),
                f"{path}.effective_config.required_fields",
                _REQUIRED_EFFECTIVE_CONFIG_FIELDS,
            )
        )
    if isinstance(contract.get("redaction"), dict):
        problems.extend(
            _string_list_problems(
                redaction.get("never_echo"), f"{path}.redaction.never_echo", _REQUIRED_NEVER_ECHO
            )
        )
    if isinstance(contract.get("precedence"), dict):
        for key in ("connection_values", "profile_selection"):
            problems.extend(
                _string_list_problems(
                    sections["precedence"].get(key), f"{path}.precedence.{key}", ()
                )
            )
    return problems


def _string_list_problems(value: object, path: str, must_contain: tuple[str, ...]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return [f"{path} must be a list of strings"]
    missing = [name for name in must_contain if name not in value]
    return [f"{path} lacks {', '.join(missing)}"] if missing else []


def cluster_info_problems(info: Mapping[str, Any]) -> list[str]:
    """Every reason this SDK cannot work with a server, as readable sentences."""
    problems: list[str] = []
    control_plane = info.get("control_plane")
    expected_cp = str(_manifest.CONTROL_PLANE_VERSION)
    if not isinstance(control_plane, dict):
        problems.append("control_plane is missing or not an object")
    else:
        version = control_plane.get("version")
        if version is None or str(version) != expected_cp:
            problems.append(f"control_plane.version is {version!r}, expected {expected_cp!r}")
        contract = control_plane.get("request_contract")
        schema = _manifest.CONTROL_PLANE_REQUEST_CONTRACT_SCHEMA
        contract_version = int(_manifest.CONTROL_PLANE_REQUEST_CONTRACT_VERSION)
        if not isinstance(contract, dict):
            problems.append("control_plane.request_contract is missing or not an object")
        else:
            if contract.get("schema") != schema:
                problems.append(
                    f"control_plane.request_contract.schema is {contract.get('schema')!r}, "
                    f"expected {schema!r}"
                )
            if _int_like(contract.get("version")) != contract_version:
                problems.append(
                    f"control_plane.request_contract.version is {contract.get('version')!r}, "
                    f"expected {contract_version}"
                )
    worker_protocol = info.get("worker_protocol")
    spoken = str(_manifest.WORKER_PROTOCOL_VERSION)
    if not isinstance(worker_protocol, dict):
        problems.append("worker_protocol is missing or not an object")
    elif not worker_protocol_compatible(worker_protocol.get("version"), spoken):
        problems.append(
            f"worker_protocol.version is {worker_protocol.get('version')!r}; this SDK speaks "
            f"{spoken!r} and needs the same major version with an equal or newer minor"
        )
    problems.extend(auth_composition_problems(info.get("auth_composition_contract")))
    return problems


# Upstream 0.4.53's worker named only the first problem, in this order, in these words;
# code matching on them keeps working, our full list follows.
_UPSTREAM_HEADLINES = (
    ("control_plane is missing", "missing control_plane manifest"),
    ("control_plane.version ", "unsupported control_plane.version"),
    ("control_plane.request_contract is missing", "missing control_plane.request_contract"),
    ("control_plane.request_contract.", "unsupported control_plane.request_contract"),
    ("worker_protocol is missing", "missing worker_protocol manifest"),
    (
        "worker_protocol.version ",
        "incompatible worker_protocol.version; sdk-python requires major-equal and "
        f"minor>={str(_manifest.WORKER_PROTOCOL_VERSION)!r}",
    ),
    ("auth_composition_contract is missing", "missing auth_composition_contract"),
    ("auth_composition_contract", "unsupported auth_composition_contract"),
)


def upstream_headline(problems: list[str]) -> str | None:
    """Upstream's words for the first of ``problems`` upstream's check would have hit."""
    for prefix, words in _UPSTREAM_HEADLINES:
        if any(problem.startswith(prefix) for problem in problems):
            return words
    return None


def server_generation(info: Mapping[str, Any], generation: int | None = None) -> int:
    """``generation`` when given (a forced one), else the one ``info`` describes."""
    if generation is not None:
        return generation
    from durable_workflow._transport._negotiation import detect_generation

    return detect_generation(info)[0]


def check_cluster_info(info: Mapping[str, Any], generation: int | None = None) -> None:
    """Raise ``IncompatibleServerError`` listing every incompatibility; return if none.

    The server is judged by the contracts of ``generation`` (default: the one the
    document describes); the message names the generation.
    """
    if not isinstance(info, Mapping):
        problems, generation = ["cluster info is not a JSON object"], generation or 1
    else:
        generation = server_generation(info, generation)
        if generation == 2:
            from durable_workflow import _compat_v2

            problems = _compat_v2.problems(info)
        else:
            problems = cluster_info_problems(info)
    if problems:
        headline = upstream_headline(problems) if generation == 1 else None
        raise IncompatibleServerError(
            "Server compatibility error: "
            + (f"{headline}; " if headline else "")
            + "; ".join(problems)
            + f" (judged as a generation {generation} server). Upgrade the server (or this "
            "SDK) so both speak the same protocol versions; `nox -s compat -- <url>` prints "
            "the full comparison.",
            problems=problems,
        )


#: The ``server_capabilities`` flag that routes queries to workers.
QUERY_TASKS_CAPABILITY = "query_tasks"


def query_tasks_enabled(info: Mapping[str, Any]) -> bool:
    """Whether the server routes queries to workers (``server_capabilities.query_tasks``)."""
    worker_protocol = info.get("worker_protocol")
    if not isinstance(worker_protocol, dict):
        return False
    capabilities = worker_protocol.get("server_capabilities")
    return isinstance(capabilities, dict) and capabilities.get(QUERY_TASKS_CAPABILITY) is True


MATCH = "match"
ADDITIVE = "additive"
BREAKING = "breaking"


@dataclass(frozen=True)
class ManifestCheck:
    """One manifest entry compared with the live document.

    ``status`` is ``match``, ``additive`` (the server offers more than we need,
    still compatible) or ``breaking``; left empty it follows ``ok`` so callers
    that only know pass/fail keep constructing rows as before.
    """

    path: str
    expected: Any
    actual: Any
    ok: bool
    status: str = ""

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", MATCH if self.ok else BREAKING)


def _leaves(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, child in value.items():
            yield from _leaves(child, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _lookup(document: Any, path: str) -> Any:
    node = document
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _same(expected: Any, actual: Any) -> bool:
    if actual is _MISSING:
        return False
    if expected == actual:
        return True
    scalar = (str, int, float)
    if (
        isinstance(expected, scalar)
        and isinstance(actual, scalar)
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        return str(expected) == str(actual)
    return False


def _is_version_path(path: str) -> bool:
    leaf = path.rsplit(".", 1)[-1]
    return leaf == "version" or leaf.endswith("_version")


def _classify(path: str, expected: Any, actual: Any) -> str:
    """Fail closed: anything not provably compatible is breaking."""
    if actual is _MISSING:
        return BREAKING
    if _same(expected, actual):
        return MATCH
    if isinstance(expected, list):
        # A published list (accepted versions, required fields) may grow, never shrink.
        if isinstance(actual, list) and all(
            any(_same(item, other) for other in actual) for item in expected
        ):
            return ADDITIVE
        return BREAKING
    if _is_version_path(path) and worker_protocol_compatible(actual, str(expected)):
        # Same MAJOR with a newer MINOR; integer contract versions have no minor,
        # so any change there fails the check above and stays breaking.
        return ADDITIVE
    return BREAKING


def _unknown_contracts(expected: Mapping[str, Any], actual: Any, prefix: str) -> Iterator[str]:
    """Paths of contract descriptors (objects with a ``schema`` id) the SDK does not know.

    Only descriptors count: the server's cluster info legitimately carries many
    other keys (capabilities, limits, a contract's own body) that say nothing
    about which protocol versions it speaks.
    """
    if not isinstance(actual, Mapping):
        return
    for key, value in actual.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        known = expected.get(key, _MISSING)
        if known is _MISSING:
            if isinstance(value, Mapping) and isinstance(value.get("schema"), str):
                yield path
        elif isinstance(known, Mapping):
            yield from _unknown_contracts(known, value, path)


def compare_manifest(info: Mapping[str, Any], generation: int | None = None) -> list[ManifestCheck]:
    """Compare every entry the SDK depends on with the same path in ``info``.

    For a 0.x server: every leaf of the SDK's manifest; contracts the server
    publishes that the manifest does not mention are appended as additive rows.
    For a 2.x server: the entries of the 2.x documents the SDK uses
    (``_compat_v2.compare``). Each row is classified match / additive / breaking.
    """
    if server_generation(info, generation) == 2:
        from durable_workflow import _compat_v2

        return _compat_v2.compare(info)
    rows: list[ManifestCheck] = []
    for path, expected in _leaves(_manifest.MANIFEST, ""):
        if path in _MANIFEST_IDENTITY:
            continue
        actual = _lookup(info, path)
        status = _classify(path, expected, actual)
        rows.append(
            ManifestCheck(
                path=path,
                expected=expected,
                actual=None if actual is _MISSING else actual,
                ok=status != BREAKING,
                status=status,
            )
        )
    for path in _unknown_contracts(_manifest.MANIFEST, info, ""):
        rows.append(
            ManifestCheck(
                path=path, expected=None, actual=_lookup(info, path), ok=True, status=ADDITIVE
            )
        )
    return rows


def _cell(value: Any) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


_RESULT_WORDS = {MATCH: "ok", ADDITIVE: "additive", BREAKING: "MISMATCH"}


def format_manifest_report(rows: list[ManifestCheck]) -> str:
    """A plain-text table: path, expected, actual, and ok/additive/MISMATCH per row."""
    header = ("path", "expected", "actual", "result")
    table = [header] + [
        (row.path, _cell(row.expected), _cell(row.actual), _RESULT_WORDS[row.status])
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
