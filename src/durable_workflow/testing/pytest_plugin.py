"""The pytest plugin's fixtures and ``running_worker``, under the SDK's name.

The plugin itself is ``durable_workflow_pytest`` (outside this package, so loading it
costs pytest runs nothing); its plugin name is this module's, so
``-p durable_workflow.testing.pytest_plugin`` or ``pytest_plugins = [...]`` naming this
module is a no-op when the entry point is active.
"""

from __future__ import annotations

from durable_workflow_pytest import (
    WorkerFactory,
    durable_workflow_client,
    durable_workflow_server,
    durable_workflow_worker,
    pytest_addoption,
    running_worker,
)

__all__ = [
    "WorkerFactory",
    "durable_workflow_client",
    "durable_workflow_server",
    "durable_workflow_worker",
    "pytest_addoption",
    "running_worker",
]
