"""A web app that starts workflows: an ASGI (Starlette) service with a worker in its lifespan.

``POST /signups`` starts a workflow and answers 202 with its id at once;
``GET /signups/{id}`` reports its status and result. The worker runs in the
same process here for brevity (production usually runs workers apart).
Run ``python samples/web_app.py`` for a scripted demo over real HTTP, or
``python samples/web_app.py --serve`` to keep serving on port 8000 (try
``curl -X POST localhost:8000/signups -d '{"email": "ada@example.com"}'``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from _support import run, unique
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from durable_workflow import Client, Worker, WorkflowNotFound, activity, workflow

TASK_QUEUE = "samples-web"


@activity.defn(name="create-account")
def create_account(email: str) -> str:
    return f"user-{email.split('@')[0]}"


@activity.defn(name="send-welcome")
def send_welcome(email: str) -> str:
    return f"welcome mail to {email}"


@workflow.defn(name="signup")
class SignupWorkflow:
    def run(self, ctx: Any, email: str) -> Any:
        user_id = yield ctx.schedule_activity("create-account", [email])
        yield ctx.schedule_activity("send-welcome", [email])
        return {"user_id": user_id}


def create_app(client: Client) -> Starlette:
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[SignupWorkflow],
        activities=[create_account, send_welcome],
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        running = asyncio.create_task(worker.run())
        yield
        await worker.stop()
        await running

    async def start_signup(request: Request) -> JSONResponse:
        body = await request.json()
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str) or "@" not in email:
            return JSONResponse({"error": "email is required"}, status_code=422)
        handle = await client.start_workflow(
            workflow_type="signup",
            task_queue=TASK_QUEUE,
            workflow_id=unique("signup"),
            input=[email],
        )
        return JSONResponse({"workflow_id": handle.workflow_id}, status_code=202)

    async def signup_status(request: Request) -> JSONResponse:
        workflow_id = request.path_params["workflow_id"]
        try:
            described = await client.describe_workflow(workflow_id)
        except WorkflowNotFound:
            return JSONResponse({"error": f"no signup {workflow_id}"}, status_code=404)
        return JSONResponse({"status": described.status, "result": described.output})

    routes = [
        Route("/signups", start_signup, methods=["POST"]),
        Route("/signups/{workflow_id}", signup_status, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def demo(base_url: str) -> None:
    """What a browser or another service would do."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        rejected = await http.post("/signups", json={})
        print("POST /signups {}:", rejected.status_code, rejected.json())
        started = await http.post("/signups", json={"email": "ada@example.com"})
        print("POST /signups:", started.status_code)
        workflow_id = started.json()["workflow_id"]
        status = {"status": "running"}
        while status["status"] not in ("completed", "failed"):
            await asyncio.sleep(0.1)
            status = (await http.get(f"/signups/{workflow_id}")).json()
        print("GET /signups/<id>:", status)


async def main(client: Client) -> None:
    serve_forever = "--serve" in sys.argv[1:]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 8000 if serve_forever else 0))
    config = uvicorn.Config(create_app(client), log_level="warning")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
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
