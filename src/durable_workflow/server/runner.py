"""Running the dev server under uvicorn, with a shutdown that ends long polls first.

uvicorn waits for open requests before stopping; parked long polls would
hold it for the whole poll timeout. The server here releases them (they
answer ``{"task": null}``) as soon as shutdown begins.
"""

from __future__ import annotations

import logging
import socket
from types import FrameType
from typing import Any

import uvicorn

from durable_workflow.server.config import ServerConfig
from durable_workflow.server.http.app import DevServer
from durable_workflow.server.http.exposure import bind_warning, with_cors
from durable_workflow.server.http.request_log import RequestContext

log = logging.getLogger("durable_workflow.server")


class DevUvicornServer(uvicorn.Server):
    """A uvicorn server that tells the dev server to release its pollers on exit."""

    def __init__(self, dev: DevServer, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.dev = dev

    def request_exit(self) -> None:
        """Stop from any thread: release pollers, then let uvicorn finish."""
        self.dev.notifier.close()
        self.should_exit = True

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.dev.notifier.close()
        super().handle_exit(sig, frame)


def build_server(
    config: ServerConfig, *, host: str = "127.0.0.1", port: int = 8080
) -> DevUvicornServer:
    """A ready-to-run uvicorn server for ``config`` (call ``run()`` or ``serve()``)."""
    warning = bind_warning(host, config)
    if warning is not None:
        log.warning(warning)
    dev = DevServer(config)
    app: Any = dev.app
    if config.check_responses and config.generation == 2:
        from durable_workflow.server.http.gen2.spec_check import SpecCheck

        app = SpecCheck(app)
    uv_config = uvicorn.Config(
        RequestContext(with_cors(app, config)),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=2,
    )
    return DevUvicornServer(dev, uv_config)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready socket (port 0 = a free port chosen by the OS)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock
