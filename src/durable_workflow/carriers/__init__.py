"""Carriers that run activities outside a long-lived worker (contracts.md §6, §8).

``asgi_app(handlers)`` serves an invocable endpoint; ``runner.main(argv)``
leases activity tasks and delivers them to ``invocable_http`` targets named
by an external executor config.
"""

from __future__ import annotations

from durable_workflow.carriers.asgi import asgi_app

__all__ = ["asgi_app"]
