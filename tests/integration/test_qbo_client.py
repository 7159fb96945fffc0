"""The QuickBooks client against the simulator over real HTTP on loopback (issue 2, "Done when")."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests
from hirebooks import errors as E
from hirebooks.qbo.client import BatchItem, RetryPolicy
from hirebooks.qbo.pacing import Limits, RealmPacer
from hirebooks.qbo.requestid import request_id

from tests.conftest import US, QboWorld
from tests.sim.helpers import ids, invoice_body


def rid(n: object, version: str = "v1") -> str:
    return request_id("hh-1", "test", str(n), version)


def test_client_write_after_timeout_creates_one_object(qbo: QboWorld) -> None:
    """Given QuickBooks commits a write but answers after the client has given up,
    when the client retries with its deterministic requestid, then there is one customer, not two."""
    qbo.control.faults({"kind": "timeout", "methods": ["POST"], "path": "/customer", "delay": 0.6, "remaining": 1})
    client = qbo.client(timeout=(1.0, 0.25))
    made = client.create("Customer", {"DisplayName": "Slow Answer Ltd"}, request_id=rid(1))
    assert made["DisplayName"] == "Slow Answer Ltd"
    assert client.stats.unknown_outcomes == 1
    # The retry overtook the slow original; once the original wakes it finds the requestid and is replayed.
    deadline = time.monotonic() + 5
    while len([e for e in qbo.control.log() if e["path"].endswith("/customer")]) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [c["DisplayName"] for c in qbo.control.objects(US, "Customer")] == ["Slow Answer Ltd"]
    assert qbo.control.counters(US)["replays"] == 1


def test_client_write_after_lost_answer_creates_one_object(qbo: QboWorld) -> None:
    """A write that commits but whose answer is lost (connection dropped) is replayed, not repeated."""
    i = ids(qbo)
    cust = qbo.client().create("Customer", {"DisplayName": "Lost Answer Co"}, request_id=rid(2))
    qbo.control.faults({"kind": "lost_answer", "methods": ["POST"], "path": "/invoice", "remaining": 2})
    client = qbo.client()
    inv = client.create("Invoice", invoice_body(cust["Id"], i["item"], doc="INV-9"), request_id=rid("inv-9"))
    assert inv["DocNumber"] == "INV-9"
    assert len(qbo.control.objects(US, "Invoice")) == 1
    assert client.stats.unknown_outcomes == 2
    attempts = [e for e in qbo.control.log() if e["path"].endswith("/invoice")]
    assert len(attempts) == 3 and len({e["requestid"] for e in attempts}) == 1  # same requestid each time


def test_without_a_requestid_a_lost_answer_duplicates(qbo: QboWorld) -> None:
    """The contrast that shows the requestid is what prevents the duplicate: the same lost answer, retried by a
    naive client that sends no requestid, leaves two customers (the second is refused by name only because names are
    unique; invoices would simply double)."""
    i = ids(qbo)
    cust = qbo.client().create("Customer", {"DisplayName": "Naive Co"}, request_id=rid(3))
    qbo.control.faults({"kind": "lost_answer", "methods": ["POST"], "path": "/invoice", "remaining": 1})
    session = qbo.raw(US)
    url = f"{qbo.api(US)}/invoice?minorversion=75"
    body = invoice_body(cust["Id"], i["item"], doc="INV-10")
    with pytest.raises(requests.ConnectionError):
        session.post(url, json=body)
    session.post(url, json=body, params={"include": "allowduplicatedocnum"})
    assert len(qbo.control.objects(US, "Invoice")) == 2


def test_client_absorbs_429_with_xml_body(qbo: QboWorld) -> None:
    """Reference: 'Over a limit: HTTP 429, and the body may be XML even when JSON was asked for'."""
    qbo.control.faults({"kind": "throttle", "remaining": 2})
    client = qbo.client()
    assert client.read("Account", qbo.control.objects(US, "Account")[0]["Id"])["Id"]
    assert client.stats.throttled == 2 and client.stats.retries == 2
    assert qbo.control.counters(US)["throttled"] == 2


def test_client_rereads_once_on_5010_and_retries_once(qbo: QboWorld) -> None:
    """Reference: 'On 5010: re-read once, retry once.' A payment bumped the invoice's SyncToken under us."""
    i = ids(qbo)
    client = qbo.client()
    cust = client.create("Customer", {"DisplayName": "Stale Token Co"}, request_id=rid(4))
    inv = client.create("Invoice", invoice_body(cust["Id"], i["item"], "90.00"), request_id=rid(5))
    qbo.control.ui(
        US,
        "Payment",
        {
            "CustomerRef": {"value": cust["Id"]},
            "TotalAmt": 10,
            "Line": [{"Amount": 10, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    )
    updated = client.update(
        "Invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"], "PrivateNote": "edited"}, request_id=rid(5, "v2")
    )
    assert updated["PrivateNote"] == "edited" and updated["SyncToken"] == "2"
    assert client.stats.conflicts_reread == 1
    with pytest.raises(E.ConflictError):
        client.update(
            "Invoice",
            {"Id": inv["Id"], "SyncToken": "0", "PrivateNote": "x"},
            request_id=rid(5, "v3"),
            reread_on_conflict=False,
        )


def test_client_refreshes_once_on_401_then_succeeds(qbo: QboWorld) -> None:
    """Reference: '3200 | 401 | access token expired or malformed | refresh once and retry'."""
    client = qbo.client()
    qbo.control.expire_access_tokens()
    assert client.preferences()["SalesFormsPrefs"]
    assert client.stats.token_refreshes == 1
    assert qbo.control.counters(US)["auth_failures"] == 1


def test_twenty_threads_on_one_realm_get_zero_429s(qbo: QboWorld) -> None:
    """Given a realm whose limits are tight (60 a minute on a clock running 30x, 10 at once, 40 ms per request),
    when 20 threads write 6 customers each through one shared pacer, then every write lands and the simulator
    counted no 429. Without pacing the same burst is throttled (second half), so the check can fail."""
    qbo.sim.clock.set_scale(30)
    qbo.control.limits(requests_per_minute=60, concurrent=10)
    qbo.control.faults({"kind": "latency", "delay": 0.04})
    limits = Limits(requests_per_window=60, max_in_flight=10)

    def burst(pacer: RealmPacer, tag: str) -> list[BaseException]:
        client = qbo.client(pacer=pacer, retry=RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=4))
        errors: list[BaseException] = []

        def work(t: int) -> None:
            for n in range(6):
                try:
                    client.create("Customer", {"DisplayName": f"{tag} {t}-{n}"}, request_id=rid(f"{tag}{t}-{n}"))
                except BaseException as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(20)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return errors

    assert burst(RealmPacer(limits, qbo.sim.clock), "Paced") == []
    counters = qbo.control.counters(US)
    assert counters["throttled"] == 0
    assert sum(c["DisplayName"].startswith("Paced") for c in qbo.control.objects(US, "Customer")) == 120

    qbo.control.advance(120)  # a fresh window
    unpaced = Limits(requests_per_window=10_000, max_in_flight=1_000)
    burst(RealmPacer(unpaced, qbo.sim.clock), "Unpaced")
    assert qbo.control.counters(US)["throttled"] > 0


def _fault_cases(qbo: QboWorld) -> list[tuple[str, Any, type[E.HireBooksError]]]:
    i = ids(qbo)

    def make_customer(name: str) -> Any:
        return lambda c: c.create("Customer", {"DisplayName": name}, request_id=rid(name))

    return [
        ("http_503", make_customer("A1"), E.TransientError),
        ("http_500", make_customer("A2"), E.TransientError),
        ("throttle", make_customer("A3"), E.ThrottledError),
        ("reset", lambda c: c.preferences(), E.TransientError),
        ("lost_answer", make_customer("A4"), E.UnknownOutcomeError),
        ("auth2", lambda c: c.preferences(), E.AuthError),
        ("none", lambda c: c.read("Invoice", "99999"), E.NotFoundError),
        ("none", lambda c: c.create("Invoice", {"Line": []}, request_id=rid("x1")), E.NeedsSetupError),
        (
            "none",
            lambda c: c.create("Invoice", invoice_body("99999", i["item"]), request_id=rid("x2")),
            E.NeedsSetupError,
        ),
        ("none", lambda c: c.query("select * from Nothing"), E.NeedsSetupError),
        ("dup", make_customer("Twin"), E.DuplicateError),
        ("overpay", None, E.RejectedError),
    ]


@pytest.mark.parametrize("case", range(12))
def test_every_fault_class_maps_to_its_domain_error(qbo: QboWorld, case: int) -> None:
    """Each kind of QuickBooks failure surfaces as the domain error that decides what happens next."""
    kind, action, expected = _fault_cases(qbo)[case]
    client = qbo.client(retry=RetryPolicy(max_attempts=1), timeout=(1.0, 2.0))
    if kind in ("http_503", "http_500", "throttle", "reset", "lost_answer"):
        qbo.control.faults({"kind": kind})
    elif kind == "auth2":
        qbo.control.faults({"kind": "auth", "remaining": 2})
    elif kind == "dup":
        client.create("Customer", {"DisplayName": "Twin"}, request_id=rid("first twin"))
    elif kind == "overpay":
        i = ids(qbo)
        cust = client.create("Customer", {"DisplayName": "Over"}, request_id=rid("over"))
        inv = client.create("Invoice", invoice_body(cust["Id"], i["item"], "5.00"), request_id=rid("over-inv"))

        def action(c: Any) -> Any:
            return c.create(
                "Payment",
                {
                    "CustomerRef": {"value": cust["Id"]},
                    "TotalAmt": "9.00",
                    "Line": [{"Amount": "9.00", "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
                },
                request_id=rid("over-pay"),
            )

    with pytest.raises(expected) as info:
        action(client)
    assert type(info.value) is expected
    assert info.value.source == "quickbooks"


def test_stale_token_maps_to_conflict(qbo: QboWorld) -> None:
    client = qbo.client()
    cust = client.create("Customer", {"DisplayName": "Conflict Co"}, request_id=rid("c"))
    client.update("Customer", {"Id": cust["Id"], "SyncToken": "0", "Notes": "1"}, request_id=rid("c", "2"))
    with pytest.raises(E.ConflictError) as info:
        client.update(
            "Customer",
            {"Id": cust["Id"], "SyncToken": "0", "Notes": "2"},
            request_id=rid("c", "3"),
            reread_on_conflict=False,
        )
    assert info.value.code == "5010"


def test_batch_splits_at_30_and_matches_answers_on_bid(qbo: QboWorld) -> None:
    """Reference: 'operations in one batch | 30' and 'the order of responses is not guaranteed: match on bId'."""
    client = qbo.client()
    client.create("Customer", {"DisplayName": "Batch 7"}, request_id=rid("pre"))
    items = [BatchItem(f"doc-{n}", "create", "Customer", {"DisplayName": f"Batch {n}"}) for n in range(45)]
    outcomes = client.batch(items)
    assert len(outcomes) == 45
    assert qbo.control.counters(US)["batches"] == 2
    for n in range(45):
        outcome = outcomes[f"doc-{n}"]
        if n == 7:
            assert isinstance(outcome.error, E.DuplicateError)
        else:
            assert outcome.ok and outcome.obj is not None and outcome.obj["DisplayName"] == f"Batch {n}"


def test_batch_retried_after_lost_answer_is_replayed(qbo: QboWorld) -> None:
    qbo.control.faults({"kind": "lost_answer", "path": "/batch", "remaining": 1})
    client = qbo.client()
    outcomes = client.batch([BatchItem(f"k{n}", "create", "Vendor", {"DisplayName": f"Vend {n}"}) for n in range(5)])
    assert all(o.ok for o in outcomes.values())
    assert len(qbo.control.objects(US, "Vendor")) == 5


def test_query_pages_and_escapes_quotes(qbo: QboWorld) -> None:
    """Reference: 'MAXRESULTS up to 1000 (default 100), STARTPOSITION 1-based' and 'escape ' as \\''."""
    client = qbo.client()
    names = [f"Page {n:02d}" for n in range(23)] + ["O'Neill's Staging"]
    client.batch([BatchItem(n, "create", "Customer", {"DisplayName": n}) for n in names])
    got = [c["DisplayName"] for c in client.query_all("Customer", page_size=5)]
    assert sorted(got) == sorted(names)
    assert client.find_by("Customer", "DisplayName", "O'Neill's Staging")[0]["DisplayName"] == "O'Neill's Staging"
    assert client.count("Customer", "DisplayName like 'Page%'") == 23


def test_cdc_halves_the_window_when_the_cap_is_hit(qbo: QboWorld) -> None:
    """Reference: 'CDC ... at most 1000 objects per response, no cursor: split the window' (cap lowered to 5)."""
    qbo.control.limits(cdc_max_objects=5)
    client = qbo.client()
    since = qbo.sim.clock.time()
    for n in range(12):
        client.create("Customer", {"DisplayName": f"Changed {n}"}, request_id=rid(f"cdc{n}"))
        qbo.control.advance(600)
    result = client.cdc(["Customer"], datetime.fromtimestamp(since - 1, UTC), cap=5)
    assert sorted(c["DisplayName"] for c in result.objects["Customer"]) == sorted(f"Changed {n}" for n in range(12))
    assert "Customer" in result.complete_since


def test_every_call_sends_minorversion_75(qbo: QboWorld) -> None:
    client = qbo.client()
    client.preferences()
    client.create("Customer", {"DisplayName": "MV"}, request_id=rid("mv"))
    client.query("select * from Customer")
    client.batch([BatchItem("b", "create", "Vendor", {"DisplayName": "MV V"})])
    assert {e["minorversion"] for e in qbo.control.log()} == {"75"}


def test_money_comes_back_as_decimal(qbo: QboWorld) -> None:
    client = qbo.client()
    cust = client.create("Customer", {"DisplayName": "Decimal Co"}, request_id=rid("d"))
    inv = client.create("Invoice", invoice_body(cust["Id"], ids(qbo)["item"], "19.99"), request_id=rid("d-inv"))
    assert inv["TotalAmt"] == Decimal("19.99") and isinstance(inv["TotalAmt"], Decimal)
