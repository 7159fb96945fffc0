"""Deterministic request ids, and the pacer's guarantee checked by the simulator's own limiter."""

from __future__ import annotations

import random
import threading

import pytest
from hirebooks.clock import ScaledClock
from hirebooks.qbo.client import escape
from hirebooks.qbo.pacing import Limits, RealmPacer
from hirebooks.qbo.requestid import batch_id, derived, request_id
from hypothesis import given, settings
from hypothesis import strategies as st
from qbosim.limits import Limiter, LimitSettings
from qbosim.model import ENTITIES
from qbosim.query import parse


def test_request_id_is_deterministic_and_fits_the_limits() -> None:
    """Reference: 'requestid | at most 50 characters (36 inside a batch ...)'."""
    a = request_id("hh-7", "invoice", "1204", "v3")
    assert a == request_id("hh-7", "invoice", "1204", "v3")
    assert len(a) <= 36
    assert a != request_id("hh-7", "invoice", "1204", "v4")
    assert a != request_id("hh-7", "invoice", "1204", "v3", generation=1)  # a deliberate re-push
    assert a != request_id("hh-8", "invoice", "1204", "v3")
    assert derived(a, "synctoken-2") == derived(a, "synctoken-2") != a
    assert len(batch_id([a] * 30)) <= 36


@pytest.mark.parametrize("args", [("", "k", "1", "v"), ("c", "k", "", "v"), ("c", "k", "1", "")])
def test_request_id_refuses_missing_parts(args: tuple[str, str, str, str]) -> None:
    with pytest.raises(ValueError):
        request_id(*args)


@given(st.text(min_size=1, max_size=60))
@settings(max_examples=200, deadline=None)
def test_escape_round_trips_through_the_query_parser(value: str) -> None:
    """Whatever a name holds, the client's escaping and QuickBooks' quoting agree (the simulator parses it back)."""
    q = parse(f"select * from Customer where DisplayName = '{escape(value)}'", ENTITIES)
    assert q.conditions[0].values == [value]


def test_pacer_keeps_every_window_at_the_server_under_the_limit() -> None:
    """The pacer's proof, checked: requests arrive at the server at a random moment between our send and our
    receipt of the answer, and the simulator's own sliding-window limiter judges them. With 12 threads, latencies
    from 0 to 40 ms and a limit of 25 a (scaled) minute, none may be refused."""
    clock = ScaledClock(scale=120.0)  # a minute lasts half a real second
    limits = Limits(requests_per_window=25, max_in_flight=4)
    pacer = RealmPacer(limits, clock)
    judge = Limiter(LimitSettings(requests_per_minute=25, concurrent=4))
    refused: list[str] = []
    rng = random.Random(3)
    lock = threading.Lock()

    def request() -> None:
        with pacer.slot():
            with lock:
                latency = rng.uniform(0, 0.04)
                arrive_after = rng.uniform(0, latency)
            clock.sleep(clock.scale * arrive_after)
            verdict = judge.admit("r", clock.time(), batch=False)
            if verdict is not None:
                refused.append(verdict)
            clock.sleep(clock.scale * (latency - arrive_after))
            if verdict is None:
                judge.release("r")

    def worker() -> None:
        for _ in range(8):
            request()

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert refused == []


def test_pacer_gives_up_when_the_caller_cannot_wait() -> None:
    from hirebooks.qbo.pacing import PacingTimeout

    clock = ScaledClock(scale=1.0)
    pacer = RealmPacer(Limits(requests_per_window=1, window_seconds=60), clock)
    with pacer.slot():
        pass
    with pytest.raises(PacingTimeout), pacer.slot(max_wait=0.01):
        pass
