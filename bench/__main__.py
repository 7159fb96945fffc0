"""`make bench`: benchmarks measured side by side in one run, written to bench/RESULTS.md (about 8 minutes).

flush: see bench/flush.py.

webhook: see bench/webhook.py.


client_pacing: 20 threads write customers to one realm of the QuickBooks simulator at QuickBooks' real limits
(500 requests a minute, 10 at once) on a clock running 60 times faster than real time, once through the client's
pacer and once without it. Reports the achieved rate as a fraction of the realm's ceiling and the 429s the simulator
answered. Both runs use the same simulator process, thread count and request count.
"""

from __future__ import annotations

import argparse
import platform
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hirebooks.qbo.client import QboHttpClient, RetryPolicy
from hirebooks.qbo.oauth import OAuthEndpoints, QboOAuthClient, TokenSet
from hirebooks.qbo.pacing import Limits, RealmPacer
from hirebooks.qbo.requestid import request_id
from hirebooks.qbo.tokens import InMemoryTokenProvider
from qbosim import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, QboSimulator
from qbosim.control import SimControl

from bench.flush import CEILING as FLUSH_CEILING
from bench.flush import HEADER as FLUSH_HEADER
from bench.flush import run_flush
from bench.webhook import HEADER as WEBHOOK_HEADER
from bench.webhook import run_webhook

RESULTS = Path(__file__).with_name("RESULTS.md")


@dataclass
class Run:
    label: str
    writes: int
    sim_minutes: float
    steady_per_minute: float
    throttled: int
    retries: int
    errors: int

    @property
    def per_minute(self) -> float:
        return self.writes / self.sim_minutes

    def row(self, ceiling: int) -> str:
        return (
            f"| {self.label} | {self.writes} | {self.per_minute:.0f} | {self.steady_per_minute:.0f} "
            f"| {self.steady_per_minute / ceiling:.2f} | {self.throttled} | {self.retries} | {self.errors} |"
        )


def steady_rate(arrivals: list[float], ceiling: int) -> float:
    """Writes a minute after the first window: a sliding window lets the first minute take `ceiling` at once, so the
    rate that lasts is (n - ceiling) over the time from the ceiling-th arrival to the last."""
    arrivals = sorted(arrivals)
    if len(arrivals) <= ceiling + 1:
        return float("nan")
    return (len(arrivals) - ceiling) / ((arrivals[-1] - arrivals[ceiling - 1]) / 60)


def client_pacing(threads: int, writes: int, scale: float) -> tuple[list[Run], int]:
    sim = QboSimulator(scale=scale, seed=1)
    url = sim.start()
    realm = "9130350000000001"
    sim.add_realm("US", realm)
    control = SimControl(url)
    oauth = QboOAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, OAuthEndpoints.on(url))
    tokens = InMemoryTokenProvider(oauth, sim.clock)
    minted = control.mint_tokens(realm)
    tokens.put(
        realm, TokenSet(minted["access_token"], minted["refresh_token"], 3600, 8_640_000, None, sim.clock.time())
    )
    ceiling = sim.limits.requests_per_minute
    runs: list[Run] = []
    try:
        for label, limits in (
            ("paced (client pacer at the realm's limits)", Limits()),
            ("unpaced (no pacer; backoff only)", Limits(requests_per_window=10**9, max_in_flight=10**6)),
        ):
            control.advance(120)  # start each run in a fresh minute
            control.reset_counters()
            client = QboHttpClient(
                base_url=url,
                realm_id=realm,
                tokens=tokens,
                pacer=RealmPacer(limits, sim.clock),
                clock=sim.clock,
                retry=RetryPolicy(max_attempts=12, base_delay=0.5, max_delay=8),
            )
            errors: list[BaseException] = []
            per_thread = writes // threads

            def work(
                t: int,
                tag: str = label[:2],
                c: QboHttpClient = client,
                per_thread: int = per_thread,
                errors: list[BaseException] = errors,
            ) -> None:
                for n in range(per_thread):
                    try:
                        c.create(
                            "Vendor",
                            {"DisplayName": f"{tag} {t}-{n}"},
                            request_id=request_id("b", tag, f"{t}-{n}", "1"),
                        )
                    except Exception as exc:
                        errors.append(exc)

            start = sim.clock.time()
            pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
            for th in pool:
                th.start()
            for th in pool:
                th.join()
            minutes = (sim.clock.time() - start) / 60
            counters = control.counters(realm)
            landed = [e["t"] for e in control.log(limit=100_000) if e["status"] == 200]
            runs.append(
                Run(
                    label,
                    per_thread * threads - len(errors),
                    minutes,
                    steady_rate(landed, ceiling),
                    counters["throttled"],
                    client.stats.retries,
                    len(errors),
                )
            )
            print(runs[-1].row(ceiling), file=sys.stderr)
    finally:
        sim.stop()
    return runs, ceiling


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--writes", type=int, default=2000, help="writes per run (default 2000: 4 simulated minutes)")
    parser.add_argument(
        "--scale", type=float, default=30.0, help="clock speed (default 30: two real seconds are a minute)"
    )
    parser.add_argument("--flush-docs", type=int, default=5000, help="documents for the one-realm flush")
    parser.add_argument("--realms", type=int, default=10, help="realms for the parallel flush")
    parser.add_argument("--realm-docs", type=int, default=1000, help="documents per realm in the parallel flush")
    parser.add_argument("--webhooks", type=int, default=300, help="requests of 1 event (a fifth as many of 100)")
    args = parser.parse_args()
    t0 = time.monotonic()
    webhook_rows = run_webhook((1, 100), (args.webhooks, max(args.webhooks // 5, 10)))
    runs, ceiling = client_pacing(args.threads, args.writes, args.scale)
    flush_rows = [run_flush(1, args.flush_docs, 1.0), run_flush(args.realms, args.realm_docs, 1.0)]
    for row in flush_rows:
        print(" | ".join(row.cells()), file=sys.stderr)
    command = (
        f"make bench  (python -m bench --threads {args.threads} --writes {args.writes} --scale {args.scale:g} "
        f"--flush-docs {args.flush_docs} --realms {args.realms} --realm-docs {args.realm_docs} "
        f"--webhooks {args.webhooks})"
    )
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{command}`  ",
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, Python {platform.python_version()}, "
        f"{time.monotonic() - t0:.0f} s wall. The machine is shared and noisy: compare rows of one run, not runs.",
        "",
        f"## client_pacing: one realm, QuickBooks' real limits, clock x{args.scale:g}",
        "",
        f"{args.threads} threads create {args.writes} vendors through one client; the realm's ceiling is {ceiling} "
        "requests a minute and 10 at once. Rates are in simulated minutes. The whole-run rate includes the first "
        "window's burst (a sliding window admits a full minute's quota at once); the rate after it is what lasts, "
        "and the fraction of ceiling is taken from it.",
        "",
        "| run | writes landed | writes / min, whole run | writes / min after the first window | fraction of ceiling "
        "| 429s at QuickBooks | client retries | failed |",
        "|---|---|---|---|---|---|---|---|",
        *[r.row(ceiling) for r in runs],
        "",
        "## flush: a buffered backlog into QuickBooks through batches, real time (clock x1)",
        "",
        "Each realm: a HireHop company with a buffered package whose customers, vendors and items are already known "
        "(a first small sync), then a backlog of documents (about 85% invoices, 10% payments, 2% credit notes, "
        "3% purchase orders) flushed at once; several realms are flushed side by side. The realm's ceiling is "
        f"{FLUSH_CEILING} documents a minute (120 batch calls of 30). Rates are whole-run and include the first "
        "minute, in which a sliding window lets a full minute's quota through at once; the seconds spent waiting "
        "for QuickBooks' budget show whether the limit, rather than HireBooks, was what held the flush back. "
        "The parallel run shares this machine's two cores between all realms, so its per-realm rate measures "
        "the machine (moto and the simulators in one process), not QuickBooks' limits.",
        "",
        "| " + " | ".join(FLUSH_HEADER) + " |",
        "|" + "---|" * len(FLUSH_HEADER),
        *["| " + " | ".join(row.cells()) + " |" for row in flush_rows],
        "",
        "## webhook: qb_webhook's answer time to QuickBooks (Intuit wants 200 within 3 seconds)",
        "",
        "Signed CloudEvents payloads of 1 and of 100 Payment changes (Intuit's most per POST), one request at a time "
        "over loopback through the local gateway to the real handler (warm; five warm-up requests not counted). The "
        "time covers HTTP, the gateway, the signature check, parsing, and the SQS sends (10 messages a call, to "
        "moto's SQS). The queue is emptied between requests, as the worker keeps it in AWS, because moto's "
        "SendMessage slows as its queue grows and real SQS does not.",
        "",
        "| " + " | ".join(WEBHOOK_HEADER) + " |",
        "|" + "---|" * len(WEBHOOK_HEADER),
        *["| " + " | ".join(row.cells()) + " |" for row in webhook_rows],
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
