"""One QuickBooks company (realm): its objects and the rules that bite real integrations.

Each rule cites the part of ../shared/reference/quickbooks.md it follows; a rule marked ASSUMPTION is not on the sheet.
All methods expect the caller to hold `realm.lock`.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import faults as F

CENT = Decimal("0.01")

# URL segment (lower case) -> entity name. Reference: "Entities used here" and the issue's list.
ENTITIES = {
    name.lower(): name
    for name in (
        "Customer",
        "Vendor",
        "Employee",
        "Item",
        "Account",
        "TaxCode",
        "TaxRate",
        "Department",
        "Class",
        "Preferences",
        "CompanyInfo",
        "Invoice",
        "CreditMemo",
        "Payment",
        "PurchaseOrder",
    )
}
NAMED = (
    "Customer",
    "Vendor",
    "Employee",
)  # DisplayName unique across all three (reference, Customer / Vendor)
TRANSACTIONS = ("Invoice", "CreditMemo", "Payment", "PurchaseOrder")
NUMBERED = ("Invoice", "CreditMemo", "PurchaseOrder")
READ_ONLY = ("TaxCode", "TaxRate", "Preferences", "CompanyInfo")
DELETABLE = TRANSACTIONS
VOIDABLE = ("Invoice", "Payment")
WEBHOOK_ENTITIES = ("Payment", "CreditMemo", "Invoice", "Customer", "Vendor")

DOCNUMBER_MAX = 21  # reference, "text fields"
DISPLAYNAME_MAX = 500
ITEM_NAME_MAX = 100
PRIVATE_NOTE_MAX = 4000
DESCRIPTION_MAX = 4000


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _ref_value(ref: Any) -> str | None:
    if isinstance(ref, dict) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    return None


@dataclass
class Change:
    """One change to an object, for webhooks and CDC."""

    entity: str
    entity_id: str
    operation: str  # Create, Update, Delete, Void
    at: float


@dataclass
class Realm:
    realm_id: str
    country: str  # "US" or "GB"
    company_name: str
    now: Callable[[], float]
    tz: timezone = UTC
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tombstones: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    request_ids: dict[str, tuple[int, Any]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    applied: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # money applied to an Invoice/CreditMemo
    on_change: Callable[[Realm, Change], None] | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _numbers: dict[str, itertools.count[int]] = field(default_factory=dict)

    # ---------------------------------------------------------------- helpers
    def lock_for_request(self) -> threading.RLock:
        """One request at a time per company, as QuickBooks serializes writes to one object."""
        return self.lock

    @property
    def is_us(self) -> bool:
        return self.country == "US"

    def iso(self, t: float | None = None) -> str:
        ts = self.now() if t is None else t
        return datetime.fromtimestamp(ts, self.tz).isoformat(timespec="seconds")

    def prefs(self) -> dict[str, Any]:
        return self.objects.get("Preferences", {}).get("1", {})

    def custom_txn_numbers(self) -> bool:
        return bool(self.prefs().get("SalesFormsPrefs", {}).get("CustomTxnNumbers", True))

    def all(self, entity: str) -> list[dict[str, Any]]:
        return list(self.objects.get(entity, {}).values())

    def get(self, entity: str, entity_id: str) -> dict[str, Any] | None:
        return self.objects.get(entity, {}).get(str(entity_id))

    def _new_id(self) -> str:
        return str(next(self._ids))

    def _stamp(self, obj: dict[str, Any], created: bool) -> None:
        now = self.iso()
        meta = obj.setdefault("MetaData", {})
        if created:
            meta["CreateTime"] = now
        meta["LastUpdatedTime"] = now
        obj["domain"] = "QBO"
        obj["sparse"] = False

    def _record(self, entity: str, entity_id: str, operation: str) -> None:
        change = Change(entity, entity_id, operation, self.now())
        self.changes.append(change)
        if self.on_change is not None:
            self.on_change(self, change)

    def insert_seed(self, entity: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Seeding: store as-is with an id, no rules (tax codes, preferences and the like)."""
        obj = copy.deepcopy(obj)
        obj.setdefault("Id", self._new_id())
        obj.setdefault("SyncToken", "0")
        self._stamp(obj, created=True)
        self.objects.setdefault(entity, {})[str(obj["Id"])] = obj
        return obj

    # ---------------------------------------------------------------- references
    def _resolve(self, entity: str, ref: Any, field_name: str, hidden: set[tuple[str, str]]) -> dict[str, Any]:
        value = _ref_value(ref)
        if value is None:
            raise F.required(field_name, entity)
        obj = self.get(entity, value)
        if obj is None or (entity, value) in hidden:
            # Reference: batch items "cannot see objects created earlier in the same batch" -> hidden.
            raise F.invalid_reference(field_name, value)
        if obj.get("Active") is False:
            raise F.inactive(field_name)
        return obj

    def _resolve_party(self, ref: Any, field_name: str, hidden: set[tuple[str, str]]) -> dict[str, Any]:
        # A CustomerRef names a Customer; a VendorRef a Vendor.
        entity = "Vendor" if field_name == "VendorRef" else "Customer"
        return self._resolve(entity, ref, field_name, hidden)

    # ---------------------------------------------------------------- validation per entity
    def _check_len(self, obj: dict[str, Any], fname: str, max_len: int) -> None:
        value = obj.get(fname)
        if isinstance(value, str) and len(value) > max_len:
            raise F.too_long(fname, max_len, len(value))

    def _validate_named(self, entity: str, obj: dict[str, Any], self_id: str | None) -> None:
        name = obj.get("DisplayName")
        if not name:
            parts = [obj.get(k) for k in ("GivenName", "FamilyName")]
            name = " ".join(p for p in parts if p) or obj.get("CompanyName")
            if not name:
                raise F.required("DisplayName", entity)
            obj["DisplayName"] = name
        self._check_len(obj, "DisplayName", DISPLAYNAME_MAX)
        if any(ch in name for ch in (":", "\t", "\n")):
            # Reference: "no `:`, tab or newline". ASSUMPTION: the fault code (2050) for it is not on the sheet.
            raise F.QboFault(400, "2050", "Invalid String", "DisplayName may not contain ':', tab or newline")
        folded = name.strip().lower()
        for other_entity in NAMED:
            for other in self.all(other_entity):
                if other_entity == entity and other["Id"] == self_id:
                    continue
                # Inactive records most likely still hold their name (reference), so they are not skipped.
                if str(other.get("DisplayName", "")).strip().lower() == folded:
                    raise F.duplicate_name(name)
        obj.setdefault("Active", True)
        if entity == "Customer":
            obj.setdefault("Balance", Decimal("0"))
        obj.setdefault("CurrencyRef", {"value": self.home_currency()})

    def home_currency(self) -> str:
        info = self.objects.get("CompanyInfo", {})
        for o in info.values():
            return str(o.get("_Currency", "USD"))
        return "USD"

    def _validate_list_name(self, entity: str, obj: dict[str, Any], self_id: str | None, max_len: int) -> None:
        name = obj.get("Name")
        if not name:
            raise F.required("Name", entity)
        self._check_len(obj, "Name", max_len)
        for other in self.all(entity):
            if other["Id"] != self_id and str(other.get("Name", "")).lower() == str(name).lower():
                raise F.QboFault(
                    400, "6240", "Duplicate Name Exists Error", f"The name supplied already exists. : {name}"
                )
        obj.setdefault("Active", True)

    def _validate_item(self, obj: dict[str, Any], self_id: str | None, hidden: set[tuple[str, str]]) -> None:
        self._validate_list_name("Item", obj, self_id, ITEM_NAME_MAX)
        obj.setdefault("Type", "Service")
        if obj["Type"] not in ("Service", "NonInventory", "Inventory", "Group", "Category"):
            raise F.enum_invalid("Type", obj["Type"])
        if obj["Type"] in ("Service", "NonInventory"):
            if obj.get("IncomeAccountRef") is None and obj.get("ExpenseAccountRef") is None:
                raise F.required("IncomeAccountRef", "Item")
            for ref_name in ("IncomeAccountRef", "ExpenseAccountRef"):
                if obj.get(ref_name) is not None:
                    self._resolve("Account", obj[ref_name], ref_name, hidden)

    def _validate_account(self, obj: dict[str, Any], self_id: str | None) -> None:
        self._validate_list_name("Account", obj, self_id, ITEM_NAME_MAX)
        if not obj.get("AccountType"):
            raise F.required("AccountType", "Account")
        classification = {
            "Bank": "Asset",
            "Other Current Asset": "Asset",
            "Accounts Receivable": "Asset",
            "Accounts Payable": "Liability",
            "Income": "Revenue",
            "Other Income": "Revenue",
            "Expense": "Expense",
            "Cost of Goods Sold": "Expense",
            "Other Current Liability": "Liability",
            "Equity": "Equity",
        }.get(obj["AccountType"])
        if classification is None:
            raise F.enum_invalid("AccountType", obj["AccountType"])
        obj.setdefault("Classification", classification)
        obj.setdefault("CurrentBalance", Decimal("0"))

    def _doc_number(self, entity: str, obj: dict[str, Any], self_id: str | None, allow_dup: bool) -> None:
        doc = obj.get("DocNumber")
        if doc is not None:
            doc = str(doc)
            self._check_len({"DocNumber": doc}, "DocNumber", DOCNUMBER_MAX)
        if not self.custom_txn_numbers() or not doc:
            # Reference: DocNumber "can be sent only when the company's custom transaction numbers preference is on,
            # otherwise QuickBooks numbers it".
            if self_id is None or not obj.get("DocNumber"):
                counter = self._numbers.setdefault(entity, itertools.count(1001))
                obj["DocNumber"] = str(next(counter))
            return
        obj["DocNumber"] = doc
        if allow_dup:
            return  # reference, error 6140: "include=allowduplicatedocnum only if the customer wants it"
        for other in self.all(entity):
            if other["Id"] != self_id and other.get("DocNumber") == doc:
                raise F.duplicate_docnumber(doc)

    def _tax_rate_of_code(self, code: dict[str, Any]) -> Decimal:
        total = Decimal("0")
        for detail in code.get("SalesTaxRateList", {}).get("TaxRateDetail", []):
            rate = self.get("TaxRate", _ref_value(detail.get("TaxRateRef")) or "")
            if rate is not None:
                total += Decimal(str(rate.get("RateValue", 0)))
        return total

    def _sales_lines(self, entity: str, obj: dict[str, Any], hidden: set[tuple[str, str]]) -> dict[str, Decimal]:
        """Validate the lines of an Invoice or CreditMemo; return money per tax code ('' = untaxed in the US)."""
        lines = obj.get("Line")
        if not isinstance(lines, list) or not lines:
            raise F.required("Line", entity)
        by_code: dict[str, Decimal] = {}
        for n, line in enumerate(lines, start=1):
            if not isinstance(line, dict):
                raise F.malformed(f"Line {n} is not an object")
            kind = line.get("DetailType")
            if kind not in (
                "SalesItemLineDetail",
                "DescriptionOnly",
                "SubTotalLineDetail",
                "DiscountLineDetail",
            ):
                raise F.enum_invalid("Line.DetailType", kind)
            self._check_len(line, "Description", DESCRIPTION_MAX)
            line.setdefault("LineNum", n)
            line.setdefault("Id", str(n))
            if kind != "SalesItemLineDetail":
                continue
            detail = line.get("SalesItemLineDetail") or {}
            if _ref_value(detail.get("ItemRef")) is None:
                # Reference: "a sales line without one is treated as documentation and Line.Amount is ignored".
                line["Amount"] = Decimal("0")
                continue
            self._resolve("Item", detail["ItemRef"], "ItemRef", hidden)
            if line.get("Amount") is None:
                raise F.required("Line.Amount", entity)
            amount = Decimal(str(line["Amount"]))
            if detail.get("Qty") is not None and detail.get("UnitPrice") is not None:
                expected = money(Decimal(str(detail["Qty"])) * Decimal(str(detail["UnitPrice"])))
                if money(amount) != expected:  # reference: "Amount must equal Qty x UnitPrice"
                    raise F.amount_mismatch(amount, expected)
            line["Amount"] = money(amount)
            code_ref = _ref_value(detail.get("TaxCodeRef"))
            if self.is_us:
                code = code_ref or "NON"
                if code not in ("TAX", "NON"):
                    # Reference, "Tax, US": the line TaxCodeRef is the pseudo-code TAX or NON.
                    raise F.invalid_reference("TaxCodeRef", code)
                key = "TAX" if code == "TAX" else ""
            else:
                if code_ref is None:
                    raise F.business("Make sure all your transactions have a VAT rate before you save.", "TaxCodeRef")
                self._resolve("TaxCode", detail["TaxCodeRef"], "TaxCodeRef", hidden)
                key = code_ref
            by_code[key] = by_code.get(key, Decimal("0")) + line["Amount"]
        return by_code

    def _compute_tax(self, obj: dict[str, Any], by_code: dict[str, Decimal], hidden: set[tuple[str, str]]) -> None:
        net = sum(by_code.values(), Decimal("0"))
        detail = obj.get("TxnTaxDetail") or {}
        override = detail.get("TotalTax")
        tax_lines: list[dict[str, Any]] = []
        mode = obj.get("GlobalTaxCalculation", "TaxExcluded" if not self.is_us else None)
        if self.is_us:
            tax = Decimal("0")
            code_id = _ref_value(detail.get("TxnTaxCodeRef"))
            if code_id is not None:
                code = self._resolve("TaxCode", detail["TxnTaxCodeRef"], "TxnTaxCodeRef", hidden)
                rate = self._tax_rate_of_code(code)
                taxable = by_code.get("TAX", Decimal("0"))
                tax = money(taxable * rate / 100)
                tax_lines.append(
                    {
                        "Amount": tax,
                        "DetailType": "TaxLineDetail",
                        "TaxLineDetail": {
                            "TaxPercent": rate,
                            "NetAmountTaxable": taxable,
                            "PercentBased": True,
                        },
                    }
                )
            if override is not None:
                # Reference: Automated Sales Tax "ignores the codes unless TxnTaxDetail.TotalTax is sent as an
                # override".
                tax = money(override)
            total = net + tax
        else:
            if mode not in ("TaxExcluded", "TaxInclusive", "NotApplicable"):
                raise F.enum_invalid("GlobalTaxCalculation", mode)
            tax = Decimal("0")
            if mode != "NotApplicable":
                for code_id, amount in by_code.items():
                    code = self.get("TaxCode", code_id) or {}
                    rate = self._tax_rate_of_code(code)
                    # Reference: "QuickBooks recomputes tax and may differ by a cent from a system that rounds per
                    # line": the simulator rounds once per tax code, on the code's net.
                    if mode == "TaxInclusive":
                        part = money(amount - amount / (1 + rate / 100))
                    else:
                        part = money(amount * rate / 100)
                    tax += part
                    tax_lines.append(
                        {
                            "Amount": part,
                            "DetailType": "TaxLineDetail",
                            "TaxLineDetail": {
                                "TaxPercent": rate,
                                "NetAmountTaxable": amount,
                                "TaxRateRef": code_id,
                            },
                        }
                    )
            if override is not None:
                # ASSUMPTION: outside the US a TotalTax override is honoured as well (not on the reference sheet).
                tax = money(override)
            total = net if mode == "TaxInclusive" else net + tax
            obj["GlobalTaxCalculation"] = mode
        new_detail = {k: v for k, v in detail.items() if k != "TaxLine"}
        new_detail["TotalTax"] = tax
        new_detail["TaxLine"] = tax_lines
        obj["TxnTaxDetail"] = new_detail
        obj["TotalAmt"] = money(total)

    def _validate_sales(
        self,
        entity: str,
        obj: dict[str, Any],
        self_id: str | None,
        allow_dup: bool,
        hidden: set[tuple[str, str]],
    ) -> None:
        if obj.get("CustomerRef") is None:
            raise F.required("CustomerRef", entity)
        self._resolve_party(obj["CustomerRef"], "CustomerRef", hidden)
        for ref_name, ref_entity in (("DepartmentRef", "Department"), ("ClassRef", "Class")):
            if obj.get(ref_name) is not None:
                self._resolve(ref_entity, obj[ref_name], ref_name, hidden)
        self._check_len(obj, "PrivateNote", PRIVATE_NOTE_MAX)
        by_code = self._sales_lines(entity, obj, hidden)
        self._doc_number(entity, obj, self_id, allow_dup)
        self._compute_tax(obj, by_code, hidden)
        obj.setdefault("CurrencyRef", {"value": self.home_currency()})
        obj.setdefault("TxnDate", self.iso()[:10])
        applied = self.applied.get((entity, self_id or ""), Decimal("0"))
        if obj["TotalAmt"] < applied:
            raise F.business(f"The {entity} total may not be less than the {applied} already applied to it.")
        obj["Balance"] = obj["TotalAmt"] - applied
        if entity == "CreditMemo":
            obj["RemainingCredit"] = obj["Balance"]

    def _validate_purchase_order(
        self, obj: dict[str, Any], self_id: str | None, allow_dup: bool, hidden: set[tuple[str, str]]
    ) -> None:
        if obj.get("VendorRef") is None:
            raise F.required("VendorRef", "PurchaseOrder")
        self._resolve_party(obj["VendorRef"], "VendorRef", hidden)
        if obj.get("APAccountRef") is None:
            # Reference, PurchaseOrder: "required APAccountRef (an Accounts Payable account)".
            raise F.required("APAccountRef", "PurchaseOrder")
        ap = self._resolve("Account", obj["APAccountRef"], "APAccountRef", hidden)
        if ap.get("AccountType") != "Accounts Payable":
            raise F.business("APAccountRef must be an Accounts Payable account.", "APAccountRef")
        lines = obj.get("Line")
        if not isinstance(lines, list) or not lines:
            raise F.required("Line", "PurchaseOrder")
        total = Decimal("0")
        for n, line in enumerate(lines, start=1):
            if not isinstance(line, dict):
                raise F.malformed(f"Line {n} is not an object")
            kind = line.get("DetailType")
            line.setdefault("Id", str(n))
            if kind == "ItemBasedExpenseLineDetail":
                detail = line.get(kind) or {}
                self._resolve("Item", detail.get("ItemRef"), "ItemRef", hidden)
                if detail.get("Qty") is not None and detail.get("UnitPrice") is not None:
                    expected = money(Decimal(str(detail["Qty"])) * Decimal(str(detail["UnitPrice"])))
                    if money(line.get("Amount", 0)) != expected:
                        raise F.amount_mismatch(line.get("Amount"), expected)
            elif kind == "AccountBasedExpenseLineDetail":
                detail = line.get(kind) or {}
                self._resolve("Account", detail.get("AccountRef"), "AccountRef", hidden)
            else:
                raise F.enum_invalid("Line.DetailType", kind)
            if line.get("Amount") is None:
                raise F.required("Line.Amount", "PurchaseOrder")
            line["Amount"] = money(line["Amount"])
            total += line["Amount"]
        self._doc_number("PurchaseOrder", obj, self_id, allow_dup)
        obj["TotalAmt"] = total
        obj.setdefault("POStatus", "Open")
        if obj["POStatus"] not in ("Open", "Closed"):
            raise F.enum_invalid("POStatus", obj["POStatus"])
        obj.setdefault("TxnDate", self.iso()[:10])

    def _payment_links(
        self, obj: dict[str, Any], hidden: set[tuple[str, str]]
    ) -> list[tuple[str, str, Decimal, dict[str, Any]]]:
        """Validate a Payment; return (TxnType, TxnId, amount, target) for each linked line."""
        if obj.get("CustomerRef") is None:
            raise F.required("CustomerRef", "Payment")
        customer = self._resolve_party(obj["CustomerRef"], "CustomerRef", hidden)
        if obj.get("TotalAmt") is None:
            raise F.required("TotalAmt", "Payment")
        total = money(obj["TotalAmt"])
        if total < 0:
            raise F.business("A payment may not be negative.", "TotalAmt")
        obj["TotalAmt"] = total
        links: list[tuple[str, str, Decimal, dict[str, Any]]] = []
        applied_invoices = Decimal("0")
        applied_credits = Decimal("0")
        for line in obj.get("Line") or []:
            amount = money(line.get("Amount", 0))
            line["Amount"] = amount
            for linked in line.get("LinkedTxn") or []:
                txn_type = str(linked.get("TxnType", ""))
                txn_id = str(linked.get("TxnId", ""))
                if txn_type not in ("Invoice", "CreditMemo"):
                    raise F.cannot_link(txn_id, txn_type)
                target = self.get(txn_type, txn_id)
                if target is None or (txn_type, txn_id) in hidden:
                    raise F.cannot_link(txn_id, txn_type)  # reference: 620 "transaction cannot be linked"
                if _ref_value(target.get("CustomerRef")) != customer["Id"]:
                    raise F.cannot_link(txn_id, txn_type)
                links.append((txn_type, txn_id, amount, target))
                if txn_type == "Invoice":
                    applied_invoices += amount
                else:
                    applied_credits += amount
        net_applied = applied_invoices - applied_credits
        if net_applied > total:
            raise F.business(f"The amounts applied ({net_applied}) are more than the payment ({total}).", "Line")
        obj["UnappliedAmt"] = total - net_applied  # reference: "UnappliedAmt is read-only (TotalAmt minus applied)"
        obj.setdefault("TxnDate", self.iso()[:10])
        obj.setdefault("CurrencyRef", {"value": self.home_currency()})
        if obj.get("DepositToAccountRef") is None:
            undeposited = next((a for a in self.all("Account") if a.get("Name") == "Undeposited Funds"), None)
            if undeposited is not None:  # reference: "DepositToAccountRef defaults to Undeposited Funds"
                obj["DepositToAccountRef"] = {"value": undeposited["Id"], "name": "Undeposited Funds"}
        else:
            self._resolve("Account", obj["DepositToAccountRef"], "DepositToAccountRef", hidden)
        return links

    # ---------------------------------------------------------------- payments touch their invoices
    def _apply_links(self, payment_id: str, links: list[tuple[str, str, Decimal, dict[str, Any]]], sign: int) -> None:
        for txn_type, txn_id, amount, _ in links:
            target = self.get(txn_type, txn_id)
            if target is None:
                continue
            key = (txn_type, txn_id)
            self.applied[key] = self.applied.get(key, Decimal("0")) + sign * amount
            target["Balance"] = money(target["TotalAmt"]) - self.applied[key]
            if txn_type == "CreditMemo":
                target["RemainingCredit"] = target["Balance"]
            linked = [x for x in target.get("LinkedTxn", []) if x.get("TxnId") != payment_id]
            if sign > 0:
                linked.append({"TxnId": payment_id, "TxnType": "Payment"})
            target["LinkedTxn"] = linked
            # Reference: "Applying a payment to an invoice bumps the invoice's SyncToken".
            target["SyncToken"] = str(int(target["SyncToken"]) + 1)
            self._stamp(target, created=False)
            self._record(txn_type, txn_id, "Update")

    def _check_balances(
        self,
        links: list[tuple[str, str, Decimal, dict[str, Any]]],
        old_links: list[tuple[str, str, Decimal, dict[str, Any]]] = (),  # type: ignore[assignment]
    ) -> None:
        """Each target's open balance (plus what this payment already applied to it) must cover the new amounts."""
        wanted: dict[tuple[str, str], Decimal] = {}
        for txn_type, txn_id, amount, _ in links:
            wanted[(txn_type, txn_id)] = wanted.get((txn_type, txn_id), Decimal("0")) + amount
        for (txn_type, txn_id), amount in wanted.items():
            target = self.get(txn_type, txn_id) or {}
            open_balance = money(target.get("Balance", 0)) + sum(
                (a for t, i, a, _ in old_links if (t, i) == (txn_type, txn_id)), Decimal("0")
            )
            if amount > open_balance:
                raise F.business(
                    f"The payment applies {amount} to {txn_type} {txn_id}, whose open balance is {open_balance}."
                )

    def _links_of(self, payment: dict[str, Any]) -> list[tuple[str, str, Decimal, dict[str, Any]]]:
        out = []
        for line in payment.get("Line") or []:
            for linked in line.get("LinkedTxn") or []:
                target = self.get(str(linked.get("TxnType")), str(linked.get("TxnId")))
                if target is not None:
                    out.append((str(linked["TxnType"]), str(linked["TxnId"]), money(line.get("Amount", 0)), target))
        return out

    # ---------------------------------------------------------------- the operations
    def validate(
        self,
        entity: str,
        obj: dict[str, Any],
        self_id: str | None,
        allow_dup: bool,
        hidden: set[tuple[str, str]],
    ) -> list[tuple[str, str, Decimal, dict[str, Any]]]:
        if entity in NAMED:
            self._validate_named(entity, obj, self_id)
        elif entity == "Item":
            self._validate_item(obj, self_id, hidden)
        elif entity == "Account":
            self._validate_account(obj, self_id)
        elif entity in ("Department", "Class"):
            self._validate_list_name(entity, obj, self_id, ITEM_NAME_MAX)
        elif entity in ("Invoice", "CreditMemo"):
            self._validate_sales(entity, obj, self_id, allow_dup, hidden)
        elif entity == "PurchaseOrder":
            self._validate_purchase_order(obj, self_id, allow_dup, hidden)
        elif entity == "Payment":
            return self._payment_links(obj, hidden)
        return []

    def create(
        self,
        entity: str,
        body: dict[str, Any],
        *,
        allow_dup: bool = False,
        hidden: set[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        if entity in READ_ONLY:
            raise F.unsupported("create", entity)
        hidden = hidden if hidden is not None else set()
        obj = copy.deepcopy(body)
        for read_only in ("Id", "SyncToken", "MetaData", "Balance", "UnappliedAmt", "RemainingCredit"):
            obj.pop(read_only, None)
        links = self.validate(entity, obj, None, allow_dup, hidden)
        if entity == "Payment":
            self._check_balances(links)
        obj["Id"] = self._new_id()
        obj["SyncToken"] = "0"
        self._stamp(obj, created=True)
        self.objects.setdefault(entity, {})[obj["Id"]] = obj
        self._record(entity, obj["Id"], "Create")
        if entity == "Payment":
            self._apply_links(obj["Id"], links, +1)
        return obj

    def _current_for_write(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("Id") in (None, ""):
            raise F.required("Id", entity)
        current = self.get(entity, str(body["Id"]))
        if current is None:
            raise F.not_found(entity, str(body["Id"]))
        if body.get("SyncToken") in (None, ""):
            raise F.required("SyncToken", entity)
        if str(body["SyncToken"]) != current["SyncToken"]:
            raise F.stale(entity)  # reference: "a stale token fails with code 5010"
        return current

    def update(
        self,
        entity: str,
        body: dict[str, Any],
        *,
        allow_dup: bool = False,
        hidden: set[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        if entity in READ_ONLY:
            raise F.unsupported("update", entity)
        hidden = hidden if hidden is not None else set()
        current = self._current_for_write(entity, body)
        sparse = bool(body.get("sparse"))
        if sparse:
            # Reference: sparse update changes only the fields sent; "Line is always replaced as a whole collection".
            merged = copy.deepcopy(current)
            for k, v in body.items():
                if k not in ("sparse", "SyncToken", "Id", "MetaData"):
                    merged[k] = copy.deepcopy(v)
        else:
            merged = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("sparse", "MetaData")}
            merged["MetaData"] = copy.deepcopy(current.get("MetaData", {}))
        merged["Id"] = current["Id"]
        # Read-only figures are recomputed; a tax override counts only when this request sends one.
        computed = {"Balance", "RemainingCredit", "UnappliedAmt"} | ({"TotalAmt"} if entity != "Payment" else set())
        for key in computed:
            merged.pop(key, None)
        if "TxnTaxDetail" not in body and isinstance(merged.get("TxnTaxDetail"), dict):
            merged["TxnTaxDetail"] = {k: v for k, v in merged["TxnTaxDetail"].items() if k == "TxnTaxCodeRef"}
        old_links = self._links_of(current) if entity == "Payment" else []
        links = self.validate(entity, merged, current["Id"], allow_dup, hidden)
        if entity == "Payment":
            self._check_balances(links, old_links)
            self._apply_links(current["Id"], old_links, -1)
        merged["SyncToken"] = str(int(current["SyncToken"]) + 1)
        self._stamp(merged, created=False)
        self.objects[entity][current["Id"]] = merged
        self._record(entity, current["Id"], "Update")
        if entity == "Payment":
            self._apply_links(current["Id"], links, +1)
        return merged

    def delete(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity not in DELETABLE:
            # Lists are never deleted in QuickBooks; they are made inactive (Active=false).
            raise F.unsupported("delete", entity)
        current = self._current_for_write(entity, body)
        if entity in ("Invoice", "CreditMemo") and self.applied.get((entity, current["Id"]), Decimal("0")) != 0:
            # ASSUMPTION: QuickBooks refuses to delete a transaction with payments linked until they are removed.
            raise F.business(f"This {entity} has payments linked to it. Remove them before deleting.")
        if entity == "Payment":
            self._apply_links(current["Id"], self._links_of(current), -1)
        del self.objects[entity][current["Id"]]
        tomb = {"Id": current["Id"], "domain": "QBO", "status": "Deleted"}
        tomb["MetaData"] = {"LastUpdatedTime": self.iso()}
        self.tombstones.setdefault(entity, {})[current["Id"]] = tomb
        self._record(entity, current["Id"], "Delete")
        return tomb

    def void(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity not in VOIDABLE:
            raise F.unsupported("void", entity)
        current = self._current_for_write(entity, body)
        if entity == "Invoice" and self.applied.get((entity, current["Id"]), Decimal("0")) != 0:
            raise F.business("This invoice has payments linked to it. Remove them before voiding.")
        if entity == "Payment":
            self._apply_links(current["Id"], self._links_of(current), -1)
            current["Line"] = []
            current["UnappliedAmt"] = Decimal("0")
        else:
            for line in current.get("Line", []):
                line["Amount"] = Decimal("0")
            current["Balance"] = Decimal("0")
        current["TotalAmt"] = Decimal("0")
        current["PrivateNote"] = "Voided"
        current["SyncToken"] = str(int(current["SyncToken"]) + 1)
        self._stamp(current, created=False)
        self._record(entity, current["Id"], "Void")
        return current

    # ---------------------------------------------------------------- change data capture
    def changed_since(self, entity: str, since: datetime) -> list[dict[str, Any]]:
        out = []
        for obj in self.all(entity):
            if datetime.fromisoformat(obj["MetaData"]["LastUpdatedTime"]) >= since:
                out.append(obj)
        for tomb in self.tombstones.get(entity, {}).values():
            if datetime.fromisoformat(tomb["MetaData"]["LastUpdatedTime"]) >= since:
                out.append(tomb)
        out.sort(key=lambda o: (o["MetaData"]["LastUpdatedTime"], int(o["Id"])))
        return out


def cdc_floor(now: float) -> datetime:
    """CDC "looks back at most 30 days" (reference, Limits)."""
    return datetime.fromtimestamp(now, UTC) - timedelta(days=30)
