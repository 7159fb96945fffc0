"""Live mode end to end on the local stack: HireHop simulator -> gateway -> push_document -> QuickBooks simulator."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import UK, US, LiveWorld

HIRE = {"QUANTITY": 8, "UNIT_PRICE": "45.00", "VAT_RATE": 7, "NOMINAL_GROUP": 1, "TAX_GROUP": 1}


def test_approved_invoice_is_in_quickbooks_before_hirehops_webhook_returns(live: LiveWorld) -> None:
    """Given a live package, when a HireHop user approves an invoice, then by the time HireHop has its webhook's
    answer, the invoice is already in QuickBooks."""
    hh = live.intake
    inv = hh.act("create_invoice", job_id=hh.ids["jobs"][0], lines=[HIRE])
    hh.act("approve_invoice", invoice_id=inv["ID"])
    sent = live.delivered(1)
    assert sent[0]["status"] == "202"
    (qb,) = live.qbo.control.objects(US, "Invoice")  # no waiting: it was pushed inside the webhook's answer
    assert qb["DocNumber"] == "INV-12245"
    entry = hh.entries()[0]
    assert entry.status == "synced" and "Invoice INV-12245 created" in entry.reason


def test_an_edit_after_approval_updates_the_same_invoice_live(live: LiveWorld) -> None:
    hh = live.intake
    inv = hh.act("create_invoice", job_id=hh.ids["jobs"][0], lines=[HIRE])
    hh.act("approve_invoice", invoice_id=inv["ID"])
    live.delivered(1)
    edited = hh.act("edit_invoice", invoice_id=inv["ID"], lines=[{**HIRE, "QUANTITY": 10}])
    live.delivered(2)
    (qb,) = live.qbo.control.objects(US, "Invoice")
    assert Decimal(str(qb["TotalAmt"])) == Decimal(str(edited["TOTAL"])) and qb["SyncToken"] == "1"


def test_every_kind_of_document_arrives_live(live: LiveWorld) -> None:
    hh = live.intake
    job = hh.ids["jobs"][0]
    inv = hh.act("create_invoice", job_id=job, lines=[HIRE])
    hh.act("approve_invoice", invoice_id=inv["ID"])
    hh.act("credit_note", invoice_id=inv["ID"], lines=[{**HIRE, "QUANTITY": 1}])
    hh.act("take_payment", job_id=job, amount="100.00", apply=[[inv["ID"], "100.00"]])
    hh.act(
        "issue_purchase_order",
        job_id=job,
        supplier_id=hh.ids["contacts"][3],
        lines=[{"QUANTITY": 2, "UNIT_PRICE": "80.00", "NOMINAL_GROUP": 5}],
    )
    uk_inv = hh.act("create_invoice", job_id=hh.ids["jobs"][2], lines=[{**HIRE, "VAT_RATE": 20}])
    hh.act("approve_invoice", invoice_id=uk_inv["ID"])
    live.delivered(6)
    entries = hh.entries()
    assert {e.doc_kind for e in entries if e.status == "synced"} == {
        "invoice",
        "credit_note",
        "payment",
        "purchase_order",
    }
    # A payment taken and applied fires two events; the first push already sent HireHop's current state, so the
    # second finds nothing new.
    assert all(e.status == "synced" or (e.status == "skipped" and "unchanged" in e.reason) for e in entries), [
        (e.doc_kind, e.status, e.reason) for e in entries
    ]
    objects = live.qbo.control.objects
    assert len(objects(US, "Invoice")) == 1 and len(objects(UK, "Invoice")) == 1
    assert len(objects(US, "CreditMemo")) == 1 and len(objects(US, "PurchaseOrder")) == 1
    assert {p.get("PaymentRefNum", "")[:3] for p in objects(US, "Payment")} == {"HH1", "HHC"}
    assert [v["DisplayName"] for v in objects(US, "Vendor")] == ["Bright Sparks Lighting (Supplier)"]


def test_a_quickbooks_outage_leaves_the_document_in_the_buffer_with_its_reason(live: LiveWorld) -> None:
    hh = live.intake
    live.qbo.control.faults({"kind": "http_503", "methods": ["POST"]})
    inv = hh.act("create_invoice", job_id=hh.ids["jobs"][0], lines=[HIRE])
    hh.act("approve_invoice", invoice_id=inv["ID"])
    assert live.delivered(1)[0]["status"] == "202"  # accepted and stored, although QuickBooks is down
    (entry,) = hh.entries()
    assert entry.status == "retry" and "will retry" in entry.reason and entry.next_attempt_at > 0
    assert live.qbo.control.objects(US, "Invoice") == []


def test_a_buffered_package_holds_the_document(live: LiveWorld) -> None:

    live.buffered()
    hh = live.intake
    live.approve(hh.ids["jobs"][0], [HIRE])
    live.delivered(1)
    (entry,) = hh.entries()
    assert entry.status == "pending" and "buffered" in entry.reason
    assert live.qbo.control.objects(US, "Invoice") == []
