"""HTTP transport retries (upstream's ``TransportRetryPolicy``, with a safety fix).

Upstream retries every request on 5xx, 429 and network errors, which can
duplicate a non-idempotent command (start, signal, ...) when the server had
already committed it before the failure.  This policy keeps upstream's fields,
defaults and method names but splits requests in two classes:

* idempotent requests (GETs, workflow-task polls carrying a ``poll_request_id``,
  completions fenced by a lease owner and attempt, heartbeats, history reads)
  are retried on every transient failure: connect errors, timeouts, network
  errors, 429 and any 5xx;
* non-idempotent requests are retried only when the failure proves the server
  did not process them: the connection was never established (connect errors,
  connect/pool timeouts), 429 (rejected before processing) and 503 (service
  unavailable, nothing done).

Callers that do not say which class a request is get the idempotent behaviour,
which is what upstream did for everything.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

__all__ = ["RetryPolicy", "TransportRetryPolicy", "status_of"]

T = TypeVar("T")

# Failures where no byte of the request reached the application: always safe.
_NOT_SENT_ERRORS: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# Statuses a server answers before doing any work.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})


def status_of(exc: BaseException) -> int | None:
    """The HTTP status carried by an exception, if it carries one."""
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


@dataclass
class TransportRetryPolicy:
    """Bounded exponential backoff for HTTP requests to the server."""

    max_attempts: int = 3
    initial_backoff_seconds: float = 0.1
    max_backoff_seconds: float = 5.0
    backoff_multiplier: float = 2.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial_backoff_seconds < 0 or self.max_backoff_seconds < 0:
            raise ValueError("backoff seconds must be >= 0")
        if self.backoff_multiplier < 1:
            raise ValueError("backoff_multiplier must be >= 1")

    def should_retry(self, exc: BaseException, attempt: int, *, idempotent: bool = True) -> bool:
        """Whether a request that failed with ``exc`` on ``attempt`` (1-based) may be resent."""
        if attempt >= self.max_attempts:
            return False
        if isinstance(exc, _NOT_SENT_ERRORS):
            return True
        status = status_of(exc)
        if status is not None:
            if status in _NOT_PROCESSED_STATUSES:
                return True
            return idempotent and status >= 500
        if isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)):
            return idempotent
        return False

    def backoff_seconds(self, attempt: int) -> float:
        """Delay before the retry that follows ``attempt``."""
        base = min(
            self.initial_backoff_seconds * (self.backoff_multiplier**attempt),
            self.max_backoff_seconds,
        )
        if self.jitter:
            base *= random.uniform(0.75, 1.25)
        return float(base)

    async def execute(self, fn: Callable[[], Awaitable[T]], *, idempotent: bool = True) -> T:
        """Run ``fn`` up to ``max_attempts`` times, sleeping between retryable failures."""
        attempt = 1
        while True:
            try:
                return await fn()
            except Exception as exc:
                if not self.should_retry(exc, attempt, idempotent=idempotent):
                    raise
                await asyncio.sleep(self.backoff_seconds(attempt))
                attempt += 1


RetryPolicy = TransportRetryPolicy
