"""The dev server's web UI: server-rendered pages under ``/ui`` on the server's own port.

It reads through the engine's views and acts through the HTTP API's own
operations with the signed-in token's roles (docs/ui.md).
"""
