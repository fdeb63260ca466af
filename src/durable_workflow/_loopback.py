"""Whether a host or URL names this machine (127.0.0.0/8, ::1, localhost).

Asked by the dev server (a bind beyond loopback needs a token), the invocable
carriers (plain http only to loopback) and the transport (no response compression
from a server on this machine).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["is_loopback_host", "is_loopback_url"]


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")
