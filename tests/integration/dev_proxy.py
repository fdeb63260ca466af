"""Recording proxies in front of the dev server: pass a request on as the client sent it."""

from __future__ import annotations

import httpx


async def forward(upstream: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """``request`` sent on to the server behind ``upstream`` (its own Host header)."""
    return await upstream.request(
        request.method,
        request.url.path,
        params=request.url.params,
        headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
        content=request.content,
    )
