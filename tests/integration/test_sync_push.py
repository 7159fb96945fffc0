"""The push use case against both simulators over loopback, with the id map and outbox in moto's DynamoDB."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from tests.conftest import UK, US, SyncWorld

HIRE = {"QUANTITY": 8, "UNIT_PRICE": "45.00", "VAT_RATE": 7, "NOMINAL_GROUP": 1, "TAX_GROUP": 1, "TITLE": "Moving head"}
CREW = {"QUANTITY": 1, "UNIT_PRICE": "120.00", "VAT_RATE": 0, "NOMINAL_GROUP": 3, "TAX_GROUP": 2, "TITLE": "Delivery"}


def approved(sync: SyncWorld, job: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
    inv = sync.hh.act("create_invoice", job_id=job, lines=lines)
    return dict(sync.hh.act("approve_invoice", invoice_id=inv["ID"]))


def test_approved_invoice_becomes_one_quickbooks_invoice_with_customer_items_and_tax(sync: SyncWorld) -> None:
    """Given an approved invoice in HireHop (depot Main -> the US package), when it is pushed, then QuickBooks has
    its customer, one Service item per income account, and the invoice with HireHop's lines, tax and total."""
    job = sync.hh.ids["jobs"][0]
    inv = approved(sync, job, [HIRE, CREW])
    outcome = sync.push("invoice", inv)
    assert outcome.status == "synced", outcome.reason
    (qb,) = sync.objects("Invoice")
    assert qb["DocNumber"] == inv["NUMBER"]
    customer = next(c for c in sync.objects("Customer") if c["Id"] == qb["CustomerRef"]["value"])
    assert customer["DisplayName"] == "Riverside Theatre"
    assert Decimal(str(qb["TotalAmt"])) == Decimal(str(inv["TOTAL"]))
    assert Decimal(str(qb["TxnTaxDetail"]["TotalTax"])) == Decimal(str(inv["TAX"]))
    assert [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in qb["Line"]] == ["TAX", "NON"]
    items = {i["Name"] for i in sync.objects("Item")}
    assert {"HireBooks - Equipment Rental Income", "HireBooks - Delivery and Collection Income"} <= items
    assert sync.reconcile([job]).agree


def test_editing_an_approved_invoice_updates_the_same_quickbooks_invoice(sync: SyncWorld) -> None:
    job = sync.hh.ids["jobs"][0]
    inv = approved(sync, job, [HIRE])
    sync.push("invoice", inv)
    edited = sync.hh.act("edit_invoice", invoice_id=inv["ID"], lines=[{**HIRE, "QUANTITY": 10}])
    outcome = sync.push("invoice", edited)
    assert outcome.status == "synced" and "updated" in outcome.reason
    (qb,) = sync.objects("Invoice")
    assert qb["SyncToken"] == "1" and Decimal(str(qb["TotalAmt"])) == Decimal(str(edited["TOTAL"]))
    again = sync.push("invoice", edited)
    assert again.status == "skipped" and "unchanged" in again.reason  # the content hash has not changed
    assert sync.objects("Invoice")[0]["SyncToken"] == "1"


def test_client_and_supplier_become_a_customer_and_a_vendor_with_different_names(sync: SyncWorld) -> None:
    """Reference hirehop.md: 'a HireHop contact that is both becomes two QuickBooks records'; the naming rule adds
    the package's supplier suffix to the Vendor."""
    both = sync.hh.ids["contacts"][3]  # Bright Sparks Lighting: client and supplier, job 3 is theirs
    job = sync.hh.ids["jobs"][2]
    inv = approved(sync, sync.hh.ids["jobs"][0], [HIRE])
    sync.push("invoice", inv)
    sparks_inv = approved(sync, job, [HIRE])
    sync.push("invoice", sparks_inv)
    po = sync.hh.act(
        "issue_purchase_order",
        job_id=sync.hh.ids["jobs"][0],
        supplier_id=both,
        lines=[{"QUANTITY": 2, "UNIT_PRICE": "80.00", "NOMINAL_GROUP": 5}],
    )
    outcome = sync.push("purchase_order", po)
    assert outcome.status == "synced", outcome.reason
    vendors = [v["DisplayName"] for v in sync.objects("Vendor")]
    assert vendors == ["Bright Sparks Lighting (Supplier)"]
    # The job is in the virtual Festival Unit under North Depot, so its invoice went to the UK company.
    assert [c["DisplayName"] for c in sync.objects("Customer", UK)] == ["Bright Sparks Lighting"]
    (qb_po,) = sync.objects("PurchaseOrder")
    assert qb_po["DocNumber"] == po["NUMBER"] and Decimal(str(qb_po["TotalAmt"])) == Decimal("160.00")


def test_a_one_off_client_gets_a_customer_of_its_own(sync: SyncWorld) -> None:
    job = sync.hh.ids["jobs"][3]
    inv = approved(sync, job, [HIRE])
    assert sync.push("invoice", inv).status == "synced"
    names = [c["DisplayName"] for c in sync.objects("Customer")]
    assert names == [f"Priya Shah (job {job})"]


def test_credit_note_nets_off_its_invoice_in_quickbooks_too(sync: SyncWorld) -> None:
    job = sync.hh.ids["jobs"][0]
    inv = approved(sync, job, [HIRE])
    sync.push("invoice", inv)
    credit = sync.hh.act("credit_note", invoice_id=inv["ID"], lines=[{**HIRE, "QUANTITY": 2}])
    outcome = sync.push("credit_note", credit)
    assert outcome.status == "synced" and "applied to its invoice" in outcome.reason
    (memo,) = sync.objects("CreditMemo")
    assert memo["DocNumber"] == credit["NUMBER"] and memo["RemainingCredit"] == 0
    assert sync.objects("Invoice")[0]["Balance"] == float(Decimal(str(inv["TOTAL"])) - Decimal(str(credit["TOTAL"])))
    assert sync.reconcile([job]).agree


def test_payment_over_several_invoices_with_money_left_unapplied(sync: SyncWorld) -> None:
    job = sync.hh.ids["jobs"][0]
    first = approved(sync, job, [HIRE])
    second = approved(sync, job, [CREW])
    taken = sync.hh.act(
        "take_payment",
        job_id=job,
        amount="1000.00",
        apply=[[first["ID"], str(first["TOTAL"])], [second["ID"], "100.00"]],
    )
    outcome = sync.push("payment", taken["deposit"])  # pushes the two invoices first, as dependencies
    assert outcome.status == "synced", outcome.reason
    (pay,) = sync.objects("Payment")
    assert pay["TotalAmt"] == 1000.0
    assert pay["UnappliedAmt"] == float(Decimal("1000.00") - Decimal(str(first["TOTAL"])) - Decimal("100.00"))
    balances = sorted(i["Balance"] for i in sync.objects("Invoice"))
    assert balances == sorted([0.0, float(Decimal(str(second["TOTAL"])) - 100)])
    assert sync.reconcile([job]).agree


def test_an_application_event_updates_the_payment(sync: SyncWorld) -> None:
    job = sync.hh.ids["jobs"][0]
    inv = approved(sync, job, [HIRE])
    taken = sync.hh.act("take_payment", job_id=job, amount="500.00", apply=[])
    sync.push("payment", taken["deposit"])
    assert sync.objects("Payment")[0]["UnappliedAmt"] == 500.0
    app = sync.hh.sim.companies[sync.company_id].apply_payment(
        deposit_id=taken["deposit"]["ID"], invoice_id=inv["ID"], amount="200.00"
    )
    outcome = sync.push("payment", {**app, "AMOUNT": str(app["AMOUNT"])})
    assert outcome.status == "synced" and "updated" in outcome.reason
    (pay,) = sync.objects("Payment")
    assert pay["UnappliedAmt"] == 300.0 and len(pay["Line"]) == 1
    assert sync.reconcile([job]).agree


def test_a_missing_mapping_waits_with_a_message_then_syncs_once_set_up(sync: SyncWorld) -> None:
    """Given a line whose nominal group has no account and a package with no default revenue account, the entry
    waits with a message naming the group; once it is assigned, the next push succeeds."""
    package = sync.settings.packages["us"]
    sync.settings.packages["us"] = package.model_copy(update={"default_revenue_account": None})
    job = sync.hh.ids["jobs"][0]
    inv = approved(sync, job, [{**HIRE, "NOMINAL_GROUP": 9}])
    entry = sync.entry("invoice", inv)
    from hirebooks.sync.push import push_and_record

    outcome = push_and_record(sync.pusher(), sync.outbox, entry)
    assert outcome.status == "needs_setup"
    stored = sync.outbox.get(sync.company_id, entry.entry_id)
    assert stored is not None and stored.status == "needs_setup"
    assert "Nominal group 9" in stored.reason and "US books" in stored.reason
    assert sync.objects("Invoice") == []
    sync.settings.packages["us"].nominal_accounts["9"] = package.default_revenue_account or ""
    assert push_and_record(sync.pusher(), sync.outbox, entry).status == "synced"
    assert len(sync.objects("Invoice")) == 1


def test_a_missing_tax_mapping_names_the_tax_group_and_depot(sync: SyncWorld) -> None:
    job = sync.hh.ids["jobs"][1]  # North Depot -> UK books
    inv = approved(sync, job, [{**HIRE, "VAT_RATE": 20, "TAX_GROUP": 7}])
    outcome = sync.push("invoice", inv)
    assert outcome.status == "needs_setup"
    assert "Tax group 7" in outcome.reason and f"depot {inv['DEPOT_ID']}" in outcome.reason


def test_buffered_package_holds_documents_until_a_sync(sync: SyncWorld) -> None:
    sync.settings.packages["us"] = sync.settings.packages["us"].model_copy(update={"mode": "buffered"})
    inv = approved(sync, sync.hh.ids["jobs"][0], [HIRE])
    entry = sync.entry("invoice", inv)
    from hirebooks.sync.push import push_and_record

    outcome = push_and_record(sync.pusher(), sync.outbox, entry)
    assert outcome.status == "pending" and "buffered" in outcome.reason
    assert sync.objects("Invoice") == []
    assert push_and_record(sync.pusher(), sync.outbox, entry, force=True).status == "synced"


def test_a_create_whose_bookkeeping_was_lost_is_found_by_docnumber(sync: SyncWorld) -> None:
    """A crash between QuickBooks' write and our bookkeeping: the id map holds only the intent ("creating") and a
    request id QuickBooks no longer matches. The next push looks the invoice up by DocNumber instead of creating it."""
    job = sync.hh.ids["jobs"][0]
    inv = approved(sync, job, [HIRE])
    pusher = sync.pusher()
    original_save = pusher._save
    crashed = {"done": False}

    def crash_once(link: Any, obj: Any, digest: str) -> Any:
        if link.key == f"invoice:{inv['ID']}" and not crashed["done"]:
            crashed["done"] = True
            raise RuntimeError("the function died here")
        return original_save(link, obj, digest)

    pusher._save = crash_once  # type: ignore[method-assign]
    entry = sync.entry("invoice", inv)
    with contextlib.suppress(RuntimeError):
        pusher.push(entry)
    link = sync.idmap.get(sync.company_id, US, f"invoice:{inv['ID']}")
    assert link is not None and link.state == "creating"
    link.request_id = "forgotten"  # even with the request id lost, the DocNumber look-up finds it
    sync.idmap.put(link)
    edited = sync.hh.act("edit_invoice", invoice_id=inv["ID"], lines=[{**HIRE, "QUANTITY": 9}])
    assert sync.push("invoice", edited).status == "synced"
    (qb,) = sync.objects("Invoice")
    assert Decimal(str(qb["TotalAmt"])) == Decimal(str(edited["TOTAL"]))


def test_us_and_uk_books_reconcile_to_the_cent_where_rounding_would_differ(sync: SyncWorld) -> None:
    """HireHop rounds VAT per line; QuickBooks would round once per tax code. Lines of 0.13 at 20% are 0.03 each in
    HireHop (0.06) but 0.05 as QuickBooks computes them; HireBooks sends HireHop's tax, so both companies agree."""
    uk_job, us_job = sync.hh.ids["jobs"][1], sync.hh.ids["jobs"][0]
    cheap = {"QUANTITY": 1, "UNIT_PRICE": "0.13", "NOMINAL_GROUP": 1}
    uk = approved(
        sync,
        uk_job,
        [{**cheap, "VAT_RATE": 20, "TAX_GROUP": 1}] * 3
        + [{**cheap, "VAT_RATE": 5, "TAX_GROUP": 3}, {**cheap, "VAT_RATE": 0, "TAX_GROUP": 2}],
    )
    us = approved(sync, us_job, [{**cheap, "VAT_RATE": 7}] * 5 + [{**cheap, "VAT_RATE": 0}])
    assert sync.push("invoice", uk).status == "synced"
    assert sync.push("invoice", us).status == "synced"
    (uk_qb,) = sync.objects("Invoice", UK)
    assert Decimal(str(uk_qb["TxnTaxDetail"]["TotalTax"])) == Decimal("0.10")  # 3 x 0.03 + 0.01 + 0
    assert Decimal(str(uk_qb["TotalAmt"])) == Decimal(str(uk["TOTAL"]))
    report = sync.reconcile([uk_job, us_job])
    assert report.agree and report.checked == 2, report.summary()


def test_reconciliation_reports_what_a_bookkeeper_changed_in_quickbooks(sync: SyncWorld) -> None:
    job = sync.hh.ids["jobs"][0]
    inv = approved(sync, job, [HIRE, CREW])
    sync.push("invoice", inv)
    assert sync.reconcile([job]).agree
    (qb,) = sync.objects("Invoice")
    sync.qbo.control.ui(
        US,
        "Invoice",
        {"Id": qb["Id"], "SyncToken": qb["SyncToken"], "sparse": True, "Line": qb["Line"][:1]},
        operation="update",
    )
    report = sync.reconcile([job])
    assert not report.agree
    problems = {f.problem.split(" ")[0] for f in report.findings}
    assert {"1", "net", "total"} <= problems  # "1 lines in QuickBooks, 2 in HireHop", net and total differ
    assert "do not agree" in report.summary()


def test_paid_then_credited_invoice_leaves_customer_credit_not_an_error(sync: SyncWorld) -> None:
    """HireHop lets an invoice paid in full then be credited (owing goes negative: the customer is in credit).
    QuickBooks cannot over-apply an invoice, so the credit stays as the customer's credit there."""
    job = sync.hh.ids["jobs"][0]
    inv = approved(sync, job, [HIRE])
    total = str(inv["TOTAL"])
    paid = sync.hh.act("take_payment", job_id=job, amount=total, apply=[[inv["ID"], total]])
    assert sync.push("payment", paid["deposit"]).status == "synced"
    credit = sync.hh.act("credit_note", invoice_id=inv["ID"], lines=[{**HIRE, "QUANTITY": 1}])
    outcome = sync.push("credit_note", credit)
    assert outcome.status == "synced" and "stays as the customer's credit" in outcome.reason
    assert sync.objects("Invoice")[0]["Balance"] == 0
    assert sync.objects("CreditMemo")[0]["RemainingCredit"] == float(Decimal(str(credit["TOTAL"])))
    assert sync.reconcile([job]).agree


def test_credited_then_paid_in_full_leaves_the_excess_unapplied(sync: SyncWorld) -> None:
    """The other order: credit first (applied in QuickBooks), then the customer pays the full original total; the
    payment's excess over what the invoice still owes stays unapplied in QuickBooks."""
    job = sync.hh.ids["jobs"][0]
    inv = approved(sync, job, [HIRE])
    sync.push("invoice", inv)
    credit = sync.hh.act("credit_note", invoice_id=inv["ID"], lines=[{**HIRE, "QUANTITY": 1}])
    assert "applied to its invoice" in sync.push("credit_note", credit).reason
    total = str(inv["TOTAL"])
    paid = sync.hh.act("take_payment", job_id=job, amount=total, apply=[[inv["ID"], total]])
    assert sync.push("payment", paid["deposit"]).status == "synced"
    pay = next(p for p in sync.objects("Payment") if p.get("PaymentRefNum", "").startswith("HH1"))
    assert pay["TotalAmt"] == float(Decimal(total)) and pay["UnappliedAmt"] == float(Decimal(str(credit["TOTAL"])))
    assert sync.objects("Invoice")[0]["Balance"] == 0
    assert sync.reconcile([job]).agree
