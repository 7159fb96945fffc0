"""Clocks. Production uses SystemClock; the local stack and benchmarks can run a ScaledClock faster than real time.

A ScaledClock at scale 60 makes one real second count as one minute, so QuickBooks' "500 requests a minute" becomes
500 a real second on both sides (simulator and client), and the ratios the benchmarks report are unchanged.
"""

from __future__ import annotations

import threading
import time


class SystemClock:
    scale = 1.0

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def real_seconds(self, seconds: float) -> float:
        return seconds


class ScaledClock:
    """Time that runs `scale` times faster than real time, and can be moved forward by hand."""

    def __init__(self, scale: float = 1.0, start: float | None = None) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self._lock = threading.Lock()
        self._scale = float(scale)
        self._mono0 = time.monotonic()
        self._t0 = time.time() if start is None else start

    @property
    def scale(self) -> float:
        return self._scale

    def time(self) -> float:
        with self._lock:
            return self._t0 + (time.monotonic() - self._mono0) * self._scale

    def monotonic(self) -> float:
        return self.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self._scale)

    def real_seconds(self, seconds: float) -> float:
        return seconds / self._scale

    def set_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        with self._lock:
            now_mono = time.monotonic()
            self._t0 = self._t0 + (now_mono - self._mono0) * self._scale
            self._mono0 = now_mono
            self._scale = float(scale)

    def advance(self, seconds: float) -> None:
        """Jump forward (token expiries, webhook retry schedules, CDC windows)."""
        with self._lock:
            self._t0 += seconds
