"""Client-side pacing under a server's sliding-window limits, shared by the QuickBooks and HireHop clients.

Why completion times: the server counts a request when it arrives, somewhere between our send and our receipt of the
answer. Before each send the pacer counts the requests in flight plus those that *completed* within each window, and
sends only if every count is below its limit. Take any window of arrivals at the server and the request in it that we
sent last: when we sent it, every other request of that window was in flight or had completed inside our window, so
it was counted. Hence no window at the server ever holds more than the limit, whatever the latency (counting send
times instead is not safe when a slow request arrives late). The cost is about one round trip per window.

A pacer coordinates the threads of one process; separate processes need a shared budget or a lease.
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
class Window:
    limit: int
    seconds: float


class PacingTimeout(TransientError):
    """No slot within the time the caller could wait."""

    kind = "paced"


class _Track:
    def __init__(self, window: Window) -> None:
        self.window = window
        self.done: deque[float] = deque()

    def prune(self, now: float) -> None:
        horizon = now - self.window.seconds
        while self.done and self.done[0] <= horizon:
            self.done.popleft()

    def wait(self, in_flight: int, now: float) -> float | None:
        """0 if one more may start, seconds until one may, None to wait for a completion."""
        if in_flight + len(self.done) < self.window.limit:
            return 0.0
        if not self.done:
            return None
        return max(self.done[0] + self.window.seconds - now, 0.0)


class Pacer:
    """At most `max_in_flight` at once and at most `limit` per sliding window, for every window given.

    `batch_windows` apply only to calls marked batch=True (QuickBooks' batch endpoint has its own minute limit,
    on top of the general one).
    """

    def __init__(
        self,
        windows: tuple[Window, ...],
        max_in_flight: int,
        clock: Clock | None = None,
        batch_windows: tuple[Window, ...] = (),
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.max_in_flight = max_in_flight
        self._cond = threading.Condition()
        self._in_flight = 0
        self._in_flight_batch = 0
        self._tracks = [_Track(w) for w in windows]
        self._batch_tracks = [_Track(w) for w in batch_windows]
        self.waited = 0.0  # clock-seconds callers spent waiting: a measure of back-pressure

    def _wait_needed(self, now: float, batch: bool) -> float | None:
        if self._in_flight >= self.max_in_flight:
            return None
        waits: list[float] = []
        checks = [(t, self._in_flight) for t in self._tracks]
        if batch:
            checks += [(t, self._in_flight_batch) for t in self._batch_tracks]
        for track, in_flight in checks:
            track.prune(now)
            need = track.wait(in_flight, now)
            if need is None:
                return None
            waits.append(need)
        return max(waits, default=0.0)

    @contextmanager
    def slot(self, *, batch: bool = False, max_wait: float | None = None) -> Iterator[None]:
        """Hold one request slot for the duration of an HTTP call."""
        start = self.clock.monotonic()
        with self._cond:
            while True:
                now = self.clock.monotonic()
                need = self._wait_needed(now, batch)
                if need == 0.0:
                    break
                if max_wait is not None and now - start + (need or 0.0) > max_wait:
                    raise PacingTimeout("the request budget is used up for now; try again shortly")
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
                for track in self._tracks:
                    track.done.append(done_at)
                if batch:
                    self._in_flight_batch -= 1
                    for track in self._batch_tracks:
                        track.done.append(done_at)
                self._cond.notify_all()
