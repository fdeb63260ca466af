"""The installed distribution version, used in the user agent and on worker registration."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("durable-workflow")
except PackageNotFoundError:  # a bare source tree
    __version__ = "0.0.0+unknown"

SDK_VERSION = f"durable-workflow-python/{__version__}"
