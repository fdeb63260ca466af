"""mkdocs hook: drop Sphinx role prefixes (``:meth:`x```) that docstrings carry.

The SDK's docstrings name things the Sphinx way; Markdown renders the name
as code already, so only the ``:meth:`` / ``:class:`` / ... prefix is noise.
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:meth|func|class|attr|mod|data|exc|obj):(?=<code>)")


def on_page_content(html: str, page: Any, **_: Any) -> str:
    return ROLE.sub("", html)
