"""The carrier runner: lease activity tasks, deliver them to invocable HTTP endpoints, report.

``durable-workflow carrier run --config executor.json`` (wired by the CLI to
``main``). For every task queue in the config it registers as a worker for
the mapped activity types, long-polls, builds the input envelope, delivers it
(``dispatch.deliver``) and reports the result envelope through the worker
endpoints. The durable retry policy stays the server's: the runner only
retries *delivery*, before reporting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

from durable_workflow import errors
from durable_workflow._connection_config import (
    ConnectionConfigError,
    ConnectionFlags,
    EffectiveConfig,
    redact_secrets,
    resolve_connection,
)
from durable_workflow._generated.operations import OPERATIONS
from durable_workflow._transport import HttpTransport
from durable_workflow.carriers.dispatch import DispatchOutcome, deliver
from durable_workflow.carriers.executor_config import (
    CONFIG_PATH_ENV,
    ActivityMapping,
    AuthRef,
    ExecutorConfig,
    ExecutorConfigError,
    load_executor_config,
)
from durable_workflow.carriers.task_envelope import activity_input_envelope
from durable_workflow.external_task_input import ExternalTaskInputError

__all__ = ["CarrierRunner", "ReportedOutcome", "main", "resolve_auth_token"]

log = logging.getLogger("durable_workflow.carriers")

RUNTIME = "python"  # the server accepts php, python, typescript, go, java
HEARTBEAT_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class ReportedOutcome:
    """One task the runner handled: the result envelope and the server's answer."""

    task_id: str
    activity_type: str
    envelope: dict[str, Any]
    dispatch_attempts: int
    server_response: Mapping[str, Any] | None


def resolve_auth_token(
    ref: AuthRef | None, environ: Mapping[str, str], connection: EffectiveConfig
) -> str | None:
    """The bearer token an auth ref points at; refuses refs that resolve to nothing."""
    if ref is None or ref.type == "none":
        return None
    if ref.type in ("env", "token_env"):
        value = environ.get(ref.env or "")
        if not value:
            raise ExecutorConfigError(
                "unknown_auth_ref",
                f"auth ref {ref.name!r} reads ${ref.env}, which is not set",
                {"auth_ref": ref.name},
            )
        return value
    if ref.type == "profile":
        resolved = resolve_connection(ConnectionFlags(profile=ref.profile), environ=environ)
        if resolved.token is None:
            raise ExecutorConfigError(
                "unknown_auth_ref",
                f"auth ref {ref.name!r}: profile {ref.profile!r} has no token",
                {"auth_ref": ref.name},
            )
        return resolved.token
    if ref.type == "server":
        return connection.token
    raise ExecutorConfigError(
        "unknown_auth_ref", f"auth ref {ref.name!r} has unsupported type {ref.type!r}"
    )


def _nearest_deadline(envelope: Mapping[str, Any]) -> float | None:
    """The task's nearest deadline as a ``time.monotonic()`` instant."""
    stamps = [envelope["lease"]["expires_at"], *envelope["deadlines"].values()]
    now_wall = datetime.now(timezone.utc)
    now_mono = time.monotonic()
    nearest: float | None = None
    for stamp in stamps:
        if not isinstance(stamp, str):
            continue
        text = stamp[:-1] + "+00:00" if stamp.endswith("Z") else stamp
        try:
            due = datetime.fromisoformat(text)
        except ValueError:
            continue
        if due.tzinfo is None:
            due = due.replace(tzinfo=timezone.utc)
        instant = now_mono + (due - now_wall).total_seconds()
        nearest = instant if nearest is None else min(nearest, instant)
    return nearest


class CarrierRunner:
    """Serve every invocable activity mapping of ``config`` against one server."""

    def __init__(
        self,
        config: ExecutorConfig,
        connection: EffectiveConfig,
        *,
        worker_id: str | None = None,
        poll_timeout: float = 35.0,
        max_concurrent_tasks: int = 4,
        environ: Mapping[str, str] | None = None,
        endpoint_http: httpx.AsyncClient | None = None,
        server_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not config.mappings:
            raise ExecutorConfigError(
                "invalid_schema", "the config maps no activity to an invocable_http carrier"
            )
        env = os.environ if environ is None else environ
        self.config = config
        self.connection = connection
        self.namespace = (
            connection.namespace
            if connection.sources.get("namespace") in ("flag", "environment")
            or config.namespace is None
            else config.namespace
        )
        self.worker_id = worker_id or f"carrier-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.poll_timeout = poll_timeout
        self.outcomes: list[ReportedOutcome] = []
        self._tokens = {
            m.name: resolve_auth_token(m.auth, env, connection) for m in config.mappings
        }
        self._secrets = [connection.token, *self._tokens.values()]
        self._slots = asyncio.Semaphore(max_concurrent_tasks)
        self._stop = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._server = HttpTransport(
            connection.server_url,
            token=connection.token,
            namespace=self.namespace,
            timeout=max(60.0, poll_timeout + 10.0),
            http_transport=server_transport
            or httpx.AsyncHTTPTransport(verify=connection.tls_verify),
        )
        self._http = endpoint_http or httpx.AsyncClient()
        self._owns_http = endpoint_http is None

    async def _call(self, operation: str, body: Any, **path: str) -> Any:
        return await self._server.call(
            OPERATIONS[operation], path_params=path, query=None, body=body
        )

    def stop(self) -> None:
        """Stop polling; tasks already delivered are still reported."""
        self._stop.set()

    async def aclose(self) -> None:
        await self._server.aclose()
        if self._owns_http:
            await self._http.aclose()

    async def run(self) -> None:
        """Poll every mapped queue until ``stop()``; then drain in-flight tasks."""
        try:
            for queue, mappings in self.config.task_queues.items():
                await self._register(queue, mappings)
            pollers = [
                asyncio.create_task(self._poll_loop(queue)) for queue in self.config.task_queues
            ]
            await self._stop.wait()
            for poller in pollers:
                poller.cancel()
            await asyncio.gather(*pollers, return_exceptions=True)
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
        finally:
            await self.aclose()

    async def _register(self, queue: str, mappings: list[ActivityMapping]) -> None:
        await self._call(
            "worker.register",
            {
                "worker_id": self.worker_id,
                "task_queue": queue,
                "runtime": RUNTIME,
                "supported_activity_types": sorted({m.activity_type for m in mappings}),
            },
        )

    async def _poll_loop(self, queue: str) -> None:
        while not self._stop.is_set():
            await self._slots.acquire()
            try:
                task = await self._poll(queue)
            except (errors.DurableWorkflowError, httpx.HTTPError) as exc:
                self._slots.release()
                log.warning("activity poll on %s failed: %s", queue, self._redact(str(exc)))
                await asyncio.sleep(1.0)
                continue
            except BaseException:
                self._slots.release()
                raise
            if task is None:
                self._slots.release()
                continue
            running = asyncio.create_task(self._handle_and_release(queue, task))
            self._inflight.add(running)
            running.add_done_callback(self._inflight.discard)

    async def _poll(self, queue: str) -> dict[str, Any] | None:
        try:
            data = await self._call(
                "activity.poll", {"worker_id": self.worker_id, "task_queue": queue}
            )
        except errors.TransportTimeout:
            return None
        task = data.get("task") if isinstance(data, Mapping) else None
        return dict(task) if isinstance(task, Mapping) else None

    async def _handle_and_release(self, queue: str, task: dict[str, Any]) -> None:
        try:
            await self.handle_task(queue, task)
        except Exception as exc:  # one bad task must not stop the runner
            log.error("task %s: %s", task.get("task_id"), self._redact(str(exc)))
        finally:
            self._slots.release()

    def _mapping_for(self, queue: str, activity_type: str) -> ActivityMapping | None:
        for mapping in self.config.task_queues.get(queue, []):
            if mapping.activity_type == activity_type:
                return mapping
        return None

    async def handle_task(self, queue: str, task: Mapping[str, Any]) -> ReportedOutcome:
        """Deliver one leased task and report its result envelope."""
        activity_type = str(task.get("activity_type") or "")
        mapping = self._mapping_for(queue, activity_type)
        try:
            envelope = activity_input_envelope(task)
        except (ExternalTaskInputError, KeyError) as exc:
            return await self._report_bare_failure(task, f"cannot build input envelope: {exc}")
        if mapping is None:
            return await self._report_bare_failure(
                task, f"no invocable mapping for activity {activity_type!r} on {queue!r}"
            )
        keeper = asyncio.create_task(self._keep_leased(task))
        try:
            outcome = await deliver(
                self._http,
                mapping.target,
                envelope,
                auth_token=self._tokens[mapping.name],
                deadline=_nearest_deadline(envelope),
            )
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        return await self._report(task, activity_type, outcome)

    async def _keep_leased(self, task: Mapping[str, Any]) -> None:
        """Heartbeat while the endpoint works: the server lease (300 s) may be shorter."""
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)
            with contextlib.suppress(errors.DurableWorkflowError, httpx.HTTPError):
                await self._call(
                    "activity.heartbeat",
                    {
                        "activity_attempt_id": task["activity_attempt_id"],
                        "lease_owner": task.get("lease_owner") or self.worker_id,
                    },
                    taskId=str(task["task_id"]),
                )

    async def _report(
        self, task: Mapping[str, Any], activity_type: str, outcome: DispatchOutcome
    ) -> ReportedOutcome:
        result = outcome.envelope
        ident = {
            "activity_attempt_id": task["activity_attempt_id"],
            "lease_owner": task.get("lease_owner") or self.worker_id,
        }
        task_id = str(task["task_id"])
        response: Any
        try:
            if result["outcome"]["status"] == "succeeded":
                body: dict[str, Any] = dict(ident)
                payload = (result.get("result") or {}).get("payload")
                if payload is not None:
                    body["result"] = payload
                response = await self._call("activity.complete", body, taskId=task_id)
            else:
                response = await self._call(
                    "activity.fail",
                    {**ident, "failure": self._fail_body(result)},
                    taskId=task_id,
                )
        except errors.DurableWorkflowError as exc:
            log.warning("reporting task %s failed: %s", task_id, self._redact(str(exc)))
            response = None
        recorded = bool(isinstance(response, Mapping) and response.get("recorded"))
        final = {**result, "outcome": {**result["outcome"], "recorded": recorded}}
        reported = ReportedOutcome(
            task_id, activity_type, final, outcome.attempts, response if recorded else None
        )
        self.outcomes.append(reported)
        return reported

    @staticmethod
    def _fail_body(result: Mapping[str, Any]) -> dict[str, Any]:
        failure = result["failure"]
        retryable = bool(result["outcome"].get("retryable"))
        body: dict[str, Any] = {
            "message": failure["message"] or failure["kind"],
            "non_retryable": not retryable,
            "retryable": retryable,
            "kind": failure["kind"],
            "cancelled": bool(failure["cancelled"]),
            "malformed_output": failure["kind"] == "malformed_output",
        }
        for key in ("type", "stack_trace", "timeout_type", "details"):
            if failure.get(key) is not None:
                body[key] = failure[key]
        return body

    async def _report_bare_failure(self, task: Mapping[str, Any], message: str) -> ReportedOutcome:
        """Fail a task that never reached an endpoint (no envelope to speak of)."""
        task_id = str(task.get("task_id"))
        response = await self._call(
            "activity.fail",
            {
                "activity_attempt_id": task.get("activity_attempt_id"),
                "lease_owner": task.get("lease_owner") or self.worker_id,
                "failure": {
                    "message": message,
                    "type": "UnknownActivityHandler",
                    "non_retryable": True,
                    "kind": "application",
                },
            },
            taskId=task_id,
        )
        reported = ReportedOutcome(task_id, str(task.get("activity_type")), {}, 0, response)
        self.outcomes.append(reported)
        return reported

    def _redact(self, text: str) -> str:
        return redact_secrets(text, self._secrets)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="durable-workflow carrier run",
        description="Lease activity tasks and deliver them to invocable HTTP endpoints.",
    )
    parser.add_argument("--config", help=f"executor config file (default: ${CONFIG_PATH_ENV})")
    parser.add_argument("--overlay", help="config overlay to apply")
    parser.add_argument("--server-url", help="server URL (flag > env > profile > default)")
    parser.add_argument("--namespace", help="namespace")
    parser.add_argument("--profile", help="connection profile to use")
    parser.add_argument(
        "--tls-verify", action=argparse.BooleanOptionalAction, default=None, help="verify TLS"
    )
    parser.add_argument("--worker-id", help="worker id to register as")
    parser.add_argument("--poll-timeout", type=float, default=35.0, help="long-poll seconds")
    parser.add_argument("--max-concurrent-tasks", type=int, default=4)
    parser.add_argument(
        "--check", action="store_true", help="validate the config and print its mappings"
    )
    return parser


def _summary(config: ExecutorConfig, connection: EffectiveConfig) -> dict[str, Any]:
    return {
        "server_url": connection.server_url,
        "namespace": config.namespace or connection.namespace,
        "mappings": [
            {
                "name": m.name,
                "activity_type": m.activity_type,
                "task_queue": m.task_queue,
                "url": m.target.url,
                "timeout_seconds": m.target.timeout_seconds,
                "max_attempts": m.target.retry_policy.max_attempts,
                "auth_ref": m.auth.name if m.auth else None,
            }
            for m in config.mappings
        ],
        "not_dispatched": list(config.other_mappings),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: 0 after a clean stop, 2 for an invalid config or connection settings."""
    args = _parser().parse_args(argv)
    path = args.config or os.environ.get(CONFIG_PATH_ENV)
    if not path:
        sys.stderr.write(f"error: pass --config or set {CONFIG_PATH_ENV}\n")
        return 2
    try:
        config = load_executor_config(path, overlay=args.overlay)
        connection = resolve_connection(
            ConnectionFlags(
                server_url=args.server_url,
                namespace=args.namespace,
                tls_verify=args.tls_verify,
                profile=args.profile,
            )
        )
        if args.check:
            sys.stdout.write(json.dumps(_summary(config, connection), indent=2) + "\n")
            return 0
        return asyncio.run(_serve(config, connection, args))
    except ExecutorConfigError as exc:
        sys.stderr.write(f"invalid executor config: {exc.code}: {exc.message}\n")
        return 2
    except ConnectionConfigError as exc:
        sys.stderr.write(f"invalid connection settings: {exc}\n")
        return 2


async def _serve(config: ExecutorConfig, connection: EffectiveConfig, args: Any) -> int:
    runner = CarrierRunner(
        config,
        connection,
        worker_id=args.worker_id,
        poll_timeout=args.poll_timeout,
        max_concurrent_tasks=args.max_concurrent_tasks,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, runner.stop)
    await runner.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
