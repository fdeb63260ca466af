"""The dev server in a thread with its :class:`DevServer` at hand (config and internals),
for the hardening tests that inject faults or set limits ``dev_server()`` does not take."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import httpx

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.app import DevServer
from durable_workflow.server.runner import bind_socket, build_server


@contextlib.contextmanager
def running(config: ServerConfig) -> Iterator[tuple[httpx.Client, DevServer]]:
    sock = bind_socket("127.0.0.1", 0)
    server = build_server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx.Client(base_url=url, timeout=10) as http:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                if http.get("/api/health").status_code == 200:
                    break
            time.sleep(0.05)
        try:
            yield http, server.dev
        finally:
            server.request_exit()
            thread.join(timeout=10)
            sock.close()
