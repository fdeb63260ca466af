"""Services that hidden setup blocks of docs/ start: an S3 emulator (moto).

Used from ``<!-- invisible-code-block: python -->`` blocks, e.g.
``__page__.cleanup.enter_context(s3_emulator(["dw-payloads"]))``; it points
the standard AWS environment (``AWS_ENDPOINT_URL``, credentials, region) at
the emulator, so ``boto3.client("s3")`` in a page talks to it unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator


@contextlib.contextmanager
def s3_emulator(buckets: list[str]) -> Iterator[str]:
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    try:
        s3 = boto3.client("s3")
        for bucket in buckets:
            s3.create_bucket(Bucket=bucket)
        yield url
    finally:
        server.stop()
