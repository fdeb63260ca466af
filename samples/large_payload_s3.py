"""Large payloads in S3, encrypted: values over the limit travel as references.

The server refuses payloads over 2 MiB, so the client and worker offload any
payload above a threshold to S3 and send a reference (URI, size, SHA-256)
instead; whoever reads it fetches and verifies the bytes. A codec chain
(gzip, then AES-GCM) runs first, so the bucket only ever holds ciphertext.
S3 here is moto's local emulator; point the driver at a real bucket in
production.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from _support import run, unique
from moto.server import ThreadedMotoServer

from durable_workflow import Client, S3ExternalStorage, Worker, activity, workflow
from durable_workflow.codecs import AesGcmCodec, CodecChain, GzipCodec

TASK_QUEUE = "samples-large-payload"
BUCKET = "dw-payloads"
THRESHOLD = 64 * 1024  # offload anything above 64 KiB


@activity.defn(name="render-report")
def render_report(rows: int) -> str:
    return "".join(f"row {i:07d}: confidential figures\n" for i in range(rows))  # ~3.4 MiB


@activity.defn(name="summarise-report")
def summarise_report(report: str) -> dict[str, int]:
    return {"lines": report.count("\n"), "bytes": len(report)}


@workflow.defn(name="quarterly-report")
class ReportWorkflow:
    def run(self, ctx: Any, rows: int) -> Any:
        report = yield ctx.schedule_activity("render-report", [rows])
        return (yield ctx.schedule_activity("summarise-report", [report]))


async def main(plain_client: Client) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    s3_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    s3_server.start()
    host, port = s3_server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(name, value)  # moto accepts any credentials
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    try:
        key = os.urandom(32)  # from your secret store in real life
        chain = CodecChain([GzipCodec(), AesGcmCodec({"2026-01": key}, key_id="2026-01")])
        storage = S3ExternalStorage(s3, bucket=BUCKET, prefix="reports")
        async with Client(
            plain_client.base_url,
            token=plain_client.token,
            namespace=plain_client.namespace,
            external_storage=storage,
            external_storage_threshold_bytes=THRESHOLD,
            payload_codec=chain,
        ) as client:
            # The server verifies every reference against the bucket before recording it.
            await client.set_namespace_external_storage(
                client.namespace,
                driver="s3",
                config={
                    "bucket": BUCKET,
                    "prefix": "reports",
                    "endpoint": endpoint,
                    "region": "us-east-1",
                },
            )
            worker = Worker(
                client,
                task_queue=TASK_QUEUE,
                workflows=[ReportWorkflow],
                activities=[render_report, summarise_report],
            )
            handle = await client.start_workflow(
                workflow_type="quarterly-report",
                task_queue=TASK_QUEUE,
                workflow_id=unique("report"),
                input=[100_000],
            )
            await worker.run_until(workflow_id=handle.workflow_id, timeout=60)
            print("result:", await handle.result())

            history = await client.get_history(handle.workflow_id, handle.run_id or "")
            rendered = next(e for e in history["events"] if e["event_type"] == "ActivityCompleted")
            print("history holds a reference:", "s3://dw-payloads/reports/" in str(rendered))
        objects = s3.list_objects_v2(Bucket=BUCKET, Prefix="reports/")["Contents"]
        stored = s3.get_object(Bucket=BUCKET, Key=objects[0]["Key"])["Body"].read()
        print(
            f"objects in the bucket: {len(objects)}, "
            f"ciphertext only: {b'confidential' not in stored}"
        )
    finally:
        s3_server.stop()


if __name__ == "__main__":
    run(main)
