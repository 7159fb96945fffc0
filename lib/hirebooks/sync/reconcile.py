"""Do the books agree? HireHop and QuickBooks compared document by document (invariant 4).

For each approved invoice and credit note of the given jobs: it exists exactly once in its package's QuickBooks
company (by DocNumber), with the mapped customer, the same number of money lines and the same amounts, the same tax
and total; an invoice's open balance in QuickBooks equals what HireHop says is owing (so payments and credits applied
agree). Purchase orders: once, with the same total. Payments: once, with the same amount.

HireHop has no public call that lists invoices across jobs (reference), so the caller names the jobs (the outbox
knows which jobs had documents in a period).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hirebooks.ports import DocumentSource, IdMap

from .mapping import money
from .model import WRITEBACK_MEMO_PREFIX
from .settings import CompanySettings

APPROVED = 2


@dataclass
class Finding:
    document: str
    problem: str


@dataclass
class Reconciliation:
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        if self.agree:
            return f"The books agree: {self.checked} documents checked, no differences."
        return f"The books do not agree: {len(self.findings)} differences in {self.checked} documents checked."


def _lines_total(obj: dict[str, Any], detail: str) -> tuple[int, Decimal]:
    lines = [ln for ln in obj.get("Line", []) if ln.get("DetailType") == detail]
    return len(lines), sum((money(ln.get("Amount", 0)) for ln in lines), Decimal("0"))


def reconcile(
    *,
    company_id: int,
    settings: CompanySettings,
    source: DocumentSource,
    gateway_for: Callable[[str], Any],
    idmap: IdMap,
    job_ids: Iterable[int],
) -> Reconciliation:
    report = Reconciliation()
    depots = settings.depot_tree() if settings.depot_parents is not None else {int(d["ID"]): d for d in source.depots()}

    def once(gateway: Any, entity: str, field_name: str, value: str, label: str) -> dict[str, Any] | None:
        found = gateway.find_by(entity, field_name, value)
        if len(found) != 1:
            report.findings.append(Finding(label, f"{len(found)} {entity} objects with {field_name} {value}"))
            return None
        return dict(found[0])

    for job_id in sorted(set(job_ids)):
        billing = source.billing_list(job_id)
        docs: dict[tuple[int, str], dict[str, Any]] = {}
        for row in billing.get("rows", []):
            docs.setdefault((int(row["kind"]), str(row["data"]["ID"])), row["data"])
        for (kind, _), doc in sorted(docs.items()):
            if kind not in (1, 2) or int(doc.get("STATUS") or 0) < APPROVED:
                continue
            name = "invoice" if kind == 1 else "credit_note"
            entity = "Invoice" if kind == 1 else "CreditMemo"
            label = f"{name.replace('_', ' ')} {doc.get('NUMBER')}"
            report.checked += 1
            package = settings.package_for_depot(doc.get("DEPOT_ID") or 0, depots)
            gateway = gateway_for(package.realm_id)
            obj = once(gateway, entity, "DocNumber", package.doc_number(name, str(doc["NUMBER"])), label)
            if obj is None:
                continue
            client = int(doc.get("CLIENT_ID") or 0)
            party_key = f"contact:{client}:customer" if client else f"oneoff:{doc.get('JOB_ID')}:customer"
            party = idmap.get(company_id, package.realm_id, party_key)
            if party is None or str(obj.get("CustomerRef", {}).get("value")) != str(party.qbo_id):
                report.findings.append(Finding(label, "QuickBooks names another customer"))
            count, net = _lines_total(obj, "SalesItemLineDetail")
            if count != len(doc.get("items", [])):
                report.findings.append(Finding(label, f"{count} lines in QuickBooks, {len(doc['items'])} in HireHop"))
            checks: list[tuple[str, Decimal, Decimal]] = [
                ("net", net, money(doc.get("NET", 0))),
                ("tax", money(obj.get("TxnTaxDetail", {}).get("TotalTax", 0)), money(doc.get("TAX", 0))),
                ("total", money(obj.get("TotalAmt", 0)), money(doc.get("TOTAL", 0))),
            ]
            if kind == 1:
                # QuickBooks never holds a negative balance: HireHop's overpaid invoice is customer credit there.
                owing = max(money(doc.get("OWING", 0)), Decimal("0"))
                checks.append(("open balance", money(obj.get("Balance", 0)), owing))
            for what, theirs, ours in checks:
                if theirs != ours:
                    report.findings.append(Finding(label, f"{what} is {theirs} in QuickBooks, {ours} in HireHop"))
        for po in source.purchase_orders(job_id):
            if int(po.get("STATUS") or 0) < APPROVED:
                continue
            label = f"purchase order {po.get('NUMBER')}"
            report.checked += 1
            package = settings.package_for_depot(po.get("DEPOT_ID") or 0, depots)
            obj = once(
                gateway_for(package.realm_id),
                "PurchaseOrder",
                "DocNumber",
                package.doc_number("purchase_order", str(po["NUMBER"])),
                label,
            )
            if obj is not None and money(obj.get("TotalAmt", 0)) != money(po.get("NET", 0)):
                report.findings.append(Finding(label, f"total is {obj.get('TotalAmt')} in QuickBooks, {po['NET']}"))
        for (kind, _), deposit in sorted(docs.items()):
            if kind != 6:
                continue
            if str(deposit.get("MEMO", "")).startswith(WRITEBACK_MEMO_PREFIX):
                # It mirrors a payment made in QuickBooks: the open-balance check of its invoices covers it.
                continue
            label = f"payment {deposit['ID']}"
            report.checked += 1
            package = settings.package_for_depot(deposit.get("DEPOT_ID") or 0, depots)
            obj = once(gateway_for(package.realm_id), "Payment", "PaymentRefNum", f"HH{deposit['ID']}", label)
            if obj is not None and money(obj.get("TotalAmt", 0)) != money(deposit.get("AMOUNT", 0)):
                report.findings.append(
                    Finding(label, f"amount is {obj['TotalAmt']} in QuickBooks, {deposit['AMOUNT']}")
                )
    return report
