"""``GET /api/openapi.json``: the dev server's own OpenAPI document.

The document is generated from ``contracts/`` by ``codegen/openapi_doc.py`` into
``_generated/openapi.json`` and served as is (public, like ``/api/health``: it
holds no secrets), so fuzzers and API explorers see exactly the operations the
server routes.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PATH = "/api/openapi.json"


@lru_cache(maxsize=1)
def document_bytes() -> bytes:
    """The generated document, read once from the installed package."""
    return resources.files("durable_workflow._generated").joinpath("openapi.json").read_bytes()


async def _serve(_request: Request) -> Response:
    return Response(document_bytes(), media_type="application/json")


def openapi_route() -> Route:
    """The route to place before the dev server's catch-all."""
    return Route(PATH, _serve, methods=["GET", "HEAD"])
