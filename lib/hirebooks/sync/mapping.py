"""HireHop documents to QuickBooks objects: pure functions, no I/O (DESIGN.md, "Mapping rules").

Money is Decimal and follows HireHop's figures: each line's Amount is HireHop's PRICE, and the transaction's tax is
sent as HireHop's total (rounded per line, as HireHop rounds), so QuickBooks' totals equal HireHop's to the cent
(reference quickbooks.md: QuickBooks "may differ by a cent from a system that rounds per line"; US Automated Sales
Tax "ignores the codes unless TxnTaxDetail.TotalTax is sent as an override").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hirebooks.errors import NeedsSetupError

from .settings import Package

CENT = Decimal("0.01")
NAME_MAX = 500  # reference: DisplayName at most 500 characters
TEXT_MAX = 4000  # line Description and PrivateNote


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def content_hash(payload: dict[str, Any]) -> str:
    """What a document says, independent of QuickBooks' bookkeeping: the same content is never sent twice."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------ contacts
def clean_name(text: str) -> str:
    """QuickBooks names: no ':', tab or newline; at most 500 characters (reference, Customer / Vendor)."""
    name = re.sub(r"[\t\r\n]+", " ", text).replace(":", " -").strip()
    name = re.sub(r"\s{2,}", " ", name)
    return name[:NAME_MAX]


@dataclass(frozen=True)
class Party:
    """A HireHop contact (or one-off client) as one QuickBooks Customer or Vendor."""

    key: str  # the id map's key for it
    entity: str  # Customer or Vendor
    display_name: str
    body: dict[str, Any]


def _contact_body(name: str, contact: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": name}
    if contact.get("COMPANY"):
        body["CompanyName"] = clean_name(str(contact["COMPANY"]))[:100]
    if contact.get("EMAIL"):
        body["PrimaryEmailAddr"] = {"Address": str(contact["EMAIL"])[:100]}
    if contact.get("TELEPHONE"):
        body["PrimaryPhone"] = {"FreeFormNumber": str(contact["TELEPHONE"])[:30]}
    if contact.get("ADDRESS"):
        body["BillAddr"] = {"Line1": str(contact["ADDRESS"])[:500]}
    return body


def base_name(contact: dict[str, Any]) -> str:
    name = clean_name(str(contact.get("COMPANY") or contact.get("NAME") or ""))
    if not name:
        raise NeedsSetupError(f"HireHop contact {contact.get('ID')} has neither a company nor a name to use.")
    return name


def customer_for_contact(contact: dict[str, Any]) -> Party:
    name = base_name(contact)
    return Party(f"contact:{contact['ID']}:customer", "Customer", name, _contact_body(name, contact))


def vendor_for_contact(contact: dict[str, Any], supplier_suffix: str, is_client: bool) -> Party:
    """A contact that is both client and supplier gets the suffix on its Vendor name: the naming rule, so the two
    QuickBooks names differ (names are unique across customers, vendors and employees)."""
    name = base_name(contact)
    if is_client:
        name = clean_name(name[: NAME_MAX - len(supplier_suffix)] + supplier_suffix)
    return Party(f"contact:{contact['ID']}:vendor", "Vendor", name, _contact_body(name, contact))


def customer_for_document(doc: dict[str, Any]) -> Party:
    """The document's client; a one-off job client (CLIENT_ID 0) is a Customer of its own, named with its job."""
    client_id = int(doc.get("CLIENT_ID") or 0)
    if client_id:
        return customer_for_contact({**doc, "ID": client_id})
    who = clean_name(str(doc.get("COMPANY") or doc.get("NAME") or "One-off client"))
    name = clean_name(f"{who} (job {doc.get('JOB_ID')})")
    return Party(f"oneoff:{doc.get('JOB_ID')}:customer", "Customer", name, _contact_body(name, doc))


def fallback_name(party: Party, hirehop_id: str) -> Party:
    """When the name is already held by a record we may not link to, a deterministic, still-readable variant."""
    suffix = f" [HH {hirehop_id}]"
    name = clean_name(party.display_name[: NAME_MAX - len(suffix)] + suffix)
    return Party(party.key, party.entity, name, {**party.body, "DisplayName": name})


# ------------------------------------------------------------------------------------------------ documents
def _description(line: dict[str, Any]) -> str:
    parts = [str(line.get("TITLE") or "").strip(), str(line.get("DESCRIPTION") or "").strip()]
    return " - ".join(p for p in parts if p)[:TEXT_MAX]


def _qty_price(line: dict[str, Any]) -> dict[str, Any]:
    """Qty and UnitPrice when they multiply to HireHop's PRICE (QuickBooks insists); otherwise the Amount alone."""
    price = money(line.get("PRICE", 0))
    qty = Decimal(str(line.get("QUANTITY", 1)))
    unit = Decimal(str(line.get("UNIT_PRICE", price)))
    if qty and money(qty * unit) == price:
        return {"Qty": qty, "UnitPrice": unit}
    return {}


def sales_lines(doc: dict[str, Any], package: Package, item_for_account: Callable[[str], str]) -> list[dict[str, Any]]:
    depot = doc.get("DEPOT_ID", 0)
    lines = []
    for line in doc.get("items", []):
        account = package.revenue_account(line.get("NOMINAL_GROUP") or 0)
        if package.country == "US":
            tax_ref = "TAX" if money(line.get("VAT", 0)) > 0 else "NON"
        else:
            tax_ref = package.tax_code(depot, line.get("TAX_GROUP") or 0)
        detail: dict[str, Any] = {"ItemRef": {"value": item_for_account(account)}, "TaxCodeRef": {"value": tax_ref}}
        detail.update(_qty_price(line))
        out: dict[str, Any] = {
            "DetailType": "SalesItemLineDetail",
            "Amount": money(line.get("PRICE", 0)),
            "SalesItemLineDetail": detail,
        }
        if _description(line):
            out["Description"] = _description(line)
        lines.append(out)
    if not lines:
        raise NeedsSetupError(f"HireHop document {doc.get('NUMBER') or doc.get('ID')} has no lines to send.")
    return lines


def _tax(doc: dict[str, Any], package: Package, lines: list[dict[str, Any]]) -> dict[str, Any]:
    total_tax = money(doc.get("TAX", 0))
    if package.country == "US":
        taxed = any(line["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "TAX" for line in lines)
        if not taxed:
            return {}
        if not package.us_sales_tax_code:
            raise NeedsSetupError(
                f"Package '{package.name}' has no sales tax code for taxable lines. Sync tax codes and pick a default."
            )
        return {"TxnTaxDetail": {"TxnTaxCodeRef": {"value": package.us_sales_tax_code}, "TotalTax": total_tax}}
    return {"GlobalTaxCalculation": "TaxExcluded", "TxnTaxDetail": {"TotalTax": total_tax}}


def sales_document(
    kind: str, doc: dict[str, Any], package: Package, customer_id: str, item_for_account: Callable[[str], str]
) -> dict[str, Any]:
    """An approved invoice or credit note as a QuickBooks Invoice or CreditMemo body."""
    lines = sales_lines(doc, package, item_for_account)
    body: dict[str, Any] = {
        "DocNumber": package.doc_number(kind, str(doc.get("NUMBER") or "")),
        "CustomerRef": {"value": customer_id},
        "Line": lines,
        "PrivateNote": f"HireHop {kind.replace('_', ' ')} {doc.get('NUMBER')} (job {doc.get('JOB_ID')})"[:TEXT_MAX],
        **_tax(doc, package, lines),
    }
    if doc.get("DATE"):
        body["TxnDate"] = str(doc["DATE"])[:10]
    if kind == "invoice" and doc.get("DUE_DATE"):
        body["DueDate"] = str(doc["DUE_DATE"])[:10]
    department = package.departments.get(str(doc.get("DEPOT_ID")))
    if department:
        body["DepartmentRef"] = {"value": department}
    return body


def purchase_order(po: dict[str, Any], package: Package, vendor_id: str) -> dict[str, Any]:
    if not package.ap_account:
        raise NeedsSetupError(
            f"Package '{package.name}' has no Accounts Payable account for purchase orders. Pick one in the set-up."
        )
    lines = []
    for line in po.get("items", []):
        out: dict[str, Any] = {
            "DetailType": "AccountBasedExpenseLineDetail",
            "Amount": money(line.get("PRICE", 0)),
            "AccountBasedExpenseLineDetail": {
                "AccountRef": {"value": package.expense_account(line.get("NOMINAL_GROUP") or 0)}
            },
        }
        if _description(line):
            out["Description"] = _description(line)
        lines.append(out)
    if not lines:
        raise NeedsSetupError(f"HireHop purchase order {po.get('NUMBER')} has no lines to send.")
    body: dict[str, Any] = {
        "DocNumber": package.doc_number("purchase_order", str(po.get("NUMBER") or "")),
        "VendorRef": {"value": vendor_id},
        "APAccountRef": {"value": package.ap_account},
        "Line": lines,
        "PrivateNote": f"HireHop purchase order {po.get('NUMBER')} (job {po.get('JOB_ID')})",
    }
    if po.get("DATE"):
        body["TxnDate"] = str(po["DATE"])[:10]
    return body


def payment(
    deposit: dict[str, Any],
    applications: list[dict[str, Any]],
    package: Package,
    customer_id: str,
    invoice_ids: dict[str, str],
) -> dict[str, Any]:
    """A HireHop payment received (deposit) and its applications: one Payment whose lines link the invoices it pays.
    Money not yet applied stays unapplied (QuickBooks' UnappliedAmt); a refund (OWNER 0) is not a payment line."""
    lines = []
    for app in sorted(applications, key=lambda a: int(a["ID"])):
        owner = str(app.get("OWNER") or 0)
        if owner == "0":
            continue
        lines.append(
            {"Amount": money(app["AMOUNT"]), "LinkedTxn": [{"TxnId": invoice_ids[owner], "TxnType": "Invoice"}]}
        )
    note = f"HireHop payment {deposit['ID']} (job {deposit.get('JOB_ID')}) {deposit.get('DESCRIPTION', '')}".strip()
    body: dict[str, Any] = {
        "CustomerRef": {"value": customer_id},
        "TotalAmt": money(deposit["AMOUNT"]),
        "DepositToAccountRef": {"value": package.bank_account(deposit.get("ACC_ACCOUNT_ID"))},
        "PaymentRefNum": f"HH{deposit['ID']}"[:21],
        "PrivateNote": note[:TEXT_MAX],
        "Line": lines,
    }
    if deposit.get("DATE"):
        body["TxnDate"] = str(deposit["DATE"])[:10]
    return body


def credit_application(customer_id: str, invoice_id: str, credit_memo_id: str, amount: Decimal) -> dict[str, Any]:
    """HireHop nets a credit note off its invoice; in QuickBooks that is a $0 Payment linking both (reference:
    'Applying a credit memo to an invoice ... creates a $0 Payment with one line linked to the Invoice and one to the
    CreditMemo')."""
    value = money(amount)
    return {
        "CustomerRef": {"value": customer_id},
        "TotalAmt": Decimal("0.00"),
        "Line": [
            {"Amount": value, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]},
            {"Amount": value, "LinkedTxn": [{"TxnId": credit_memo_id, "TxnType": "CreditMemo"}]},
        ],
        "PrivateNote": "HireHop credit note applied to its invoice",
    }


def item_name(package: Package, account_id: str) -> str:
    """One Service item per income account (reference: 'To post to N income accounts, keep N Service items')."""
    label = package.account_names.get(account_id) or f"income account {account_id}"
    return clean_name(f"HireBooks - {label}")[:100]
