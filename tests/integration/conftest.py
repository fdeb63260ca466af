"""Session-scoped storage emulator fixtures for every integration test (see storage_emulators)."""

from __future__ import annotations

from storage_emulators import azure_backend, backend, gcs_backend, s3_backend, s3_env

__all__ = ["azure_backend", "backend", "gcs_backend", "s3_backend", "s3_env"]
