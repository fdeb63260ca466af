"""The upstream-compatible result dataclasses ``Client`` methods return (sdk-surface.md §1.4).

They are generated (``_generated.py``, from ``codegen/results.json``); this
package re-exports them with the terminal statuses their ``is_terminal`` reads.
"""

from __future__ import annotations

from durable_workflow.client._results import _generated
from durable_workflow.client._results._generated import *  # noqa: F403
from durable_workflow.client._results._mixins import TERMINAL_STATUSES

__all__ = ["TERMINAL_STATUSES", *_generated.__all__]
