"""Pacing per QuickBooks realm (the mechanism and its proof: hirebooks.pacing).

Limits (reference, "Limits (per realm, per app)"): 500 requests a minute (batch calls included), 10 at once,
120 batch calls a minute.

The pacer coordinates the threads of one process. Lambda containers do not share it: the flush holds a lease per
realm (one flusher at a time), and live pushes are few; throttling that still happens is absorbed by backoff.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from hirebooks.pacing import Pacer, PacingTimeout, Window
from hirebooks.ports import Clock

__all__ = ["DEFAULT_PACERS", "Limits", "PacerRegistry", "PacingTimeout", "RealmPacer"]


@dataclass(frozen=True)
class Limits:
    requests_per_window: int = 500
    batch_per_window: int = 120
    max_in_flight: int = 10
    window_seconds: float = 60.0


class RealmPacer(Pacer):
    def __init__(self, limits: Limits | None = None, clock: Clock | None = None) -> None:
        self.limits = limits or Limits()
        lim = self.limits
        super().__init__(
            (Window(lim.requests_per_window, lim.window_seconds),),
            lim.max_in_flight,
            clock,
            batch_windows=(Window(lim.batch_per_window, lim.window_seconds),),
        )


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
