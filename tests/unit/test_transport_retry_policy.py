"""TransportRetryPolicy: upstream fields/defaults, and the idempotency-aware retry rule."""

from __future__ import annotations

import httpx
import pytest

from durable_workflow import errors
from durable_workflow.retry_policy import RetryPolicy, TransportRetryPolicy

REQUEST = httpx.Request("POST", "http://server/api/workflows")


def status_error(status: int) -> httpx.HTTPStatusError:
    return httpx.HTTPStatusError(
        "boom", request=REQUEST, response=httpx.Response(status, request=REQUEST)
    )


def test_defaults_and_alias() -> None:
    policy = RetryPolicy()
    assert policy == TransportRetryPolicy(3, 0.1, 5.0, 2.0, True)
    assert RetryPolicy is TransportRetryPolicy


@pytest.mark.parametrize(
    ("exc", "idempotent", "expected"),
    [
        (httpx.ConnectError("refused"), False, True),
        (httpx.ConnectTimeout("slow connect"), False, True),
        (httpx.PoolTimeout("pool"), False, True),
        (status_error(429), False, True),
        (status_error(503), False, True),
        (status_error(500), False, False),
        (status_error(502), False, False),
        (status_error(504), False, False),
        (httpx.ReadTimeout("read"), False, False),
        (httpx.ReadError("reset"), False, False),
        (httpx.RemoteProtocolError("eof"), False, False),
        (status_error(500), True, True),
        (status_error(504), True, True),
        (httpx.ReadTimeout("read"), True, True),
        (httpx.ReadError("reset"), True, True),
        (status_error(400), True, False),
        (status_error(404), True, False),
        (status_error(409), True, False),
        (ValueError("not transport"), True, False),
        (errors.ServerError(503, {}), False, True),
        (errors.ServerError(500, {}), False, False),
    ],
)
def test_should_retry_matrix(exc: BaseException, idempotent: bool, expected: bool) -> None:
    assert TransportRetryPolicy().should_retry(exc, 1, idempotent=idempotent) is expected


def test_should_retry_defaults_to_idempotent_like_upstream() -> None:
    assert TransportRetryPolicy().should_retry(status_error(500), 1) is True


def test_should_retry_stops_at_max_attempts() -> None:
    policy = TransportRetryPolicy(max_attempts=3)
    assert policy.should_retry(httpx.ConnectError("x"), 2)
    assert not policy.should_retry(httpx.ConnectError("x"), 3)


def test_backoff_is_exponential_and_capped() -> None:
    policy = TransportRetryPolicy(
        initial_backoff_seconds=0.1, max_backoff_seconds=1.0, backoff_multiplier=2.0, jitter=False
    )
    assert [policy.backoff_seconds(n) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_backoff_jitter_stays_within_25_percent() -> None:
    policy = TransportRetryPolicy(initial_backoff_seconds=1.0, max_backoff_seconds=100.0)
    samples = [policy.backoff_seconds(1) for _ in range(200)]
    assert all(1.5 <= s <= 2.5 for s in samples)
    assert len(set(samples)) > 1


def test_invalid_fields_are_rejected() -> None:
    with pytest.raises(ValueError):
        TransportRetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        TransportRetryPolicy(backoff_multiplier=0.5)


async def test_execute_retries_then_succeeds() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise httpx.ConnectError("refused")
        return "ok"

    policy = TransportRetryPolicy(initial_backoff_seconds=0, jitter=False)
    assert await policy.execute(flaky, idempotent=False) == "ok"
    assert calls == 3


async def test_execute_gives_up_after_max_attempts() -> None:
    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise status_error(503)

    policy = TransportRetryPolicy(max_attempts=4, initial_backoff_seconds=0, jitter=False)
    with pytest.raises(httpx.HTTPStatusError):
        await policy.execute(down)
    assert calls == 4


async def test_execute_does_not_resend_a_non_idempotent_request_after_a_500() -> None:
    calls = 0

    async def committed_then_failed() -> None:
        nonlocal calls
        calls += 1
        raise status_error(500)

    policy = TransportRetryPolicy(initial_backoff_seconds=0, jitter=False)
    with pytest.raises(httpx.HTTPStatusError):
        await policy.execute(committed_then_failed, idempotent=False)
    assert calls == 1
