"""A minimal keep-alive HTTP/1.1 JSON client on asyncio streams, for load generators.

A thousand connections in one httpx client cost the driver more CPU than the server
spends answering them (its pool is scanned per request); this client is one socket
per instance and a fixed request format, so the figures measure the server.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class RawJsonClient:
    """One persistent connection; ``post`` sends JSON and returns (status, decoded body)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n{self.fixed}\r\n"
        )
        try:
            self._writer.write(head.encode() + data)
            await self._writer.drain()
            status_line = await self._reader.readuntil(b"\r\n")
            length = 0
            while (line := await self._reader.readuntil(b"\r\n")) != b"\r\n":
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            payload = await self._reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError):
            await self.close()
            raise
        return int(status_line.split()[1]), json.loads(payload) if payload else None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
