"""``python -m durable_workflow.compat_check URL``: does a live server speak what this SDK speaks?

Fetches ``/api/cluster/info``, says which server generation it found, compares
every entry the SDK depends on with the contracts of that generation
(``contracts/manifest.json`` for a 0.x server, ``contracts/server-2.x`` for a
2.x one), prints a table and exits non-zero only on a breaking change (a newer
compatible minor or an extra contract is reported as additive and passes). Used
by ``nox -s compat`` before pointing workers at a new cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from durable_workflow._compat import ADDITIVE, compare_manifest, format_manifest_report
from durable_workflow._transport._negotiation import (
    GENERATION_ENV,
    contracts_of,
    detect_generation,
    forced_generation,
)
from durable_workflow.client import Client


async def _fetch_cluster_info(url: str, token: str | None) -> dict[str, object]:
    async with Client(url, token=token) as client:
        return await client.get_cluster_info()


def _check(url: str, token: str | None) -> int:
    info = asyncio.run(_fetch_cluster_info(url, token))
    generation, evidence = detect_generation(info)
    forced = forced_generation()
    if forced is not None and forced != generation:
        evidence = f"forced by {GENERATION_ENV}; discovery found {generation}: {evidence}"
        generation = forced
    rows = compare_manifest(info, generation)
    print(f"server: {url}")
    print(f"server generation: {generation} ({evidence}); judged by {contracts_of(generation)}")
    print(format_manifest_report(rows))
    failed = [row for row in rows if not row.ok]
    additive = [row for row in rows if row.status == ADDITIVE]
    matched = len(rows) - len(failed) - len(additive)
    print(
        f"{matched} of {len(rows)} manifest entries match, {len(additive)} additive, "
        f"{len(failed)} breaking"
    )
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m durable_workflow.compat_check")
    parser.add_argument("url", nargs="?", help="server root URL; default: a built-in dev server")
    parser.add_argument("--token", default=None, help="bearer token for the server")
    parser.add_argument(
        "--generation",
        type=int,
        choices=(1, 2),
        default=1,
        help="without a URL: the built-in dev server's profile (start-dev --generation)",
    )
    args = parser.parse_args(argv)
    if args.url:
        return _check(args.url, args.token)
    from durable_workflow.testing import dev_server

    with dev_server(generation=args.generation) as server:
        return _check(server.url, None)


if __name__ == "__main__":
    sys.exit(main())
