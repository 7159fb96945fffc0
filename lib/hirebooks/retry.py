"""Retries with jittered exponential backoff (tenacity), shared by the HTTP adapters.

Only TransientError is retried; every other domain error goes straight to the caller, whose use case decides.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay

from hirebooks.errors import TransientError
from hirebooks.ports import Clock

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5  # clock-seconds; full jitter over 0..base, 0..2*base, 0..4*base, ...
    max_delay: float = 30.0
    deadline: float | None = None  # real seconds for the whole call, retries included


def run_with_retries(
    fn: Callable[..., T],
    *,
    policy: RetryPolicy,
    clock: Clock,
    rng: random.Random,
    on_retry: Callable[[], None] = lambda: None,
    retry_on: tuple[type[BaseException], ...] = (TransientError,),
    **kwargs: Any,
) -> T:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        ceiling = min(policy.max_delay, policy.base_delay * (2 ** (state.attempt_number - 1)))
        delay = rng.uniform(0, ceiling)
        if isinstance(exc, TransientError) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        return delay

    stop = stop_after_attempt(policy.max_attempts)
    if policy.deadline is not None:
        stop = stop | stop_after_delay(policy.deadline)  # type: ignore[assignment]
    retrying = Retrying(
        retry=retry_if_exception_type(retry_on),
        stop=stop,
        wait=wait,
        sleep=clock.sleep,
        before_sleep=lambda _state: on_retry(),
        reraise=True,
    )
    return retrying(fn, **kwargs)
