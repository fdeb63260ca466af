"""The one HTTP path between the SDK and a server (private): requests, retries, errors.

``HttpTransport`` sends every request of a ``Client`` (and of the carrier
runner); ``error_for_status`` maps a non-2xx answer to the typed exception; ``ServerProfile``
is what the transport negotiated with its server (``_negotiation``).
"""

from __future__ import annotations

from durable_workflow._transport._errors import error_for_status, error_message
from durable_workflow._transport._http import (
    CONTROL_PLANE_VERSION_HEADER,
    DEFAULT_REQUEST_LIMIT_BYTES,
    WORKER_PROTOCOL_VERSION_HEADER,
    HttpTransport,
    Plane,
)
from durable_workflow._transport._negotiation import ServerProfile

__all__ = [
    "CONTROL_PLANE_VERSION_HEADER",
    "DEFAULT_REQUEST_LIMIT_BYTES",
    "WORKER_PROTOCOL_VERSION_HEADER",
    "HttpTransport",
    "Plane",
    "ServerProfile",
    "error_for_status",
    "error_message",
]
