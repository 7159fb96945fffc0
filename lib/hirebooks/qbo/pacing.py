"""Pacing per realm: stay under QuickBooks' limits instead of collecting 429s.

Limits (reference, "Limits (per realm, per app)"): 500 requests a minute (batch calls included), 10 at once,
120 batch calls a minute.

Why completion times: QuickBooks counts a request when it arrives, somewhere between our send and our receipt of
the answer. Before each send the pacer counts the requests in flight plus those that *completed* within the last
window, and sends only if that count is below the limit. Take any window of arrivals at QuickBooks and the request
in it that we sent last: when we sent it, every other request of that window was in flight or had completed inside
our window, so it was counted. Hence no window at QuickBooks ever holds more than the limit, whatever the latency;
counting send times instead is not safe when a slow request arrives late. The cost is one round trip per window.

This pacer coordinates the threads of one process. Lambda containers do not share it: the flush holds a lease per
realm (one flusher at a time), and live pushes are few; throttling that still happens is absorbed by backoff.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hirebooks.clock import SystemClock
from hirebooks.errors import TransientError
from hirebooks.ports import Clock


@dataclass(frozen=True)
class Limits:
    requests_per_window: int = 500
    batch_per_window: int = 120
    max_in_flight: int = 10
    window_seconds: float = 60.0


class PacingTimeout(TransientError):
    """No slot within the time the caller could wait."""

    kind = "paced"


class RealmPacer:
    def __init__(self, limits: Limits | None = None, clock: Clock | None = None) -> None:
        self.limits = limits or Limits()
        self.clock: Clock = clock or SystemClock()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._in_flight_batch = 0
        self._done: deque[float] = deque()
        self._done_batch: deque[float] = deque()
        self.waited = 0.0  # total clock-seconds callers spent waiting: a measure of back-pressure

    def _prune(self, now: float) -> None:
        horizon = now - self.limits.window_seconds
        for q in (self._done, self._done_batch):
            while q and q[0] <= horizon:
                q.popleft()

    def _wait_needed(self, now: float, batch: bool) -> float | None:
        """0 if a request may go now; seconds until one may; None to wait for a completion."""
        lim = self.limits
        if self._in_flight >= lim.max_in_flight:
            return None
        waits: list[float] = []
        if self._in_flight + len(self._done) >= lim.requests_per_window:
            if not self._done:
                return None
            waits.append(self._done[0] + lim.window_seconds - now)
        if batch and self._in_flight_batch + len(self._done_batch) >= lim.batch_per_window:
            if not self._done_batch:
                return None
            waits.append(self._done_batch[0] + lim.window_seconds - now)
        return max(max(waits), 0.0) if waits else 0.0

    @contextmanager
    def slot(self, *, batch: bool = False, max_wait: float | None = None) -> Iterator[None]:
        """Hold one request slot for the duration of an HTTP call."""
        start = self.clock.monotonic()
        with self._cond:
            while True:
                now = self.clock.monotonic()
                self._prune(now)
                need = self._wait_needed(now, batch)
                if need == 0.0:
                    break
                if max_wait is not None and now - start + (need or 0.0) > max_wait:
                    raise PacingTimeout("QuickBooks request budget for this realm is used up; try again shortly")
                timeout = self.clock.real_seconds(need) if need is not None else 0.25
                self._cond.wait(timeout=max(timeout, 0.0005))
            self.waited += self.clock.monotonic() - start
            self._in_flight += 1
            if batch:
                self._in_flight_batch += 1
        try:
            yield
        finally:
            with self._cond:
                done_at = self.clock.monotonic()
                self._in_flight -= 1
                self._done.append(done_at)
                if batch:
                    self._in_flight_batch -= 1
                    self._done_batch.append(done_at)
                self._cond.notify_all()


class PacerRegistry:
    """One pacer per realm for the whole process, so every client of a realm shares one budget."""

    def __init__(self, limits: Limits | None = None, clock: Clock | None = None) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        self._lock = threading.Lock()
        self._pacers: dict[str, RealmPacer] = {}

    def for_realm(self, realm_id: str) -> RealmPacer:
        with self._lock:
            pacer = self._pacers.get(realm_id)
            if pacer is None:
                pacer = self._pacers[realm_id] = RealmPacer(self.limits, self.clock)
            return pacer


DEFAULT_PACERS = PacerRegistry()
