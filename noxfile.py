"""Developer sessions. They run in the current environment (install with `pip install -e '.[dev]'`).

Running on the interpreter at hand keeps every session usable on a machine that
has only one Python, and makes `nox -s tests` exactly what CI runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["tests", "lint", "typecheck", "check_generated"]

PY = sys.executable


@nox.session
def tests(session: nox.Session) -> None:
    """Unit, contract, integration and end-to-end tests (pass pytest args after --)."""
    session.run(PY, "-m", "pytest", *(session.posargs or ["-q"]))


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check on everything hand-written."""
    session.run(PY, "-m", "ruff", "check", ".")
    session.run(PY, "-m", "ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/ (configured in pyproject.toml)."""
    session.run(PY, "-m", "mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with mkdocs --strict (any warning fails the build).

    The site lands in .nox/docs/tmp/site; `python -m mkdocs serve` previews it live.
    Extra mkdocs arguments go after --.
    """
    site = os.path.join(session.create_tmp(), "site")
    session.run(
        PY, "-m", "mkdocs", "build", "--strict", "--site-dir", site, *session.posargs,
        env={"NO_MKDOCS_2_WARNING": "1"},  # the theme's end-of-life banner, not a build problem
    )  # fmt: skip


@nox.session
def regen(session: nox.Session) -> None:
    """Regenerate src/durable_workflow/_generated from contracts/."""
    session.run(PY, "codegen/generate.py")


@nox.session
def check_generated(session: nox.Session) -> None:
    """Fail with a diff when the committed generated code is stale."""
    session.run(PY, "codegen/generate.py", "--check")


@nox.session
def compat(session: nox.Session) -> None:
    """Compare a live server's /api/cluster/info with contracts/manifest.json,
    or (with --against) a bump of contracts/server-2.x with its previous copy.

    Usage: nox -s compat -- URL [--token TOKEN]; URL defaults to
    $DURABLE_WORKFLOW_SERVER_URL, else a built-in dev server is started.
    nox -s compat -- --against OLD [--contracts NEW]: OLD is a spec folder or a git revision
    (e.g. HEAD: the folder as last committed); exit 1 when the change is breaking.
    """
    args = list(session.posargs)
    if "--against" in args:
        at = args.index("--against") + 1
        if at < len(args) and not os.path.isdir(args[at]):
            args[at] = _committed_specs(session, args[at])
        session.run(PY, "-m", "durable_workflow.cli", "contract", "check", *args)
        return
    if not args and os.environ.get("DURABLE_WORKFLOW_SERVER_URL"):
        args = [os.environ["DURABLE_WORKFLOW_SERVER_URL"]]
    session.run(PY, "-m", "durable_workflow.compat_check", *args)


SPECS_2X = "contracts/server-2.x"


def _committed_specs(session: nox.Session, revision: str) -> str:
    """contracts/server-2.x as of a git revision, written into the session's tmp dir."""
    out = os.path.join(session.create_tmp(), f"specs-{revision.replace('/', '_')}")
    shutil.rmtree(out, ignore_errors=True)
    git = ["git", "-C", os.path.dirname(os.path.abspath(__file__))]
    names = subprocess.run(
        [*git, "ls-tree", "-r", "--name-only", revision, SPECS_2X],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if not names:
        session.error(f"{SPECS_2X} does not exist at {revision}")
    for name in names:
        target = os.path.join(out, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        content = subprocess.run(
            [*git, "show", f"{revision}:{name}"], capture_output=True, check=True
        ).stdout
        with open(target, "wb") as fh:
            fh.write(content)
    return os.path.join(out, SPECS_2X)


# The venv `nox -s interop_codec` builds with upstream SDK 2.12.0; the bench reuses it.
UPSTREAM_212_PYTHON = os.path.join(".nox", "interop_codec", "bin", "python")
# The venv `nox -s interop` builds with upstream SDK 0.4.53; the end-to-end bench reuses it.
UPSTREAM_04_PYTHON = os.path.join(".nox", "interop", "bin", "python")


@nox.session
def bench(session: nox.Session) -> None:
    """Performance harness: prints numbers, asserts nothing about time.

    The Value-codec bench also measures upstream 2.12.0 when `nox -s interop_codec`
    has built its venv (or UPSTREAM_212_PYTHON names another interpreter); the
    end-to-end bench measures upstream 0.4.53 from `nox -s interop`'s venv (or
    UPSTREAM_04_PYTHON).
    """
    env = {}
    if not os.environ.get("UPSTREAM_212_PYTHON") and os.path.exists(UPSTREAM_212_PYTHON):
        env["UPSTREAM_212_PYTHON"] = os.path.abspath(UPSTREAM_212_PYTHON)
    if not os.environ.get("UPSTREAM_04_PYTHON") and os.path.exists(UPSTREAM_04_PYTHON):
        env["UPSTREAM_04_PYTHON"] = os.path.abspath(UPSTREAM_04_PYTHON)
    session.run(PY, "-m", "benchmarks", *session.posargs, env=env)


@nox.session(venv_backend="venv")
def interop(session: nox.Session) -> None:
    """Every scenario of tests/interop/scenarios.py, per SDK and server generation:
    upstream 0.4.53 (this session's venv) against --generation 1, upstream 2.12.0 (its own
    venv) against --generation 2 (every response checked against the vendored specs), and our
    SDK (the project interpreter, source tree) against both; then upstream 0.4.53's public
    surface, read by introspection, is compared with ours.

    Pass scenario names after -- to run only those."""
    session.install("durable-workflow==0.4.53")
    upstream_04 = os.path.join(session.bin, "python")
    upstream_212 = _upstream_212_python(session)
    runner = "tests/interop/run_interop.py"
    only = list(session.posargs)
    session.log("upstream 0.4.53 against --generation 1")
    session.run(PY, runner, PY, upstream_04, "--generation", "1", *only, external=True)
    session.log("upstream 2.12.0 against --generation 2")
    session.run(PY, runner, PY, upstream_212, "--generation", "2", *only, external=True)
    session.log("our SDK against --generation 1")
    session.run(PY, runner, PY, PY, "--generation", "1", "--source", "src", *only, external=True)
    session.log("our SDK against --generation 2")
    session.run(PY, runner, PY, PY, "--generation", "2", "--source", "src", *only, external=True)
    # Every public name, member and parameter of upstream's modules exists here too.
    surface_json = os.path.join(session.create_tmp(), "upstream-surface.json")
    session.run(
        upstream_04,
        "tests/interop/surface.py",
        "dump",
        surface_json,
        external=True,
        env={"PYTHONPATH": ""},  # upstream's installed package, never a source tree
    )
    session.run(PY, "tests/interop/surface.py", "compare", surface_json, external=True)


def _upstream_212_python(session: nox.Session) -> str:
    """A second venv beside this session's, with upstream durable-workflow 2.12.0."""
    venv = os.path.join(os.path.dirname(session.virtualenv.location), "interop_upstream_212")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        session.run(os.path.join(session.bin, "python"), "-m", "venv", venv, external=True)
    session.run(python, "-m", "pip", "install", "-q", "durable-workflow==2.12.0", external=True)
    return python


@nox.session(venv_backend="venv")
def upstream_tests(session: nox.Session) -> None:
    """Upstream 0.4.53's own unit tests (its PyPI sdist): every one that passes there passes here.

    They run first in this session's venv against upstream's package, then the passing ones
    on the project's interpreter against ours; tests/upstream/exclusions.txt lists the
    exceptions. Pytest args after -- go to the second run (default: -q --tb=line).
    """
    plugins = ("pytest", "pytest-asyncio", "pytest-timeout")
    session.install("durable-workflow==0.4.53", *(f"{name}=={version(name)}" for name in plugins))
    upstream_python = os.path.join(session.bin, "python")
    session.run(
        PY, "tests/upstream/run_upstream.py", PY, upstream_python, *session.posargs, external=True
    )


@nox.session(venv_backend="venv")
def interop_codec(session: nox.Session) -> None:
    """Upstream durable-workflow 2.12.0 (own venv) vs our Value codec: same bytes, same reasons."""
    session.install("durable-workflow==2.12.0")
    session.run(
        PY, "-m", "pytest", "-q", "tests/unit/converter/test_value_codec_corpus.py",
        env={"UPSTREAM_212_PYTHON": os.path.join(session.bin, "python")},
        external=True,
    )  # fmt: skip


@nox.session
def fuzz(session: nox.Session) -> None:
    """Schemathesis over every operation of the dev server's /api/openapi.json: a long run.

    Usage: nox -s fuzz [-- --requests 100000 --seed 0 --url URL]; prints requests, status
    classes and failures, exit 1 on any failure (tests/fuzz/test_schemathesis.py is the
    bounded CI run). Then DW_FUZZ_MUTATIONS (20000) one-mutation requests from the parity
    fixtures (tests/fuzz/mutation_fuzz.py).
    """
    env = {"PYTHONPATH": os.pathsep.join(["src", "tests/fuzz", os.environ.get("PYTHONPATH", "")])}
    session.run(PY, "tests/fuzz/schemathesis_fuzz.py", *session.posargs, env=env)
    # Then one-mutation requests seeded from upstream's parity fixtures.
    mutations = os.environ.get("DW_FUZZ_MUTATIONS", "20000")
    session.run(PY, "tests/fuzz/mutation_fuzz.py", "--requests", mutations, env=env)


@nox.session
def soak(session: nox.Session) -> None:
    """Repeated SIGKILLs of the dev server under load, with workers running and killed too.

    Usage: nox -s soak [-- --cycles 20 --kill-every 3 --worker-kill-every 10 --starters 8
    --workers 2]; prints acknowledged / lost / duplicated and exits 1 unless lost and
    duplicated are 0 (tests/soak/test_soak.py is the bounded CI run).
    """
    env = {"PYTHONPATH": os.pathsep.join(["src", os.environ.get("PYTHONPATH", "")])}
    session.run(PY, "tests/soak/soak.py", *session.posargs, env=env)
