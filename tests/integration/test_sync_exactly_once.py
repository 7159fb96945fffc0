"""Exactly once under faults (invariant 2) and books that agree (invariant 4), with the guards shown necessary."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from typing import Any

import pytest
from hirebooks.qbo import client as qbo_client
from hirebooks.sync import push as push_module
from hirebooks.sync.push import RunCache, push_and_record

from tests.conftest import UK, US, SyncWorld

FAULTS = (
    {"kind": "http_503", "rate": 0.10, "methods": ["POST"]},
    {"kind": "lost_answer", "rate": 0.12, "methods": ["POST"]},
    {"kind": "timeout", "rate": 0.08, "methods": ["POST"], "delay": 0.3},
)


class Docs(list[tuple[str, dict[str, Any]]]):
    """The month's events; each is pushed the moment it happens (live mode: one run per event), if asked."""

    def __init__(self, emit: Any = None) -> None:
        super().__init__()
        self.emit = emit

    def append(self, item: tuple[str, dict[str, Any]]) -> None:
        super().append(item)
        if self.emit is not None:
            self.emit(*item)


def _workload(sync: SyncWorld, invoices: int, seed: int = 4, emit: Any = None) -> Docs:
    """A month in HireHop: invoices over four jobs (three depots, both packages), edits after approval, credit
    notes, payments over one or several invoices (some topped up later), and deposits taken in advance."""
    rng = random.Random(seed)
    jobs = sync.hh.ids["jobs"]
    docs = Docs(emit)
    approved: list[dict[str, Any]] = []
    for n in range(invoices):
        job = jobs[n % len(jobs)]
        uk = job in (jobs[1], jobs[2])
        lines = []
        for k in range(rng.randint(1, 4)):
            rate = rng.choice([0, 5, 20]) if uk else rng.choice([0, 7])
            lines.append(
                {
                    "QUANTITY": rng.randint(1, 12),
                    "UNIT_PRICE": f"{rng.randint(100, 90000) / 100:.2f}",
                    "VAT_RATE": rate,
                    "NOMINAL_GROUP": rng.choice([1, 2, 3, 4]),
                    "TAX_GROUP": {20: 1, 0: 2, 5: 3, 7: 1}[rate],  # UK groups: 1 standard, 2 exempt, 3 reduced
                    "TITLE": f"line {k}",
                }
            )
        inv = sync.hh.act("create_invoice", job_id=job, lines=lines)
        inv = sync.hh.act("approve_invoice", invoice_id=inv["ID"])
        approved.append(inv)
        docs.append(("invoice", inv))
        if n % 7 == 3:
            edited = sync.hh.act("edit_invoice", invoice_id=inv["ID"], lines=[*lines, {**lines[0], "QUANTITY": 1}])
            docs.append(("invoice", edited))
            approved[-1] = edited
        if n % 11 == 5:
            credit = sync.hh.act("credit_note", invoice_id=inv["ID"], lines=[{**lines[0], "QUANTITY": 1}])
            docs.append(("credit_note", credit))
    company = sync.hh.sim.companies[sync.company_id]
    for n in range(0, len(approved) - len(jobs), 5):
        first, second = approved[n], approved[n + len(jobs)]  # two invoices of the same job
        owing = [company.invoices[first["ID"]]["OWING"], company.invoices[second["ID"]]["OWING"]]
        amount = sum(owing) + 25
        taken = sync.hh.act(
            "take_payment", job_id=first["JOB_ID"], amount=str(amount), apply=[[first["ID"], str(owing[0])]]
        )
        docs.append(("payment", taken["deposit"]))
        if owing[1] > 0:  # later, the rest of the money pays the second invoice
            app = company.apply_payment(deposit_id=taken["deposit"]["ID"], invoice_id=second["ID"], amount=owing[1])
            docs.append(("payment", {**app, "AMOUNT": str(app["AMOUNT"])}))
    for n in range(0, len(approved), 10):  # deposits taken before the job, not yet applied to anything
        advance = sync.hh.act("take_payment", job_id=approved[n]["JOB_ID"], amount="250.00", apply=[])
        docs.append(("payment", advance["deposit"]))
    return docs


def _live(sync: SyncWorld) -> Any:
    """push_document in live mode: each event is stored, then pushed in a run of its own."""

    def emit(kind: str, doc: dict[str, Any]) -> None:
        pusher = sync.pusher(cache=RunCache(sync.source()), timeout=(1.0, 0.2))
        push_and_record(pusher, sync.outbox, sync.entry(kind, doc), retry_after=0)

    return emit


def _flush(sync: SyncWorld, passes: int = 5) -> None:
    """Then keep flushing what waits (bounded), as the buffer would."""
    for _ in range(passes):
        waiting = [e for e in sync.outbox.list_company(sync.company_id) if e.status not in ("synced", "skipped")]
        if not waiting:
            break
        pusher = sync.pusher(cache=RunCache(sync.source()), timeout=(1.0, 0.2))
        for entry in waiting:
            push_and_record(pusher, sync.outbox, entry, retry_after=0)


def _doubles(sync: SyncWorld) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for realm in (US, UK):
        for entity in ("Invoice", "CreditMemo", "PurchaseOrder"):
            counts.update(f"{entity}:{o['DocNumber']}" for o in sync.objects(entity, realm))
        counts.update(f"Payment:{p.get('PaymentRefNum')}" for p in sync.objects("Payment", realm))
    return {k: n for k, n in counts.items() if n > 1}


@pytest.mark.slow
def test_200_documents_under_30_percent_faults_land_exactly_once_and_reconcile(sync: SyncWorld) -> None:
    """Given a month of documents (over 200 with edits, credits and payments) pushed while QuickBooks fails 30% of
    writes with 5xx, slow answers and lost answers, then nothing is doubled, nothing is lost, and the reconciliation
    says the books agree."""
    sync.qbo.control.faults(*FAULTS, seed=99)
    docs = _workload(sync, 150, emit=_live(sync))
    _flush(sync)
    sync.qbo.control.clear_faults()
    assert len(docs) >= 200
    assert sync.qbo.control.counters()["faults_injected"] > 50  # the faults really happened
    entries = sync.outbox.list_company(sync.company_id)
    assert len(entries) == len(docs)
    assert [(e.doc_kind, e.status, e.reason) for e in entries if e.status not in ("synced", "skipped")] == []
    assert _doubles(sync) == {}
    report = sync.reconcile()
    assert report.agree, [f"{f.document}: {f.problem}" for f in report.findings[:10]]
    assert report.checked >= 150


# Invoices are also guarded by QuickBooks' own DocNumber check (6140 -> look-up); payments have no unique number,
# so the ablations lose half the answers to payment writes to make the contrast certain rather than likely.
ABLATION_FAULTS = ({"kind": "lost_answer", "rate": 0.5, "methods": ["POST"], "path": "/payment"}, *FAULTS)


def _ablation(sync: SyncWorld, idmap: Any = None) -> list[str]:
    """Run a smaller month under faults (pushing with `idmap` if given); say which of the exactly-once test's
    checks would fail, judged with the real id map."""
    sync.qbo.control.faults(*ABLATION_FAULTS, seed=5)
    real, sync.idmap = sync.idmap, idmap or sync.idmap
    try:
        _workload(sync, 40, seed=8, emit=_live(sync))
        _flush(sync)
    finally:
        sync.idmap = real
    sync.qbo.control.clear_faults()
    broken = [f"doubled {k}" for k in _doubles(sync)]
    broken += [
        f"{e.doc_kind} {e.doc_id} {e.status}"
        for e in sync.outbox.list_company(sync.company_id)
        if e.status not in ("synced", "skipped")
    ]
    report = sync.reconcile()
    broken += [f"{f.document}: {f.problem}" for f in report.findings]
    return broken


@pytest.mark.slow
def test_without_the_requestid_the_same_faults_double_documents(sync: SyncWorld, monkeypatch: Any) -> None:
    """The same kind of workload with the client sending no requestid: a lost answer retried writes again (payments
    have no unique number to stop it). This shows the exactly-once test would fail without requestids."""
    original = qbo_client.QboHttpClient.call

    def no_requestid(self: Any, *args: Any, **kw: Any) -> Any:
        kw["request_id"] = None
        return original(self, *args, **kw)

    monkeypatch.setattr(qbo_client.QboHttpClient, "call", no_requestid)
    broken = _ablation(sync)
    assert any(b.startswith("doubled Payment") for b in broken), broken


@pytest.mark.slow
def test_without_the_id_map_payments_are_created_again(sync: SyncWorld) -> None:
    """The same kind of workload with an id map that remembers nothing: a topped-up payment is sent as a new one,
    which QuickBooks refuses (it would pay an invoice twice), so entries are left failing and the books disagree."""

    class Amnesia:
        def get(self, *a: Any) -> None:
            return None

        def put(self, link: Any) -> None:
            pass

        def find_by_qbo(self, *a: Any) -> None:
            return None

    broken = _ablation(sync, Amnesia())
    assert any(b.startswith("payment") and "rejected" in b for b in broken), broken


def test_the_small_workload_doubles_nothing_with_the_guards_on(sync: SyncWorld) -> None:
    """Control for the two ablations: the same workload and faults with every guard in place."""
    assert _ablation(sync) == []


def test_request_ids_are_deterministic_per_document_version() -> None:
    a = push_module.request_id("1", "invoice:9", "9", "abc", 0)
    assert a == push_module.request_id("1", "invoice:9", "9", "abc", 0)
    assert a != push_module.request_id("1", "invoice:9", "9", "abd", 0)
    assert uuid.UUID(a)
