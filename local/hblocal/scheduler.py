"""EventBridge, locally: each function's Schedule events from infra/template.yaml, on a faster clock.

`rate(15 minutes)` with speed 180 fires every 5 real seconds. Each firing invokes the function with the event a
scheduled rule sends ({"source": "aws.events", "detail-type": "Scheduled Event"}), on a thread of its own, one at
a time per schedule (as the retry policy allows one delivery in flight)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .template import load_template, resources

UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> float:
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        raise ValueError(f"only rate(...) schedules run locally, not {expression!r}")
    return int(match.group(1)) * UNITS[match.group(2)]


@dataclass
class Schedule:
    function: str
    name: str
    every: float  # seconds of template time
    runs: int = 0
    errors: list[str] = field(default_factory=list)


def schedules(template: dict[str, Any] | None = None) -> list[Schedule]:
    template = template or load_template()
    params = template.get("Parameters", {})
    out = []
    for function, res in resources(template, "AWS::Serverless::Function").items():
        for name, event in res["Properties"].get("Events", {}).items():
            if event["Type"] != "Schedule":
                continue
            expr = event["Properties"]["Schedule"]
            if isinstance(expr, dict) and "Ref" in expr:
                expr = params[expr["Ref"]]["Default"]
            out.append(Schedule(function, name, rate_seconds(str(expr))))
    return out


class Scheduler:
    def __init__(self, invoke: Callable[[str, dict[str, Any]], Any], speed: float = 180.0) -> None:
        self.invoke = invoke
        self.speed = speed
        self.schedules = schedules()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _loop(self, schedule: Schedule) -> None:
        while not self._stop.wait(schedule.every / self.speed):
            try:
                self.invoke(schedule.function, {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
                schedule.runs += 1
            except Exception as exc:  # EventBridge would retry and then dead-letter; here it is noted
                schedule.errors.append(f"{type(exc).__name__}: {exc}")

    def start(self) -> Scheduler:
        for schedule in self.schedules:
            thread = threading.Thread(
                target=self._loop, args=(schedule,), name=f"schedule-{schedule.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=300)

    def fire(self, function: str) -> Any:
        """Run a function's schedule now (what a person would do with `aws events put-events`)."""
        return self.invoke(function, {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})

    def summary(self) -> dict[str, int]:
        return {f"{s.function}.{s.name}": s.runs for s in self.schedules}


def sleep_until(condition: Callable[[], bool], seconds: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
