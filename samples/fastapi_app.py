"""FastAPI: a worker in the app's lifespan, a client dependency, status streamed to the caller.

``WorkerLifespan`` starts the worker with the app and stops it gracefully with
it; ``Annotated[Client, Depends(durable.client)]`` gives each route the app's client. ``POST
/reports`` starts one workflow per request; ``GET /reports/{id}/events`` streams
its status as server-sent events until it closes. Run ``python
samples/fastapi_app.py`` for a scripted demo over real HTTP, or with ``--serve``
to keep serving on port 8000. Needs FastAPI (``pip install fastapi``).
"""

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import uvicorn
from _support import run, unique
from fastapi import Depends, FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from durable_workflow import Client, Worker, activity, workflow
from durable_workflow.client import TERMINAL_STATUSES
from durable_workflow.contrib.web import WorkerLifespan

TASK_QUEUE = "samples-fastapi"


@activity.defn(name="render-page")
def render_page(page: int) -> int:
    return page * 100  # words on the page


@workflow.defn(name="report")
class ReportWorkflow:
    def run(self, ctx: Any, title: str, pages: int) -> Any:
        words = 0
        for page in range(1, pages + 1):
            words += yield ctx.schedule_activity("render-page", [page])
        yield ctx.sleep(1)  # waiting on a timer shows as a status of its own
        return {"title": title, "words": words}


class ReportRequest(BaseModel):
    title: str
    pages: int = 2


def create_app(client: Client) -> FastAPI:
    durable = WorkerLifespan(
        client,
        workers=[
            lambda c: Worker(
                c, task_queue=TASK_QUEUE, workflows=[ReportWorkflow], activities=[render_page]
            )
        ],
    )
    app = FastAPI(lifespan=durable)
    # Each route gets the running app's client.
    AppClient = Annotated[Client, Depends(durable.client)]

    @app.post("/reports", status_code=202)
    async def start_report(body: ReportRequest, client: AppClient) -> dict[str, str]:
        handle = await client.start_workflow(
            workflow_type="report",
            task_queue=TASK_QUEUE,
            workflow_id=unique("report"),
            input=[body.title, body.pages],
        )
        return {"workflow_id": handle.workflow_id}

    @app.get("/reports/{workflow_id}/events")
    async def report_events(workflow_id: str, client: AppClient) -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            last = None
            while True:
                described = await client.describe_workflow(workflow_id)
                status = described.status or "unknown"
                if status != last:
                    last = status
                    event = {"status": status, "result": described.output}
                    yield f"data: {json.dumps(event)}\n\n"
                if status in TERMINAL_STATUSES:
                    return
                await asyncio.sleep(0.05)

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


async def demo(base_url: str) -> None:
    """A caller starts a report and reads the event stream until the run closes."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        started = await http.post("/reports", json={"title": "Q3", "pages": 3})
        print("POST /reports:", started.status_code)
        workflow_id = started.json()["workflow_id"]
        statuses = []
        async with http.stream("GET", f"/reports/{workflow_id}/events") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    event = json.loads(line[6:])
                    statuses.append(event["status"])
        print("streamed a change of status:", len(statuses) > 1, "last:", statuses[-1])
        print("result:", event["result"])


async def main(client: Client) -> None:
    serve_forever = "--serve" in sys.argv[1:]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 8000 if serve_forever else 0))
    server = uvicorn.Server(uvicorn.Config(create_app(client), log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            return serving.result()
        await asyncio.sleep(0.02)
    if serve_forever:
        print("serving on http://127.0.0.1:8000 (Ctrl-C stops)")
        await serving
        return
    try:
        await demo(f"http://127.0.0.1:{sock.getsockname()[1]}")
    finally:
        server.should_exit = True
        await serving


if __name__ == "__main__":
    run(main)
