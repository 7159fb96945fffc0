"""Thread-safe counters an adapter keeps about itself (requests, retries, throttles), for tests, benches and logs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Stats:
    """Subclass with int fields; `add` is safe from many threads."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)
