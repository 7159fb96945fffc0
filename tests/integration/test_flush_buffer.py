"""The buffer and its flush (issue 5, first part): latest versions only, dependency order, one flush per realm,
a time budget that stops cleanly, parked entries that wait for a person."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from hblocal.gateway import LambdaContext, LocalGateway, load_handler
from hirebooks.store.dynamo import DynamoLease
from hirebooks.sync.flush import FlushReport, flush_company, latest_per_document
from hirebooks.sync.model import OutboxEntry

from tests.conftest import US, LiveWorld, SyncWorld

HIRE = {"QUANTITY": 8, "UNIT_PRICE": "45.00", "VAT_RATE": 7, "NOMINAL_GROUP": 1, "TAX_GROUP": 1}


def buffered(sync: SyncWorld) -> None:
    for key in ("us", "uk"):
        sync.settings.packages[key] = sync.settings.packages[key].model_copy(update={"mode": "buffered"})


def flush(sync: SyncWorld, seconds: float = 60.0, holder: str | None = None, margin: float = 0.5) -> FlushReport:
    deadline = time.monotonic() + seconds
    return flush_company(
        sync.company_id,
        outbox=sync.outbox,
        lease=DynamoLease(sync.aws.table("SettingsTable")),
        realms=[US],
        make_pusher=sync.pusher,
        clock=sync.qbo.sim.clock,
        time_left=lambda: deadline - time.monotonic(),
        margin=margin,
        holder=holder,
    )


def queue(sync: SyncWorld, kind: str, doc: dict[str, Any]) -> OutboxEntry:
    """An accepted event that waits (a buffered package's), as the intake leaves it."""
    return sync.entry(kind, doc)


def queue_invoices(sync: SyncWorld, count: int) -> None:
    """Approved invoices on the first job, each waiting in the buffer."""
    job = sync.hh.ids["jobs"][0]
    for _ in range(count):
        inv = sync.hh.act("create_invoice", job_id=job, lines=[HIRE])
        queue(sync, "invoice", sync.hh.act("approve_invoice", invoice_id=inv["ID"]))


def test_only_the_latest_version_of_an_edited_document_is_sent(sync: SyncWorld) -> None:
    buffered(sync)
    job = sync.hh.ids["jobs"][0]
    inv = sync.hh.act("create_invoice", job_id=job, lines=[HIRE])
    queue(sync, "invoice", sync.hh.act("approve_invoice", invoice_id=inv["ID"]))
    queue(sync, "invoice", sync.hh.act("edit_invoice", invoice_id=inv["ID"], lines=[{**HIRE, "QUANTITY": 9}]))
    last = sync.hh.act("edit_invoice", invoice_id=inv["ID"], lines=[{**HIRE, "QUANTITY": 10}])
    queue(sync, "invoice", last)
    report = flush(sync)
    assert (report.due, report.pushed, report.superseded) == (3, 1, 2)
    (qb,) = sync.objects("Invoice")
    assert qb["SyncToken"] == "0"  # written once, with the latest content
    assert qb["TotalAmt"] == float(last["TOTAL"])
    entries = sync.outbox.list_company(sync.company_id)
    assert sorted(e.status for e in entries) == ["skipped", "skipped", "synced"]
    assert all("superseded by entry" in e.reason for e in entries if e.status == "skipped")
    assert sync.outbox.list_waiting(sync.company_id) == []


def test_latest_per_document_orders_by_dependency() -> None:
    def entry(kind: str, doc: str, t: str, data: dict[str, Any] | None = None) -> OutboxEntry:
        return OutboxEntry(1, f"{kind}{doc}{t}", kind, doc, "e", t, 0.0, {"data": data or {}})

    entries = [
        entry("payment", "70", "10:00", {"OWNER_DEPOSIT": 60}),  # an application of deposit 60
        entry("payment", "60", "09:00"),
        entry("credit_note", "50", "08:00"),
        entry("invoice", "40", "07:00"),
        entry("contact", "30", "06:30"),
        entry("purchase_order", "20", "06:00"),
        entry("invoice", "40", "07:30"),
    ]
    latest, older = latest_per_document(entries)
    assert [e.doc_kind for e in latest] == ["contact", "purchase_order", "invoice", "credit_note", "payment"]
    assert [e.event_time for e in latest if e.doc_kind in ("invoice", "payment")] == ["07:30", "10:00"]
    assert sorted(e.entry_id for e, _ in older) == ["invoice4007:00", "payment6009:00"]


def test_two_flushes_of_one_realm_started_together_do_not_both_work(sync: SyncWorld) -> None:
    buffered(sync)
    queue_invoices(sync, 4)
    sync.qbo.control.faults({"kind": "latency", "delay": 0.2})  # long enough to overlap
    reports: list[FlushReport] = []
    threads = [threading.Thread(target=lambda: reports.append(flush(sync))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.busy for r in reports) == [False, True]
    assert sum(r.pushed for r in reports) == 4 and len(sync.objects("Invoice")) == 4


def test_a_crashed_flushs_lease_expires(sync: SyncWorld) -> None:
    lease = DynamoLease(sync.aws.table("SettingsTable"))
    now = time.time()
    assert lease.acquire(f"realm:{US}", "crashed", now, 900)
    assert flush(sync).busy
    assert not lease.acquire(f"realm:{US}", "other", now + 899, 900)
    assert lease.acquire(f"realm:{US}", "other", now + 901, 900)  # the crashed holder's lease has run out
    lease.release(f"realm:{US}", "crashed")  # not the holder any more: changes nothing
    assert flush(sync).busy
    lease.release(f"realm:{US}", "other")
    assert not flush(sync).busy


def test_a_flush_given_two_seconds_stops_cleanly_and_the_next_finishes(sync: SyncWorld) -> None:
    """70 invoices need three batches; each batch call takes 0.6 s. Given two seconds (and a half-second margin),
    the flush sends what fits, stops between batches, leaves nothing half-done, and the next flush finishes."""
    buffered(sync)
    queue_invoices(sync, 70)
    sync.qbo.control.faults({"kind": "latency", "delay": 0.6, "path": "/batch"})
    first = flush(sync, seconds=2.0, margin=0.5)
    assert first.stopped_early and 0 < first.pushed < 70, first
    assert first.still_waiting == {"pending": 70 - first.pushed}
    links = [
        sync.idmap.get(sync.company_id, US, f"invoice:{e.doc_id}") for e in sync.outbox.list_company(sync.company_id)
    ]
    assert sum(1 for link in links if link is not None and link.state == "synced") == first.pushed
    assert all(link is None or link.state == "synced" for link in links)  # nothing half-done
    assert len(sync.objects("Invoice")) == first.pushed
    second = flush(sync)
    assert first.pushed + second.pushed == 70 and not second.stopped_early
    assert len(sync.objects("Invoice")) == 70 and sync.outbox.list_waiting(sync.company_id) == []


def test_the_flush_uses_batches_of_at_most_30(sync: SyncWorld) -> None:
    buffered(sync)
    queue_invoices(sync, 35)
    sync.qbo.control.reset_counters()
    report = flush(sync)
    assert report.pushed == 35 and report.batches == 2
    counters = sync.qbo.control.counters(US)
    assert counters["batches"] == 2 and counters["reads"] <= 3  # once contacts and items are known: no reads


def test_a_lost_batch_answer_doubles_nothing(sync: SyncWorld) -> None:
    """The batch commits but its answer is lost: the retried batch is replayed (same items, same request id)."""
    buffered(sync)
    queue_invoices(sync, 5)
    sync.qbo.control.faults({"kind": "lost_answer", "path": "/batch", "remaining": 1})
    report = flush(sync)
    assert report.pushed == 5 and len(sync.objects("Invoice")) == 5
    assert sync.qbo.control.counters(US)["replays"] == 1


def test_a_batch_that_never_answers_leaves_intents_found_by_docnumber_next_time(sync: SyncWorld) -> None:
    """Every attempt of a batch is lost (it committed each time... once, by its request id): the entries wait with
    their intents; the next flush looks the invoices up by DocNumber and creates nothing twice."""
    buffered(sync)
    queue_invoices(sync, 3)
    sync.qbo.control.faults({"kind": "lost_answer", "path": "/batch"})
    first = flush(sync)
    assert first.still_waiting == {"retry": 3} and len(sync.objects("Invoice")) == 3
    sync.qbo.control.clear_faults()
    for entry in sync.outbox.list_waiting(sync.company_id):
        sync.outbox.mark(entry, "retry", entry.reason, next_attempt_at=0.0, now=time.time())
    second = flush(sync)
    assert second.pushed == 3 and len(sync.objects("Invoice")) == 3


def test_a_parked_entry_waits_until_someone_retries_it(sync: SyncWorld) -> None:
    package = sync.settings.packages["us"]
    sync.settings.packages["us"] = package.model_copy(update={"default_revenue_account": None, "mode": "buffered"})
    inv = sync.hh.act("create_invoice", job_id=sync.hh.ids["jobs"][0], lines=[{**HIRE, "NOMINAL_GROUP": 9}])
    entry = queue(sync, "invoice", sync.hh.act("approve_invoice", invoice_id=inv["ID"]))
    first = flush(sync)
    assert first.still_waiting == {"needs_setup": 1}
    assert flush(sync).due == 0  # parked: the scheduled flush does not keep hammering it
    (waiting,) = sync.outbox.list_waiting(sync.company_id)
    assert waiting.status == "needs_setup" and "Nominal group 9" in waiting.reason
    sync.settings.packages["us"].nominal_accounts["9"] = package.default_revenue_account or ""
    sync.outbox.mark(waiting, "pending", "retry asked by the bookkeeper", now=time.time())
    assert flush(sync).pushed == 1
    assert sync.outbox.get(sync.company_id, entry.entry_id).status == "synced"  # type: ignore[union-attr]


def test_a_transient_failure_backs_off_with_jitter(sync: SyncWorld) -> None:
    buffered(sync)
    sync.qbo.control.faults({"kind": "http_503", "methods": ["POST"]})
    inv = sync.hh.act("create_invoice", job_id=sync.hh.ids["jobs"][0], lines=[HIRE])
    queue(sync, "invoice", sync.hh.act("approve_invoice", invoice_id=inv["ID"]))
    before = time.time()
    assert flush(sync).still_waiting == {"retry": 1}
    (entry,) = sync.outbox.list_waiting(sync.company_id)
    assert entry.status == "retry" and 30 <= entry.next_attempt_at - before <= 61
    assert flush(sync).due == 0  # not due yet


def test_post_buffer_flush_needs_the_admin_token_and_flushes(flush_api: LiveWorld) -> None:
    live = flush_api
    live.buffered()
    hh = live.intake
    live.approve(hh.ids["jobs"][0], [HIRE])
    live.delivered(1)
    url = f"{hh.gateway_url}/buffer/flush"
    assert requests.post(url, json={"company_id": hh.company_id}).status_code == 401
    wrong = requests.post(url, json={}, headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401 and "admin token" in wrong.json()["message"]
    bad = requests.post(url, json={"company_id": "x"}, headers={"Authorization": "Bearer admin-secret-for-tests"})
    assert bad.status_code == 422
    assert [e.status for e in hh.entries()] == ["pending"]  # nothing changed by the refused calls
    ok = requests.post(
        url, json={"company_id": hh.company_id}, headers={"Authorization": "Bearer admin-secret-for-tests"}
    )
    assert ok.status_code == 200 and ok.json()["reports"][0]["pushed"] == 1
    assert len(live.qbo.control.objects(US, "Invoice")) == 1


def test_the_schedule_flushes_every_set_up_company(flush_api: LiveWorld) -> None:
    live = flush_api
    live.buffered()
    hh = live.intake
    live.approve(hh.ids["jobs"][0], [HIRE])
    live.delivered(1)
    route = next(r for r in LocalGateway(live.intake.aws.tables).routes if r.function == "FlushBufferFunction")
    handler = load_handler(route, "_schedule_test")
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    result = handler(event, LambdaContext("FlushBufferFunction", 300))
    mine = [r for r in result["reports"] if r["company_id"] == hh.company_id]
    assert mine and mine[0]["pushed"] == 1
    assert [e.status for e in hh.entries()] == ["synced"]


def test_a_credit_notes_application_that_fails_waits_and_is_done_next_time(sync: SyncWorld) -> None:
    """Found by the demo: the credit memo went in a batch, its $0 application failed (QuickBooks had a bad minute),
    and the entry was marked synced: HireHop netted the credit off the invoice, QuickBooks never did."""
    buffered(sync)
    job = sync.hh.ids["jobs"][0]
    inv = sync.hh.act("approve_invoice", invoice_id=sync.hh.act("create_invoice", job_id=job, lines=[HIRE])["ID"])
    queue(sync, "invoice", inv)
    assert flush(sync).pushed == 1
    credit = sync.hh.act("credit_note", invoice_id=inv["ID"], lines=[{**HIRE, "QUANTITY": 1}])
    queue(sync, "credit_note", credit)
    sync.qbo.control.faults({"kind": "http_503", "path": "/payment", "methods": ["POST"], "remaining": 6})
    first = flush(sync)
    assert first.pushed == 0 and sync.objects("CreditMemo")  # the memo is there, its application is not
    assert not [p for p in sync.objects("Payment") if p.get("PaymentRefNum") == f"HHC{credit['ID']}"]
    sync.qbo.control.clear_faults()
    for entry in sync.outbox.list_waiting(sync.company_id):
        sync.outbox.mark(entry, entry.status, entry.reason, next_attempt_at=0.0, now=time.time())
    second = flush(sync)
    assert second.pushed + second.unchanged == 1 and not sync.outbox.list_waiting(sync.company_id)
    applied = [p for p in sync.objects("Payment") if p.get("PaymentRefNum") == f"HHC{credit['ID']}"]
    assert len(applied) == 1 and len(sync.objects("CreditMemo")) == 1
    assert sync.reconcile([job]).agree
