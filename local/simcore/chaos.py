"""Fault injection: rules that pick requests by method and path and break them in the ways real networks do.

kinds:
  http_500, http_502, http_503, http_504  answer that status with a SERVICE fault, write nothing
  throttle     answer 429 with the XML body
  auth         answer 401 (token expired) although the token is fine
  reset        drop the connection before doing anything (nothing written)
  timeout      wait `delay` real seconds, then do the work and answer (a client that gave up never sees it)
  lost_answer  do the work (the write commits), then drop the connection: the outcome is unknown to the client
  latency      wait `delay` real seconds, then carry on normally
  silent_noop  (HireHop only) answer success for a write and do nothing, as HireHop sometimes does
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "http_500",
    "http_502",
    "http_503",
    "http_504",
    "throttle",
    "auth",
    "reset",
    "timeout",
    "lost_answer",
    "latency",
    "silent_noop",
)


@dataclass
class FaultRule:
    kind: str
    rate: float = 1.0
    methods: tuple[str, ...] = ("GET", "POST")
    path: str = ""  # a regular expression searched in the path
    realm: str | None = None
    delay: float = 0.0
    remaining: int | None = None  # stop after this many injections
    injected: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self.methods = tuple(m.upper() for m in self.methods)
        self._pattern = re.compile(self.path)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rate": self.rate,
            "methods": list(self.methods),
            "path": self.path,
            "realm": self.realm,
            "delay": self.delay,
            "remaining": self.remaining,
            "injected": self.injected,
        }


class Chaos:
    def __init__(self, seed: int = 7, kinds: tuple[str, ...] = KINDS) -> None:
        self.kinds = kinds
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.rules: list[FaultRule] = []

    def set(self, rules: list[dict[str, Any]], seed: int | None = None) -> None:
        parsed = [FaultRule(**{k: (tuple(v) if k == "methods" else v) for k, v in r.items()}) for r in rules]
        unsupported = [r.kind for r in parsed if r.kind not in self.kinds]
        if unsupported:
            raise ValueError(f"this simulator cannot inject {', '.join(unsupported)}; one of {', '.join(self.kinds)}")
        with self._lock:
            self.rules = parsed
            if seed is not None:
                self._rng = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self.rules = []

    def pick(self, method: str, path: str, realm: str | None) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.remaining is not None and rule.remaining <= 0:
                    continue
                if method.upper() not in rule.methods or not rule._pattern.search(path):
                    continue
                if rule.realm is not None and rule.realm != realm:
                    continue
                if self._rng.random() < rule.rate:
                    rule.injected += 1
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule
        return None
