"""The simulator's write rules against ../shared/reference/quickbooks.md ("Writes", "Entities used here")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import UK, US, QboWorld
from tests.sim.helpers import customer, fault, ids, invoice_body, ok, post


def test_requestid_replays_the_first_answer_instead_of_writing_again(qbo: QboWorld) -> None:
    """Reference, Writes: 'A repeat of the same id returns the original response instead of writing again.'"""
    first = ok(post(qbo, "Customer", {"DisplayName": "Replay Ltd"}, requestid="rid-1"), "Customer")
    second = ok(post(qbo, "Customer", {"DisplayName": "Replay Ltd"}, requestid="rid-1"), "Customer")
    assert first == second
    assert sum(c["DisplayName"] == "Replay Ltd" for c in qbo.control.objects(US, "Customer")) == 1
    assert qbo.control.counters(US)["replays"] == 1


def test_requestid_replay_survives_deletion(qbo: QboWorld) -> None:
    """Reference: 'The original response is replayed even after the object was deleted, so a deliberate re-push
    needs a new id'."""
    cust = customer(qbo, "Gone Events")
    i = ids(qbo)
    inv = ok(post(qbo, "Invoice", invoice_body(cust["Id"], i["item"], doc="D-1"), requestid="inv-a"), "Invoice")
    ok(post(qbo, "Invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"]}, operation="delete"), "Invoice")
    replay = ok(post(qbo, "Invoice", invoice_body(cust["Id"], i["item"], doc="D-1"), requestid="inv-a"), "Invoice")
    assert replay["Id"] == inv["Id"]
    assert qbo.control.objects(US, "Invoice") == []
    fresh = ok(post(qbo, "Invoice", invoice_body(cust["Id"], i["item"], doc="D-1"), requestid="inv-b"), "Invoice")
    assert fresh["Id"] != inv["Id"]


def test_requestid_longer_than_50_is_refused(qbo: QboWorld) -> None:
    """Reference, Limits: 'requestid | at most 50 characters'."""
    resp = post(qbo, "Customer", {"DisplayName": "Long Id"}, requestid="x" * 51)
    assert resp.status_code == 400
    assert qbo.control.objects(US, "Customer") == []


def test_stale_synctoken_fails_with_5010(qbo: QboWorld) -> None:
    """Reference: 'every update carries Id and the current SyncToken; a stale token fails with code 5010
    "Stale Object Error" (HTTP 400)'."""
    cust = customer(qbo, "Stale Co")
    ok(post(qbo, "Customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Notes": "a"}), "Customer")
    status, code, _ = fault(post(qbo, "Customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Notes": "b"}))
    assert (status, code) == (400, "5010")


def test_sparse_update_keeps_unsent_fields_and_full_update_replaces(qbo: QboWorld) -> None:
    """Reference: 'Sparse update: {"Id", "SyncToken", "sparse": true, <changed fields>}. Without sparse it is a full
    replace.'"""
    cust = ok(
        post(qbo, "Customer", {"DisplayName": "Sparse Co", "Notes": "keep me", "CompanyName": "SC"}),
        "Customer",
    )
    sparse = ok(
        post(qbo, "Customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "SC2"}),
        "Customer",
    )
    assert sparse["Notes"] == "keep me" and sparse["CompanyName"] == "SC2" and sparse["SyncToken"] == "1"
    full = ok(post(qbo, "Customer", {"Id": cust["Id"], "SyncToken": "1", "DisplayName": "Sparse Co"}), "Customer")
    assert "Notes" not in full and "CompanyName" not in full


def test_sparse_update_replaces_lines_as_a_whole(qbo: QboWorld) -> None:
    """Reference: 'Line is always replaced as a whole collection.'"""
    cust = customer(qbo, "Lines Co")
    i = ids(qbo)
    body = invoice_body(cust["Id"], i["item"], "10.00")
    body["Line"].append(dict(body["Line"][0]))
    inv = ok(post(qbo, "Invoice", body), "Invoice")
    assert len(inv["Line"]) == 2 and inv["TotalAmt"] == Decimal("20.0")
    one = invoice_body(cust["Id"], i["item"], "30.00")["Line"]
    upd = ok(
        post(qbo, "Invoice", {"Id": inv["Id"], "SyncToken": inv["SyncToken"], "sparse": True, "Line": one}),
        "Invoice",
    )
    assert len(upd["Line"]) == 1 and upd["TotalAmt"] == Decimal("30.0")


@pytest.mark.parametrize("entity", ["Vendor", "Employee", "Customer"])
def test_display_names_are_unique_across_customers_vendors_and_employees(qbo: QboWorld, entity: str) -> None:
    """Reference: 'DisplayName must be unique across all Customers, Vendors and Employees (error 6240, "Another
    customer, vendor or employee is already using this name")'."""
    customer(qbo, "Shared Name Ltd")
    status, code, detail = fault(post(qbo, entity, {"DisplayName": "Shared Name Ltd"}))
    assert (status, code) == (400, "6240")
    assert "Another customer, vendor or employee is already using this name" in detail


def test_inactive_records_still_hold_their_name(qbo: QboWorld) -> None:
    """Reference: 'Inactive records most likely still hold their name.'"""
    cust = customer(qbo, "Sleeping Ltd")
    ok(
        post(qbo, "Customer", {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Active": False}),
        "Customer",
    )
    assert fault(post(qbo, "Vendor", {"DisplayName": "Sleeping Ltd"}))[1] == "6240"


def test_display_name_rules(qbo: QboWorld) -> None:
    """Reference: 'at most 500 characters, no `:`, tab or newline'."""
    assert post(qbo, "Customer", {"DisplayName": "x" * 501}).status_code == 400
    assert post(qbo, "Customer", {"DisplayName": "Parent:Child"}).status_code == 400
    assert qbo.control.objects(US, "Customer") == []


def test_duplicate_docnumber_fails_with_6140_unless_allowed(qbo: QboWorld) -> None:
    """Reference, error table: '6140 | duplicate DocNumber | ... include=allowduplicatedocnum only if the customer
    wants it'."""
    cust = customer(qbo, "Dup Doc Co")
    i = ids(qbo)
    ok(post(qbo, "Invoice", invoice_body(cust["Id"], i["item"], doc="INV-7")), "Invoice")
    assert fault(post(qbo, "Invoice", invoice_body(cust["Id"], i["item"], doc="INV-7")))[:2] == (400, "6140")
    allowed = post(qbo, "Invoice", invoice_body(cust["Id"], i["item"], doc="INV-7"), include="allowduplicatedocnum")
    assert ok(allowed, "Invoice")["DocNumber"] == "INV-7"


def test_docnumber_longer_than_21_is_refused(qbo: QboWorld) -> None:
    """Reference, text fields: 'DocNumber 21'; error table: 2050 'string too long'."""
    cust = customer(qbo, "Long Doc Co")
    status, code, detail = fault(post(qbo, "Invoice", invoice_body(cust["Id"], ids(qbo)["item"], doc="X" * 22)))
    assert (status, code) == (400, "2050") and "Max:21" in detail


def test_docnumber_is_assigned_when_custom_numbers_are_off(qbo: QboWorld) -> None:
    """Reference: 'DocNumber (21 chars) can be sent only when the company's custom transaction numbers preference is
    on, otherwise QuickBooks numbers it.'"""
    qbo.control.preferences(US, SalesFormsPrefs={"CustomTxnNumbers": False})
    cust = customer(qbo, "Auto Numbers Co")
    inv = ok(post(qbo, "Invoice", invoice_body(cust["Id"], ids(qbo)["item"], doc="MINE-1")), "Invoice")
    assert inv["DocNumber"] != "MINE-1" and inv["DocNumber"].isdigit()


def test_sales_line_without_itemref_is_documentation(qbo: QboWorld) -> None:
    """Reference: 'a sales line without one "is treated as documentation and Line.Amount is ignored"'."""
    cust = customer(qbo, "Doc Line Co")
    body = invoice_body(cust["Id"], ids(qbo)["item"], "40.00")
    body["Line"].append({"DetailType": "SalesItemLineDetail", "Amount": "999.00", "SalesItemLineDetail": {}})
    inv = ok(post(qbo, "Invoice", body), "Invoice")
    assert inv["TotalAmt"] == Decimal("40.0")


def test_amount_must_equal_qty_times_unit_price(qbo: QboWorld) -> None:
    """Reference: 'Amount must equal Qty x UnitPrice (use Decimal, 2 dp)'."""
    cust = customer(qbo, "Maths Co")
    body = invoice_body(cust["Id"], ids(qbo)["item"], "10.00")
    body["Line"][0]["SalesItemLineDetail"]["Qty"] = 3
    status, code, _ = fault(post(qbo, "Invoice", body))
    assert status == 400 and code == "6070"
    assert qbo.control.objects(US, "Invoice") == []


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda b: b.pop("CustomerRef"), "2020"),  # required field missing
        (lambda b: b.update(CustomerRef={"value": "98765"}), "2500"),  # invalid reference
        (lambda b: b["Line"][0]["SalesItemLineDetail"].update(ItemRef={"value": "98765"}), "2500"),
        (lambda b: b.update(Line=[]), "2020"),
        (lambda b: b["Line"][0].update(DetailType="Bogus"), "2170"),  # bad enum
    ],
)
def test_invoice_bad_input_gets_quickbooks_faults(qbo: QboWorld, mutate: object, code: str) -> None:
    """Reference, error table: '2020, 2050, 2170, 2500 | 400 | required field missing, string too long, bad enum,
    invalid reference'."""
    cust = customer(qbo, "Bad Input Co")
    body = invoice_body(cust["Id"], ids(qbo)["item"])
    mutate(body)  # type: ignore[operator]
    status, got, _ = fault(post(qbo, "Invoice", body))
    assert (status, got) == (400, code)
    assert qbo.control.objects(US, "Invoice") == []


def test_malformed_json_is_a_fault_not_a_crash(qbo: QboWorld) -> None:
    resp = post(qbo, "Invoice", "{not json")
    assert resp.status_code == 400
    assert resp.json()["Fault"]["type"] == "ValidationFault"
    resp = post(qbo, "Invoice", "[1, 2]")
    assert resp.status_code == 400


def test_inactive_item_is_610(qbo: QboWorld) -> None:
    """Reference, error table: '610 | 400 | object not found (or a referenced list object is inactive)'."""
    cust = customer(qbo, "Inactive Item Co")
    item = qbo.control.objects(US, "Item")[0]
    ok(
        post(qbo, "Item", {"Id": item["Id"], "SyncToken": item["SyncToken"], "sparse": True, "Active": False}),
        "Item",
    )
    assert fault(post(qbo, "Invoice", invoice_body(cust["Id"], item["Id"])))[1] == "610"


def test_purchase_order_needs_an_accounts_payable_account(qbo: QboWorld) -> None:
    """Reference, PurchaseOrder: 'required APAccountRef (an Accounts Payable account), VendorRef, Line[]'."""
    vendor = ok(post(qbo, "Vendor", {"DisplayName": "Truck Co"}), "Vendor")
    i = ids(qbo)
    line = {
        "DetailType": "AccountBasedExpenseLineDetail",
        "Amount": "250.00",
        "AccountBasedExpenseLineDetail": {"AccountRef": {"value": i["expense"]}},
    }
    body = {"VendorRef": {"value": vendor["Id"]}, "Line": [line]}
    assert fault(post(qbo, "PurchaseOrder", body))[1] == "2020"
    body["APAccountRef"] = {"value": i["bank"]}
    assert fault(post(qbo, "PurchaseOrder", body))[1] == "6000"
    body["APAccountRef"] = {"value": i["ap"]}
    po = ok(post(qbo, "PurchaseOrder", body), "PurchaseOrder")
    assert po["POStatus"] == "Open" and po["TotalAmt"] == Decimal("250.0")


def test_payment_reduces_balance_and_bumps_invoice_synctoken(qbo: QboWorld) -> None:
    """Reference: 'Applying a payment to an invoice bumps the invoice's SyncToken' and Payment: 'UnappliedAmt is
    read-only (TotalAmt minus applied lines)'."""
    cust = customer(qbo, "Payer Co")
    inv = ok(post(qbo, "Invoice", invoice_body(cust["Id"], ids(qbo)["item"], "100.00")), "Invoice")
    pay = ok(
        post(
            qbo,
            "Payment",
            {
                "CustomerRef": {"value": cust["Id"]},
                "TotalAmt": "150.00",
                "Line": [{"Amount": "60.00", "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
            },
        ),
        "Payment",
    )
    assert pay["UnappliedAmt"] == Decimal("90.0")
    after = qbo.first(US, "Invoice", Id=inv["Id"])
    assert after["Balance"] == 40.0 and after["SyncToken"] == "1"
    ok(post(qbo, "Payment", {"Id": pay["Id"], "SyncToken": pay["SyncToken"]}, operation="delete"), "Payment")
    assert qbo.first(US, "Invoice", Id=inv["Id"])["Balance"] == 100.0


def test_payment_links_must_exist(qbo: QboWorld) -> None:
    """Reference, error table: '620 | 400 | transaction cannot be linked | check LinkedTxn'."""
    cust = customer(qbo, "Link Co")
    body = {
        "CustomerRef": {"value": cust["Id"]},
        "TotalAmt": "10.00",
        "Line": [{"Amount": "10.00", "LinkedTxn": [{"TxnId": "424242", "TxnType": "Invoice"}]}],
    }
    assert fault(post(qbo, "Payment", body))[1] == "620"


def test_payment_cannot_apply_more_than_the_open_balance(qbo: QboWorld) -> None:
    cust = customer(qbo, "Over Co")
    inv = ok(post(qbo, "Invoice", invoice_body(cust["Id"], ids(qbo)["item"], "50.00")), "Invoice")
    body = {
        "CustomerRef": {"value": cust["Id"]},
        "TotalAmt": "80.00",
        "Line": [{"Amount": "80.00", "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
    }
    assert fault(post(qbo, "Payment", body))[1] == "6000"
    assert qbo.first(US, "Invoice", Id=inv["Id"])["SyncToken"] == "0"


def test_applying_a_credit_memo_is_a_zero_payment(qbo: QboWorld) -> None:
    """Reference: 'Applying a credit memo to an invoice in QuickBooks creates a $0 Payment with one line linked to
    the Invoice and one to the CreditMemo'."""
    cust = customer(qbo, "Credit Co")
    i = ids(qbo)
    inv = ok(post(qbo, "Invoice", invoice_body(cust["Id"], i["item"], "100.00")), "Invoice")
    cm = ok(post(qbo, "CreditMemo", invoice_body(cust["Id"], i["item"], "30.00")), "CreditMemo")
    pay = qbo.control.ui(
        US,
        "Payment",
        {
            "CustomerRef": {"value": cust["Id"]},
            "TotalAmt": 0,
            "Line": [
                {"Amount": 30, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]},
                {"Amount": 30, "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]},
            ],
        },
    )
    assert pay["TotalAmt"] == 0 and pay["UnappliedAmt"] == 0
    assert qbo.first(US, "Invoice", Id=inv["Id"])["Balance"] == 70.0
    assert qbo.first(US, "CreditMemo", Id=cm["Id"])["RemainingCredit"] == 0.0


def test_us_tax_uses_tax_and_non_with_the_transaction_rate(qbo: QboWorld) -> None:
    """Reference, 'Tax, US': 'line TaxCodeRef is the pseudo-code TAX or NON; the transaction's
    TxnTaxDetail.TxnTaxCodeRef names the rate' and the TotalTax override."""
    cust = customer(qbo, "US Tax Co")
    i = ids(qbo)
    body = invoice_body(cust["Id"], i["item"], "200.00", tax="TAX")
    body["Line"].append(invoice_body(cust["Id"], i["item"], "50.00", tax="NON")["Line"][0])
    body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": i["tax:Boston"]}}
    inv = ok(post(qbo, "Invoice", body), "Invoice")
    assert inv["TxnTaxDetail"]["TotalTax"] == Decimal("14.0")  # 7% of the taxable 200 only
    assert inv["TotalAmt"] == Decimal("264.0")
    body["TxnTaxDetail"]["TotalTax"] = "13.99"
    over = ok(post(qbo, "Invoice", body), "Invoice")
    assert over["TotalAmt"] == Decimal("263.99")
    assert fault(post(qbo, "Invoice", invoice_body(cust["Id"], i["item"], tax="20.0% S")))[1] == "2500"


def test_uk_tax_rounds_once_per_code_and_may_differ_from_per_line(qbo: QboWorld) -> None:
    """Reference, 'Tax, outside the US': 'each line's TaxCodeRef is a real TaxCode Id ... QuickBooks recomputes tax
    and may differ by a cent from a system that rounds per line.'"""
    cust = customer(qbo, "UK Tax Ltd", UK)
    i = ids(qbo, UK)
    line = invoice_body(cust["Id"], i["item"], "0.13", tax=i["tax:20.0% S"])["Line"][0]
    body = {
        "CustomerRef": {"value": cust["Id"]},
        "GlobalTaxCalculation": "TaxExcluded",
        "Line": [line, dict(line)],
    }
    inv = ok(post(qbo, "Invoice", body, UK), "Invoice")
    # per line: 0.026 -> 0.03 twice = 0.06; once on the code's net 0.26 -> 0.05
    assert inv["TxnTaxDetail"]["TotalTax"] == Decimal("0.05")
    missing = {"CustomerRef": {"value": cust["Id"]}, "Line": [invoice_body(cust["Id"], i["item"])["Line"][0]]}
    missing["Line"][0]["SalesItemLineDetail"].pop("TaxCodeRef")
    assert fault(post(qbo, "Invoice", missing, UK))[1] == "6000"


def test_lists_cannot_be_deleted_and_tax_codes_are_read_only(qbo: QboWorld) -> None:
    cust = customer(qbo, "Keep Co")
    assert fault(post(qbo, "Customer", {"Id": cust["Id"], "SyncToken": "0"}, operation="delete"))[1] == "500"
    assert fault(post(qbo, "TaxCode", {"Name": "New"}))[1] == "500"


def test_minorversion_is_accepted_and_its_absence_counted(qbo: QboWorld) -> None:
    """Reference: 'Send minorversion=75 on every call'."""
    session = qbo.raw(US)
    assert session.get(f"{qbo.api(US)}/preferences", params={"minorversion": "75"}).status_code == 200
    assert session.get(f"{qbo.api(US)}/preferences").status_code == 200
    assert qbo.control.counters(US)["missing_minorversion"] == 1
