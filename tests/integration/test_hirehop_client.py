"""The HireHop client against the HireHop simulator over real HTTP on loopback."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from hirebooks import errors as E
from hirebooks.hirehop.client import HireHopClient, hirehop_pacer
from hirebooks.pacing import Pacer, Window
from hirebooks.retry import RetryPolicy

from tests.conftest import HireHopWorld

LINE = {"QUANTITY": 2, "UNIT_PRICE": "50.00", "VAT_RATE": 7}


def client(hh: HireHopWorld, pacer: Pacer | None = None, **kw: object) -> HireHopClient:
    kw.setdefault("retry", RetryPolicy(max_attempts=6, base_delay=0.05, max_delay=0.5))
    return HireHopClient(
        base_url=hh.url,
        token=hh.token,
        pacer=pacer or hirehop_pacer(hh.sim.clock),
        clock=hh.sim.clock,
        **kw,  # type: ignore[arg-type]
    )


def test_a_burst_of_200_calls_never_trips_the_rate_limit(hirehop: HireHopWorld) -> None:
    """Given HireHop's 60 a minute and 3 a second per token (clock x60, so this takes seconds, not minutes),
    when 200 reads go through the client, then all succeed and the simulator throttled none. Without the pacer
    the same burst is throttled, so the check can fail."""
    hirehop.sim.clock.set_scale(60)
    hh = client(hirehop)
    jobs = [hh.job(hirehop.ids["jobs"][n % 4])["ID"] for n in range(200)]
    assert len(jobs) == 200
    assert hirehop.sim.counters.get("throttled", 0) == 0

    hirehop.sim.clock.advance(120)
    unpaced = client(
        hirehop,
        pacer=Pacer((Window(10**6, 60.0),), 100, hirehop.sim.clock),
        retry=RetryPolicy(max_attempts=12, base_delay=1.0, max_delay=4.0),
    )
    for n in range(30):
        unpaced.job(hirehop.ids["jobs"][n % 4])
    assert hirehop.sim.counters.get("throttled", 0) > 0
    assert unpaced.stats.throttled > 0  # absorbed by backoff, not surfaced


def test_refused_token_is_an_auth_error_that_says_what_to_do(hirehop: HireHopWorld) -> None:
    bad = HireHopClient(base_url=hirehop.url, token="stale", clock=hirehop.sim.clock)
    with pytest.raises(E.AuthError) as info:
        bad.depots()
    assert "dedicated API user" in str(info.value)


def test_hirehop_error_codes_become_domain_errors(hirehop: HireHopWorld) -> None:
    hh = client(hirehop)
    with pytest.raises(E.RejectedError) as info:
        hh.job(999_999)
    assert info.value.code == "3"


def test_server_errors_are_retried(hirehop: HireHopWorld) -> None:
    requests.put(f"{hirehop.url}/_sim/faults", json={"rules": [{"kind": "http_503", "remaining": 2}]})
    hh = client(hirehop)
    assert hh.depots()
    assert hh.stats.retries == 2


def test_billing_list_and_contacts(hirehop: HireHopWorld) -> None:
    inv = hirehop.act("create_invoice", job_id=hirehop.ids["jobs"][0], lines=[LINE])
    hirehop.act("approve_invoice", invoice_id=inv["ID"])
    hirehop.sim.clock.set_scale(60)
    hh = client(hirehop)
    rows = hh.billing_list(hirehop.ids["jobs"][0])["rows"]
    assert rows[0]["data"]["NUMBER"] == "INV-12245" and rows[0]["debit"] == Decimal("107.0")
    for n in range(250):
        hirehop.sim.companies[hirehop.company_id].add_contact(company=f"Many {n}", notify=False)
    assert len(list(hh.contacts())) == 254  # two pages of at most 200


def _payment_setup(hirehop: HireHopWorld) -> tuple[HireHopClient, int, int]:
    inv = hirehop.act("create_invoice", job_id=hirehop.ids["jobs"][0], lines=[LINE])
    hirehop.act("approve_invoice", invoice_id=inv["ID"])
    hirehop.sim.clock.set_scale(60)
    return client(hirehop, timeout=(1.0, 1.0)), hirehop.ids["jobs"][0], inv["ID"]


def test_a_deposit_whose_answer_is_lost_is_written_once(hirehop: HireHopWorld) -> None:
    """HireHop has no idempotency key: a lost answer is found again by its memo instead of being written twice."""
    hh, job, inv = _payment_setup(hirehop)
    requests.put(
        f"{hirehop.url}/_sim/faults", json={"rules": [{"kind": "lost_answer", "path": "deposit_save", "remaining": 1}]}
    )
    dep = hh.save_deposit(
        job_id=job,
        amount=Decimal("107.00"),
        bank_id=1,
        date="2026-12-04",
        description="QuickBooks payment 163",
        memo="HireBooks QBO Payment 163",
    )
    assert [d["ID"] for d in hirehop.state()["deposits"]] == [dep]
    app = hh.apply_payment(
        job_id=job,
        deposit_id=dep,
        invoice_id=inv,
        amount=Decimal("107.00"),
        date="2026-12-04",
        description="QuickBooks payment 163",
        memo="HireBooks QBO Payment 163 / Invoice",
        bank_id=1,
    )
    assert [a["ID"] for a in hirehop.state()["applications"]] == [app]
    assert next(i for i in hirehop.state()["invoices"] if i["ID"] == inv)["STATUS"] == 3
    again = hh.save_deposit(
        job_id=job,
        amount=Decimal("107.00"),
        bank_id=1,
        date="2026-12-04",
        description="QuickBooks payment 163",
        memo="HireBooks QBO Payment 163",
    )
    assert again == dep and len(hirehop.state()["deposits"]) == 1  # a repeat finds it, writes nothing


def test_a_write_that_silently_did_nothing_is_written_again(hirehop: HireHopWorld) -> None:
    """Reference: 'Some writes answer success and did nothing (observed): read back what matters.'"""
    hh, job, _ = _payment_setup(hirehop)
    requests.put(
        f"{hirehop.url}/_sim/faults", json={"rules": [{"kind": "silent_noop", "methods": ["POST"], "remaining": 1}]}
    )
    dep = hh.save_deposit(
        job_id=job,
        amount=Decimal("20.00"),
        bank_id=1,
        date="2026-12-04",
        description="x",
        memo="HireBooks QBO Payment 200",
    )
    assert [d["ID"] for d in hirehop.state()["deposits"]] == [dep]
    assert hh.stats.readback_misses == 1
