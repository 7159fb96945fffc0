"""One HireHop company: depots, address book, jobs, billing and purchase orders, and what a user does with them.

Follows ../shared/reference/hirehop.md. Lines marked ASSUMPTION are not on the reference sheet (HireHop's public
documentation is thin); FIDELITY.md beside this file lists them. Callers hold `company.lock`.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")

# Invoice status (reference, "Billing records"): 0 draft (no number yet), 2 approved (numbered), 3 paid.
DRAFT, APPROVED, PAID = 0, 2, 3
# Billing row kinds (reference): 1 invoice, 2 credit note, 3 payment applied to an invoice, 6 payment received.
KIND_INVOICE, KIND_CREDIT, KIND_APPLICATION, KIND_DEPOSIT = 1, 2, 3, 6

# ASSUMPTION: only invoice.status.updated is HireHop's own example and contact.* is observed; the other names are
# our guess and are configurable (PATCH /_sim/events) so tests can use whatever HireHop really sends.
DEFAULT_EVENT_NAMES = {
    "invoice_status": "invoice.status.updated",
    "invoice_edit": "invoice.updated",
    "credit_status": "credit_note.status.updated",
    "credit_edit": "credit_note.updated",
    "deposit": "payment.created",
    "application": "payment.applied",
    "po_status": "purchase_order.status.updated",
    "po_edit": "purchase_order.updated",
    "contact_new": "contact.created",
    "contact_edit": "contact.updated",
    "job_status": "job.status.updated",
}


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


class HireHopError(Exception):
    """An API error HireHop answers as {"error": code} with HTTP 200 (reference, "Errors")."""

    def __init__(self, code: int | str, message: str = "") -> None:
        super().__init__(message or str(code))
        self.code = code


@dataclass
class Webhook:
    event: str
    data: dict[str, Any]
    changes: dict[str, Any]


@dataclass
class Company:
    company_id: int
    name: str
    export_key: str
    now: Callable[[], float]
    emit: Callable[[Company, Webhook], None] = lambda company, hook: None
    event_names: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_EVENT_NAMES))
    lock: threading.RLock = field(default_factory=threading.RLock)
    depots: dict[int, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[int, dict[str, Any]] = field(default_factory=dict)
    credits: dict[int, dict[str, Any]] = field(default_factory=dict)
    deposits: dict[int, dict[str, Any]] = field(default_factory=dict)
    applications: dict[int, dict[str, Any]] = field(default_factory=dict)
    purchase_orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    banks: list[dict[str, Any]] = field(default_factory=list)
    nominal_groups: list[dict[str, Any]] = field(default_factory=list)
    tax_groups: list[dict[str, Any]] = field(default_factory=list)
    nominal_codes: list[dict[str, Any]] = field(default_factory=list)
    tax_codes: list[dict[str, Any]] = field(default_factory=list)
    currency: dict[str, Any] = field(default_factory=lambda: {"CODE": "USD", "SYMBOL": "$", "DECIMALS": 2})
    prefixes: dict[str, str] = field(default_factory=lambda: {"invoice": "INV-", "credit": "CRE-", "po": "PO-"})
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    _numbers: dict[str, itertools.count[int]] = field(
        default_factory=lambda: {
            "invoice": itertools.count(12245),
            "credit": itertools.count(1204),
            "po": itertools.count(3301),
        }
    )

    # ------------------------------------------------------------------ helpers
    def _id(self) -> int:
        return next(self._ids)

    def stamp(self) -> str:
        return datetime.fromtimestamp(self.now(), UTC).strftime("%Y-%m-%d %H:%M:%S")

    def _fire(self, key: str, data: dict[str, Any], changes: dict[str, Any], notify: bool) -> None:
        if notify:
            self.emit(self, Webhook(self.event_names[key], copy.deepcopy(data), changes))

    def _line(self, spec: dict[str, Any], n: int) -> dict[str, Any]:
        qty = Decimal(str(spec.get("QUANTITY", spec.get("qty", 1))))
        unit = money(spec.get("UNIT_PRICE", spec.get("price", 0)))
        price = money(qty * unit)
        rate = Decimal(str(spec.get("VAT_RATE", spec.get("vat_rate", 0))))
        return {
            "ID": n,
            "TITLE": spec.get("TITLE", spec.get("title", "")),
            "DESCRIPTION": spec.get("DESCRIPTION", spec.get("description", "")),
            "QUANTITY": qty,
            "UNIT_PRICE": unit,
            "PRICE": price,
            "VAT_RATE": rate,
            "VAT": money(price * rate / 100),  # reference: "VAT (amount, rounded per line)"
            "ACC_NOMINAL_ID": int(spec.get("ACC_NOMINAL_ID", 0)),
            "ACC_TAX_RATE_ID": int(spec.get("ACC_TAX_RATE_ID", 0)),
            # ASSUMPTION: the line's HireHop nominal group and tax group, which the set-up assigns to QuickBooks codes.
            "NOMINAL_GROUP": int(spec.get("NOMINAL_GROUP", spec.get("nominal_group", 0))),
            "TAX_GROUP": int(spec.get("TAX_GROUP", spec.get("tax_group", 0))),
        }

    def _totals(self, doc: dict[str, Any]) -> None:
        doc["NET"] = sum((i["PRICE"] for i in doc["items"]), Decimal("0"))
        doc["TAX"] = sum((i["VAT"] for i in doc["items"]), Decimal("0"))
        doc["TOTAL"] = doc["NET"] + doc["TAX"]

    def _job(self, job_id: int) -> dict[str, Any]:
        job = self.jobs.get(int(job_id))
        if job is None:
            raise HireHopError(3, f"no job {job_id}")
        return job

    def _client_fields(self, job: dict[str, Any]) -> dict[str, Any]:
        if job["CLIENT_ID"]:
            contact = self.contacts[job["CLIENT_ID"]]
            return {"CLIENT_ID": job["CLIENT_ID"], "COMPANY": contact["COMPANY"], "NAME": contact["NAME"]}
        # A one-off client who is not in the address book (reference, "What HireHop's integration does").
        return {
            "CLIENT_ID": 0,
            "COMPANY": job.get("COMPANY", ""),
            "NAME": job.get("NAME", ""),
            "ADDRESS": job.get("ADDRESS", ""),
            "EMAIL": job.get("EMAIL", ""),
        }

    # ------------------------------------------------------------------ address book and jobs
    def add_depot(self, name: str, virtual: bool = False, parent: int = 0) -> dict[str, Any]:
        depot = {"ID": self._id(), "DEPOT": name, "VIRTUAL": 1 if virtual else 0, "PARENT": parent}
        self.depots[depot["ID"]] = depot
        return depot

    def add_contact(
        self,
        *,
        company: str,
        name: str = "",
        email: str = "",
        client: bool = True,
        supplier: bool = False,
        notify: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        contact = {
            "ID": self._id(),
            "COMPANY": company,
            "NAME": name,
            "ADDRESS": extra.get("address", ""),
            "EMAIL": email,
            "TELEPHONE": extra.get("telephone", ""),
            "VAT_NUMBER": extra.get("vat_number", ""),
            "CLIENT": 1 if client else 0,
            "SUBCONTRACTOR": 1 if supplier else 0,
            "ACC_IDS": {},
        }
        self.contacts[contact["ID"]] = contact
        self._fire("contact_new", contact, {}, notify)
        return contact

    def edit_contact(self, contact_id: int, notify: bool = True, **fields: Any) -> dict[str, Any]:
        contact = self.contacts.get(int(contact_id))
        if contact is None:
            raise HireHopError(3, f"no contact {contact_id}")
        changes = {k: {"from": contact.get(k), "to": v} for k, v in fields.items() if contact.get(k) != v}
        contact.update(fields)
        self._fire("contact_edit", contact, changes, notify and bool(changes))
        return contact

    def add_job(
        self,
        *,
        depot_id: int,
        client_id: int = 0,
        name: str = "",
        one_off: dict[str, Any] | None = None,
        status: int = 2,
    ) -> dict[str, Any]:
        if client_id and client_id not in self.contacts:
            raise HireHopError(3, f"no contact {client_id}")
        if depot_id not in self.depots:
            raise HireHopError(3, f"no depot {depot_id}")
        job = {"ID": self._id(), "JOB_NAME": name, "CLIENT_ID": client_id, "STATUS": status, "DEPOT_ID": depot_id}
        if not client_id:
            job.update({k.upper(): v for k, v in (one_off or {}).items()})
        self.jobs[job["ID"]] = job
        return job

    # ------------------------------------------------------------------ invoices
    def create_invoice(
        self, job_id: int, lines: list[dict[str, Any]], *, depot_id: int | None = None, due_days: int = 30
    ) -> dict[str, Any]:
        job = self._job(job_id)
        now = self.stamp()
        inv = {
            "ID": self._id(),
            "NUMBER": "",
            "STATUS": DRAFT,
            "DATE": now[:10],
            "DUE_DATE": now[:10],
            "JOB_ID": job["ID"],
            "DEPOT_ID": depot_id if depot_id is not None else job["DEPOT_ID"],
            "CURRENCY": self.currency["CODE"],
            "PAID": Decimal("0"),
            "CREDITED": Decimal("0"),
            "MODIFIED": now,
            "items": [self._line(spec, n) for n, spec in enumerate(lines, start=1)],
            **self._client_fields(job),
        }
        self._totals(inv)
        inv["OWING"] = inv["TOTAL"]
        self.invoices[inv["ID"]] = inv
        return inv

    def approve_invoice(self, invoice_id: int, notify: bool = True) -> dict[str, Any]:
        inv = self._doc(self.invoices, invoice_id)
        if inv["STATUS"] >= APPROVED:
            return inv
        old = inv["STATUS"]
        inv["STATUS"] = APPROVED
        inv["NUMBER"] = f"{self.prefixes['invoice']}{next(self._numbers['invoice'])}"  # numbered on approval
        inv["MODIFIED"] = self.stamp()
        self._fire("invoice_status", inv, {"STATUS": {"from": old, "to": APPROVED}}, notify)
        return inv

    def edit_invoice(
        self, invoice_id: int, *, lines: list[dict[str, Any]] | None = None, notify: bool = True, **fields: Any
    ) -> dict[str, Any]:
        inv = self._doc(self.invoices, invoice_id)
        changes: dict[str, Any] = {}
        if lines is not None:
            old_total = inv["TOTAL"]
            inv["items"] = [self._line(spec, n) for n, spec in enumerate(lines, start=1)]
            self._totals(inv)
            if inv["TOTAL"] != old_total:
                changes["TOTAL"] = {"from": old_total, "to": inv["TOTAL"]}
            changes["items"] = {"from": None, "to": len(inv["items"])}
        for k, v in fields.items():
            if inv.get(k) != v:
                changes[k] = {"from": inv.get(k), "to": v}
                inv[k] = v
        self._recompute(inv)
        inv["MODIFIED"] = self.stamp()
        self._fire("invoice_edit", inv, changes, notify and inv["STATUS"] >= APPROVED and bool(changes))
        return inv

    def _doc(self, table: dict[int, dict[str, Any]], doc_id: int) -> dict[str, Any]:
        doc = table.get(int(doc_id))
        if doc is None:
            raise HireHopError(3, f"no document {doc_id}")
        return doc

    def _recompute(self, inv: dict[str, Any]) -> None:
        inv["PAID"] = sum((a["AMOUNT"] for a in self.applications.values() if a["OWNER"] == inv["ID"]), Decimal("0"))
        inv["CREDITED"] = sum((c["TOTAL"] for c in self.credits.values() if c["OWNER"] == inv["ID"]), Decimal("0"))
        inv["OWING"] = inv["TOTAL"] - inv["PAID"] - inv["CREDITED"]
        if inv["STATUS"] >= APPROVED:
            was = inv["STATUS"]
            inv["STATUS"] = PAID if inv["OWING"] <= 0 else APPROVED
            if inv["STATUS"] != was:
                inv["MODIFIED"] = self.stamp()

    # ------------------------------------------------------------------ credit notes
    def credit_note(self, invoice_id: int, lines: list[dict[str, Any]], notify: bool = True) -> dict[str, Any]:
        inv = self._doc(self.invoices, invoice_id)
        if inv["STATUS"] < APPROVED:
            raise HireHopError(3, "a credit note needs an approved invoice")
        now = self.stamp()
        credit = {
            "ID": self._id(),
            "NUMBER": f"{self.prefixes['credit']}{next(self._numbers['credit'])}",
            "STATUS": APPROVED,
            "DATE": now[:10],
            "OWNER": inv["ID"],  # reference: a credit note "nets off its parent invoice"
            "JOB_ID": inv["JOB_ID"],
            "DEPOT_ID": inv["DEPOT_ID"],
            "CURRENCY": inv["CURRENCY"],
            "CLIENT_ID": inv["CLIENT_ID"],
            "COMPANY": inv["COMPANY"],
            "NAME": inv["NAME"],
            "MODIFIED": now,
            "items": [self._line(spec, n) for n, spec in enumerate(lines, start=1)],
        }
        self._totals(credit)
        self.credits[credit["ID"]] = credit
        self._recompute(inv)
        self._fire("credit_status", credit, {"STATUS": {"from": DRAFT, "to": APPROVED}}, notify)
        return credit

    # ------------------------------------------------------------------ payments
    def save_deposit(
        self,
        *,
        job_id: int,
        amount: Any,
        bank_id: int,
        date: str = "",
        description: str = "",
        memo: str = "",
        client_id: int | None = None,
        notify: bool = True,
    ) -> dict[str, Any]:
        job = self._job(job_id)
        value = money(amount)
        if value <= 0:
            raise HireHopError(3, "AMOUNT must be positive")  # reference: "AMOUNT (positive)"
        if not any(b["ID"] == int(bank_id) for b in self.banks):
            raise HireHopError(3, f"no bank account {bank_id}")
        deposit = {
            "ID": self._id(),
            "DATE": date or self.stamp()[:10],
            "DESCRIPTION": description,
            "AMOUNT": value,
            "MEMO": memo,
            "ACC_ACCOUNT_ID": int(bank_id),
            "JOB_ID": job["ID"],
            "CLIENT_ID": job["CLIENT_ID"] if client_id is None else int(client_id),
            "DEPOT_ID": job["DEPOT_ID"],
            "CURRENCY": self.currency["CODE"],
            "MODIFIED": self.stamp(),
        }
        self.deposits[deposit["ID"]] = deposit
        self._fire("deposit", deposit, {}, notify)
        return deposit

    def allocated(self, deposit_id: int) -> Decimal:
        return sum((a["AMOUNT"] for a in self.applications.values() if a["OWNER_DEPOSIT"] == deposit_id), Decimal("0"))

    def apply_payment(
        self,
        *,
        deposit_id: int,
        invoice_id: int,
        amount: Any,
        date: str = "",
        description: str = "",
        memo: str = "",
        notify: bool = True,
    ) -> dict[str, Any]:
        deposit = self._doc(self.deposits, deposit_id)
        value = money(amount)
        if self.allocated(deposit["ID"]) + value > deposit["AMOUNT"]:
            # Reference: "370 refunding a deposit that is fully allocated". ASSUMPTION: the same code when an
            # application would allocate more than the deposit holds.
            raise HireHopError(370, "the deposit is fully allocated")
        owner = int(invoice_id)
        if owner:
            self._doc(self.invoices, owner)
        application = {
            "ID": self._id(),
            "DATE": date or self.stamp()[:10],
            "DESCRIPTION": description,
            "AMOUNT": value,
            "MEMO": memo,
            "OWNER": owner,  # 0 is a refund (reference: "OWNER=0 is a refund")
            "OWNER_DEPOSIT": deposit["ID"],
            "ACC_ACCOUNT_ID": deposit["ACC_ACCOUNT_ID"],
            "JOB_ID": deposit["JOB_ID"],
            "MODIFIED": self.stamp(),
        }
        self.applications[application["ID"]] = application
        if owner:
            self._recompute(self.invoices[owner])
        self._fire("application", application, {}, notify)
        return application

    def edit_deposit(self, deposit_id: int, *, notify: bool = True, **fields: Any) -> dict[str, Any]:
        """ASSUMPTION: `ID=<n>` edits deposit n (the reference shows `ID=0` for a new one; writes "set only the
        fields sent"). AMOUNT stays positive and may not fall below what is already allocated (error 370)."""
        deposit = self._doc(self.deposits, deposit_id)
        if "AMOUNT" in fields:
            value = money(fields["AMOUNT"])
            if value <= 0:
                raise HireHopError(3, "AMOUNT must be positive")
            if value < self.allocated(deposit["ID"]):
                raise HireHopError(370, "the deposit is allocated beyond that amount")
            deposit["AMOUNT"] = value
        for key in ("DATE", "DESCRIPTION", "MEMO"):
            if key in fields:
                deposit[key] = fields[key]
        deposit["MODIFIED"] = self.stamp()
        self._fire("deposit", deposit, {}, notify)
        return deposit

    def edit_application(self, application_id: int, *, notify: bool = True, **fields: Any) -> dict[str, Any]:
        """ASSUMPTION: `id=<n>` edits application n (the reference shows `id=0` for a new one). `paid` may go to 0
        (nothing applied) but not below, nor beyond what the deposit holds (370)."""
        application = self.applications.get(int(application_id))
        if application is None:
            raise HireHopError(3, f"no payment {application_id}")
        if "AMOUNT" in fields:
            value = money(fields["AMOUNT"])
            if value < 0:
                raise HireHopError(3, "paid may not be negative")
            deposit = self.deposits[application["OWNER_DEPOSIT"]]
            if self.allocated(deposit["ID"]) - application["AMOUNT"] + value > deposit["AMOUNT"]:
                raise HireHopError(370, "the deposit is fully allocated")
            application["AMOUNT"] = value
        for key in ("DATE", "DESCRIPTION", "MEMO"):
            if key in fields:
                application[key] = fields[key]
        application["MODIFIED"] = self.stamp()
        if application["OWNER"]:
            self._recompute(self.invoices[application["OWNER"]])
        self._fire("application", application, {}, notify)
        return application

    def delete_application(self, application_id: int, notify: bool = True) -> None:
        application = self.applications.pop(int(application_id), None)
        if application is None:
            raise HireHopError(3, f"no payment {application_id}")
        if application["OWNER"]:
            self._recompute(self.invoices[application["OWNER"]])

    # ------------------------------------------------------------------ purchase orders
    def issue_purchase_order(
        self, *, job_id: int, supplier_id: int, lines: list[dict[str, Any]], notify: bool = True
    ) -> dict[str, Any]:
        job = self._job(job_id)
        supplier = self.contacts.get(int(supplier_id))
        if supplier is None or not supplier["SUBCONTRACTOR"]:
            raise HireHopError(3, f"contact {supplier_id} is not a supplier")
        now = self.stamp()
        po = {
            "ID": self._id(),
            "NUMBER": f"{self.prefixes['po']}{next(self._numbers['po'])}",
            "STATUS": APPROVED,  # ASSUMPTION: an issued purchase order counts as approved
            "DATE": now[:10],
            "JOB_ID": job["ID"],
            "DEPOT_ID": job["DEPOT_ID"],
            "SUPPLIER_ID": supplier["ID"],
            "COMPANY": supplier["COMPANY"],
            "CURRENCY": self.currency["CODE"],
            "MODIFIED": now,
            "items": [self._line(spec, n) for n, spec in enumerate(lines, start=1)],
        }
        self._totals(po)
        self.purchase_orders[po["ID"]] = po
        self._fire("po_status", po, {"STATUS": {"from": DRAFT, "to": APPROVED}}, notify)
        return po

    # ------------------------------------------------------------------ reads
    def billing_rows(self, job_id: int) -> list[dict[str, Any]]:
        """billing_list's rows (reference): kind, number, date, debit, credit, owing, status, currency, data."""
        job = self._job(job_id)
        rows: list[dict[str, Any]] = []
        for inv in self.invoices.values():
            if inv["JOB_ID"] == job["ID"]:
                rows.append(self._row(f"i{inv['ID']}", KIND_INVOICE, inv, debit=inv["TOTAL"], owing=inv["OWING"]))
        for credit in self.credits.values():
            if credit["JOB_ID"] == job["ID"]:
                rows.append(self._row(f"c{credit['ID']}", KIND_CREDIT, credit, credit_value=credit["TOTAL"]))
        for deposit in self.deposits.values():
            if deposit["JOB_ID"] != job["ID"]:
                continue
            rows.append(
                self._row(
                    f"d{deposit['ID']}",
                    KIND_DEPOSIT,
                    deposit,
                    credit_value=deposit["AMOUNT"],
                    owing=deposit["AMOUNT"] - self.allocated(deposit["ID"]),
                )
            )
            for app in self.applications.values():
                if app["OWNER_DEPOSIT"] == deposit["ID"]:
                    # Reference: "a deposit-to-invoice application appears twice with the same data.ID".
                    rows.append(self._row(f"p{app['ID']}", KIND_APPLICATION, app, credit_value=app["AMOUNT"]))
                    rows.append(self._row(f"ip{app['ID']}", KIND_APPLICATION, app, credit_value=app["AMOUNT"]))
        return rows

    def _row(
        self,
        row_id: str,
        kind: int,
        data: dict[str, Any],
        *,
        debit: Decimal = Decimal("0"),
        credit_value: Decimal = Decimal("0"),
        owing: Decimal = Decimal("0"),
    ) -> dict[str, Any]:
        return {
            "id": row_id,
            "kind": kind,
            "number": data.get("NUMBER", ""),
            "date": data.get("DATE", ""),
            "debit": debit,
            "credit": credit_value,
            "owing": owing,
            "status": data.get("STATUS", 0),
            "currency": data.get("CURRENCY", self.currency["CODE"]),
            "data": copy.deepcopy(data),
        }
