"""Per-realm limits (reference, "Limits (per realm, per app)"): 500 requests a minute (batch calls included),
10 concurrent requests, 120 batch calls a minute. Each is configurable; windows run on the simulator's clock."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field


@dataclass
class LimitSettings:
    requests_per_minute: int = 500
    concurrent: int = 10
    batch_per_minute: int = 120
    per_second: int | None = None  # the sandbox's 10 a second; off unless asked for
    window_seconds: float = 60.0


@dataclass
class _RealmWindow:
    requests: deque[float] = field(default_factory=deque)
    batches: deque[float] = field(default_factory=deque)
    in_flight: int = 0


class Limiter:
    def __init__(self, settings: LimitSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._realms: dict[str, _RealmWindow] = {}

    def admit(self, realm_id: str, now: float, *, batch: bool) -> str | None:
        """Count the request in if it fits; otherwise say which limit it broke (it is then not counted)."""
        s = self.settings
        with self._lock:
            w = self._realms.setdefault(realm_id, _RealmWindow())
            for q in (w.requests, w.batches):
                while q and q[0] <= now - s.window_seconds:
                    q.popleft()
            if w.in_flight >= s.concurrent:
                return "concurrent"
            if len(w.requests) >= s.requests_per_minute:
                return "requests_per_minute"
            if batch and len(w.batches) >= s.batch_per_minute:
                return "batch_per_minute"
            if s.per_second is not None:
                recent = sum(1 for t in w.requests if t > now - s.window_seconds / 60.0)
                if recent >= s.per_second:
                    return "per_second"
            w.requests.append(now)
            if batch:
                w.batches.append(now)
            w.in_flight += 1
            return None

    def release(self, realm_id: str) -> None:
        with self._lock:
            self._realms[realm_id].in_flight -= 1

    def reset(self) -> None:
        with self._lock:
            self._realms.clear()
