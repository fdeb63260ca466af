"""Templates and the filters they use; every page goes out through :func:`page`.

Autoescaping is on for every template, so any value that reaches HTML from a
workflow (ids, types, payloads, failure text) is text, never markup. Responses
carry a Content-Security-Policy that allows only the UI's own script and style
files: even a value that slipped through could not run inline script.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.responses import HTMLResponse

from durable_workflow.server.store.timefmt import parse

PREFIX = "/ui"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(value: Any) -> str:
    """A stored or offset timestamp as ``YYYY-MM-DD HH:MM:SS`` UTC ("" for none)."""
    if not value:
        return ""
    try:
        moment = parse(str(value))
    except ValueError:
        return str(value)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def seconds_text(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _duration(start: Any, end: Any = None) -> str:
    """Time from ``start`` to ``end`` (or to now while open)."""
    if not start:
        return ""
    try:
        begin = parse(str(start))
        finish = parse(str(end)) if end else datetime.now(timezone.utc)
    except ValueError:
        return ""
    return seconds_text(max((finish - begin).total_seconds(), 0.0))


def _pretty(value: Any) -> str:
    """Indented JSON text (escaped by the template like any other text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def url(path: str, **params: Any) -> str:
    """A UI URL: ``/ui`` + path, with the non-empty parameters as a query string."""
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return PREFIX + path + ("?" + urlencode(query) if query else "")


ENV = Environment(
    loader=PackageLoader("durable_workflow.server.ui", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["when"] = _when
ENV.filters["duration"] = _duration
ENV.filters["pretty"] = _pretty
ENV.globals["url"] = url
ENV.globals["prefix"] = PREFIX


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
