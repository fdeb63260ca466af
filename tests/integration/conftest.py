"""Integration fixtures: storage emulators (storage_emulators) and the server generations.

``generation`` / ``gen_server`` / ``spec`` (generations.py) run a test against both dev-server
profiles, checking every request and response of the 2.x one against the vendored specs.
"""

from __future__ import annotations

from generations import gen_server, generation, spec
from storage_emulators import azure_backend, backend, gcs_backend, s3_backend, s3_env

__all__ = [
    "azure_backend",
    "backend",
    "gcs_backend",
    "gen_server",
    "generation",
    "s3_backend",
    "s3_env",
    "spec",
]
