"""QuickBooks to HireHop: payments and credits applied in QuickBooks are recorded on the HireHop invoices.

A QuickBooks Payment becomes, in HireHop, a payment received (a "deposit") on the package's bank account per job it
touches, and one application per HireHop invoice it pays (reference hirehop.md: billing_deposit_save.php and
billing_payments_save.php, with no_webhook=1). What HireHop holds is found by the MEMO marker each record carries, so
the write-back is a projection: it reads what is there, works out what should be there from the newest QuickBooks
version, and writes only the difference. Hence:

- an update adjusts the amounts; a delete or a void sets every application to 0 and refunds what the deposit held
  (HireHop has no public delete: a refund, OWNER=0, is how HireHop takes money back);
- an overpayment leaves the rest on the deposit, unapplied (the customer's credit in HireHop);
- a $0 payment that applies a credit memo: a credit memo HireBooks made is the twin of a HireHop credit note, which
  HireHop already nets off its invoice, so that part writes nothing; a credit memo made in QuickBooks is recorded as
  money applied, with the deposit's description saying so (HireHop has no public call to raise a credit note);
- the version applied is kept per payment (its SyncToken): an older event that arrives late changes nothing, and
  a repeat is answered from the ledger with no HireHop call.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hirebooks import errors as E
from hirebooks.ports import ChangeReader, Clock, IdMap, MoneyBook, SettingsRepository, WritebackLedger

from .model import WRITEBACK_MEMO_PREFIX, WritebackRecord
from .settings import CompanySettings

ZERO = Decimal("0")
DELETED_VERSION = 1 << 62  # a deleted payment is final: QuickBooks never reuses an id
KIND_APPLICATION, KIND_DEPOSIT = 3, 6  # reference hirehop.md, "Billing records"
OWN_REFERENCE = re.compile(r"HH(C?)(\d+)")  # the PaymentRefNum the push gives (mapping.payment, Pusher._apply_credit)


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class QboChange:
    """One change QuickBooks told us about (a webhook) or that the CDC sweep found (then with the object)."""

    realm_id: str
    entity: str
    entity_id: str
    operation: str
    event_id: str
    occurred_at: str = ""
    origin: str = "webhook"  # or "cdc"
    obj: dict[str, Any] | None = None

    def to_message(self) -> dict[str, Any]:
        return {
            "realm_id": self.realm_id,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "operation": self.operation,
            "event_id": self.event_id,
            "occurred_at": self.occurred_at,
            "origin": self.origin,
            "obj": self.obj,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> QboChange:
        return cls(
            realm_id=str(message["realm_id"]),
            entity=str(message["entity"]),
            entity_id=str(message["entity_id"]),
            operation=str(message["operation"]),
            event_id=str(message["event_id"]),
            occurred_at=str(message.get("occurred_at", "")),
            origin=str(message.get("origin", "webhook")),
            obj=message.get("obj"),
        )


@dataclass(frozen=True)
class WritebackOutcome:
    status: str  # "applied", "unchanged", "skipped" (ours, or nothing for HireHop), "noted"
    reason: str
    writes: int = 0


@dataclass
class Target:
    """What HireHop should hold for one QuickBooks payment."""

    company_id: int = 0
    applications: dict[int, Decimal] = field(default_factory=dict)  # HireHop invoice -> amount
    job_of: dict[int, int] = field(default_factory=dict)  # HireHop invoice -> job
    deposits: dict[int, Decimal] = field(default_factory=dict)  # job -> amount received
    foreign_credit: Decimal = ZERO
    unlinked: Decimal = ZERO
    note: str = ""


@dataclass
class Held:
    """What HireHop holds of it in one job (found by the MEMO markers)."""

    deposit: tuple[int, Decimal] | None = None
    applications: dict[int, tuple[int, Decimal]] = field(default_factory=dict)  # invoice -> (id, amount)
    refund: tuple[int, Decimal] | None = None


def marker(realm_id: str, qbo_id: str, what: str) -> str:
    return f"{WRITEBACK_MEMO_PREFIX}{realm_id}/Payment/{qbo_id} {what}"


class WriteBack:
    def __init__(
        self,
        *,
        idmap: IdMap,
        ledger: WritebackLedger,
        settings: SettingsRepository,
        reader_for: Callable[[str], ChangeReader],
        hirehop_for: Callable[[int, CompanySettings], MoneyBook],
        clock: Clock,
    ) -> None:
        self.idmap = idmap
        self.ledger = ledger
        self.settings = settings
        self.reader_for = reader_for
        self.hirehop_for = hirehop_for
        self.clock = clock

    # ================================================================== entry point
    def apply(self, change: QboChange) -> WritebackOutcome:
        if change.entity == "CreditMemo":
            return self._credit_memo(change)
        if change.entity != "Payment":
            return WritebackOutcome("noted", f"HireBooks writes back payments and credits; a {change.entity} is noted")
        ours = self.idmap.find_by_qbo(change.realm_id, "Payment", change.entity_id)
        if ours is not None and ours.origin == "hirebooks":
            return WritebackOutcome("skipped", f"QuickBooks payment {change.entity_id} was written by HireBooks")
        record = self.ledger.get(change.realm_id, "Payment", change.entity_id)
        if record is not None and record.deleted:
            return WritebackOutcome("unchanged", f"QuickBooks payment {change.entity_id} was deleted; nothing to do")
        payment = self._current(change)
        version = DELETED_VERSION if payment is None else int(payment.get("SyncToken") or 0)
        if record is not None and record.version >= version:
            return WritebackOutcome(
                "unchanged", f"HireHop already holds version {record.version} of QuickBooks payment {change.entity_id}"
            )
        target = Target() if payment is None else self._target(change.realm_id, payment)
        company_id = target.company_id or (record.company_id if record else 0)
        if payment is not None and company_id and self._sent_by_us(company_id, change.realm_id, payment):
            return WritebackOutcome("skipped", f"QuickBooks payment {change.entity_id} is being written by HireBooks")
        jobs = sorted(set(target.deposits) | set(record.jobs if record else []))
        if not company_id or not jobs:
            self._remember(change, version, company_id, jobs, deleted=payment is None)
            reason = target.note or f"QuickBooks payment {change.entity_id} pays no HireHop invoice"
            return WritebackOutcome("skipped", reason)
        settings = self.settings.get(company_id)
        if settings is None:
            raise E.NeedsSetupError(f"HireHop company {company_id} has no set-up")
        book = self.hirehop_for(company_id, settings)
        writes = self._project(book, settings, change, payment, target, jobs)
        self._remember(change, version, company_id, jobs, deleted=payment is None)
        what = "deleted" if payment is None else f"version {version}"
        return WritebackOutcome(
            "applied", f"QuickBooks payment {change.entity_id} ({what}) recorded in HireHop; {writes} writes", writes
        )

    def _sent_by_us(self, company_id: int, realm_id: str, payment: dict[str, Any]) -> bool:
        """A payment HireBooks is creating has its intent in the id map (write-ahead) but not yet its QuickBooks id,
        so the reverse index cannot find it; QuickBooks' webhook can arrive in that window. Our payments carry the
        HireHop reference (HH<deposit>, HHC<credit note>): an intent under that key means it is ours."""
        match = OWN_REFERENCE.fullmatch(str(payment.get("PaymentRefNum") or ""))
        if match is None:
            return False
        key = f"creditapply:{match.group(2)}" if match.group(1) else f"payment:{match.group(2)}"
        return self.idmap.get(company_id, realm_id, key) is not None

    def _credit_memo(self, change: QboChange) -> WritebackOutcome:
        ours = self.idmap.find_by_qbo(change.realm_id, "CreditMemo", change.entity_id)
        if ours is not None and ours.origin == "hirebooks":
            return WritebackOutcome("skipped", f"QuickBooks credit memo {change.entity_id} is a HireHop credit note's")
        return WritebackOutcome(
            "noted",
            f"QuickBooks credit memo {change.entity_id} reaches HireHop when it is applied to an invoice "
            "(QuickBooks then sends the $0 payment that applies it)",
        )

    def _current(self, change: QboChange) -> dict[str, Any] | None:
        """The newest version: the sweep's copy, or a read (reads are metered: only when needed). None: deleted."""
        obj = change.obj
        if obj is None and change.operation != "Delete":
            try:
                obj = self.reader_for(change.realm_id).read("Payment", change.entity_id)
            except E.NotFoundError:
                return None
        if obj is None or obj.get("status") == "Deleted":
            return None
        return obj

    def _remember(
        self,
        change: QboChange,
        version: int,
        company_id: int,
        jobs: list[int],
        *,
        deleted: bool,
    ) -> None:
        self.ledger.put(
            WritebackRecord(
                realm_id=change.realm_id,
                entity="Payment",
                qbo_id=change.entity_id,
                company_id=company_id,
                version=version,
                deleted=deleted,
                jobs=jobs,
                updated_at=self.clock.time(),
            )
        )

    # ================================================================== what HireHop should hold
    def _target(self, realm_id: str, payment: dict[str, Any]) -> Target:
        target = Target()
        invoice_lines: list[tuple[int, int, Decimal]] = []  # (invoice, job, amount), in line order
        own_credit = ZERO
        for line in payment.get("Line") or []:
            amount = money(line.get("Amount"))
            for linked in line.get("LinkedTxn") or []:
                txn_type, txn_id = str(linked.get("TxnType")), str(linked.get("TxnId"))
                link = self.idmap.find_by_qbo(realm_id, txn_type, txn_id)
                if txn_type == "CreditMemo":
                    if link is not None and link.origin == "hirebooks":
                        own_credit += amount  # a HireHop credit note's twin: HireHop already nets it off
                    else:
                        target.foreign_credit += amount
                    continue
                if txn_type != "Invoice":
                    continue
                if link is None or not link.key.startswith("invoice:") or not link.job_id:
                    target.unlinked += amount
                    continue
                if target.company_id and link.company_id != target.company_id:
                    target.unlinked += amount  # one payment, two HireHop companies: only the first is written
                    continue
                target.company_id = link.company_id
                invoice_lines.append((int(link.key.split(":", 1)[1]), link.job_id, amount))
        if not invoice_lines:
            target.note = (
                f"QuickBooks payment {payment.get('Id')} pays no invoice that came from HireHop"
                if target.unlinked
                else f"QuickBooks payment {payment.get('Id')} is not applied to any invoice"
            )
            return target
        for invoice, job, amount in invoice_lines:
            take = min(own_credit, amount)
            own_credit -= take
            if amount - take > 0:
                target.applications[invoice] = target.applications.get(invoice, ZERO) + amount - take
                target.job_of[invoice] = job
        unapplied = money(payment.get("UnappliedAmt"))
        for invoice, amount in target.applications.items():
            job = target.job_of[invoice]
            target.deposits[job] = target.deposits.get(job, ZERO) + amount
        if unapplied > 0:  # an overpayment: the rest stays on the deposit, unapplied (the customer's credit)
            first_job = invoice_lines[0][1]
            target.deposits[first_job] = target.deposits.get(first_job, ZERO) + unapplied
        if not target.deposits:
            target.note = f"QuickBooks payment {payment.get('Id')} applies credit HireHop already holds"
        return target

    # ================================================================== the difference, written
    def _held(self, book: MoneyBook, realm_id: str, qbo_id: str, jobs: list[int]) -> dict[int, Held]:
        held: dict[int, Held] = defaultdict(Held)
        deposit_memo = {marker(realm_id, qbo_id, f"job {job}"): job for job in jobs}
        refund_memo = {marker(realm_id, qbo_id, f"refund job {job}"): job for job in jobs}
        prefix = marker(realm_id, qbo_id, "invoice ")
        for job in jobs:
            for row in book.billing_list(job).get("rows", []):
                data = row.get("data") or {}
                memo = str(data.get("MEMO", ""))
                if row.get("kind") == KIND_DEPOSIT and memo in deposit_memo:
                    held[job].deposit = (int(data["ID"]), money(data.get("AMOUNT")))
                elif row.get("kind") == KIND_APPLICATION and memo in refund_memo:
                    held[job].refund = (int(data["ID"]), money(data.get("AMOUNT")))
                elif row.get("kind") == KIND_APPLICATION and memo.startswith(prefix):
                    held[job].applications[int(memo[len(prefix) :])] = (int(data["ID"]), money(data.get("AMOUNT")))
        return held

    def _project(
        self,
        book: MoneyBook,
        settings: CompanySettings,
        change: QboChange,
        payment: dict[str, Any] | None,
        target: Target,
        jobs: list[int],
    ) -> int:
        realm, qbo_id = change.realm_id, change.entity_id
        held = self._held(book, realm, qbo_id, jobs)
        bank = self._bank(settings, realm, payment)
        date = str((payment or {}).get("TxnDate") or "")
        label = str((payment or {}).get("PaymentRefNum") or qbo_id)
        description = f"QuickBooks payment {label}"
        if target.foreign_credit:
            description += f" (with {target.foreign_credit} of QuickBooks credit)"
        writes = 0
        # 1. Take back first (applications that shrink or go, refunds no longer wanted): the deposits then have room.
        for job in jobs:
            for invoice, (app_id, amount) in held[job].applications.items():
                wanted = target.applications.get(invoice, ZERO) if target.job_of.get(invoice) == job else ZERO
                if wanted < amount:
                    book.edit_application(application_id=app_id, amount=wanted)
                    writes += 1
            refund = held[job].refund
            if refund is not None and target.deposits.get(job, ZERO) > 0 and refund[1] > 0:
                book.edit_application(application_id=refund[0], amount=ZERO)
                writes += 1
        # 2. The money received, per job; a job no longer paid refunds its deposit.
        deposit_ids: dict[int, int] = {}
        for job in jobs:
            wanted = target.deposits.get(job, ZERO)
            current = held[job].deposit
            if wanted > 0 and current is None:
                deposit_ids[job] = book.save_deposit(
                    job_id=job,
                    amount=wanted,
                    bank_id=bank,
                    date=date,
                    description=description,
                    memo=marker(realm, qbo_id, f"job {job}"),
                    looked=True,
                )
                writes += 1
                continue
            if current is None:
                continue
            deposit_ids[job] = current[0]
            if wanted > 0 and wanted != current[1]:
                book.edit_deposit(deposit_id=current[0], amount=wanted)
                writes += 1
            elif wanted == 0:
                refund = held[job].refund
                if refund is None:
                    book.apply_payment(
                        job_id=job,
                        deposit_id=current[0],
                        invoice_id=0,  # reference: "OWNER=0 is a refund"
                        amount=current[1],
                        date=date,
                        description=f"{description} deleted or voided in QuickBooks",
                        memo=marker(realm, qbo_id, f"refund job {job}"),
                        bank_id=bank,
                        looked=True,
                    )
                    writes += 1
                elif refund[1] != current[1]:
                    book.edit_application(application_id=refund[0], amount=current[1])
                    writes += 1
        # 3. Apply to each invoice.
        for invoice, wanted in sorted(target.applications.items()):
            job = target.job_of[invoice]
            existing = held[job].applications.get(invoice)
            if existing is None:
                book.apply_payment(
                    job_id=job,
                    deposit_id=deposit_ids[job],
                    invoice_id=invoice,
                    amount=wanted,
                    date=date,
                    description=description,
                    memo=marker(realm, qbo_id, f"invoice {invoice}"),
                    bank_id=bank,
                    looked=True,
                )
                writes += 1
            elif existing[1] < wanted:
                book.edit_application(application_id=existing[0], amount=wanted)
                writes += 1
        if writes:
            self._verify(book, realm, qbo_id, jobs, target)
        return writes

    def _verify(self, book: MoneyBook, realm: str, qbo_id: str, jobs: list[int], target: Target) -> None:
        """HireHop sometimes answers success and does nothing (reference, observed): read back what matters."""
        held = self._held(book, realm, qbo_id, jobs)
        for invoice, wanted in target.applications.items():
            got = held[target.job_of[invoice]].applications.get(invoice)
            if got is None or got[1] != wanted:
                raise E.TransientError(
                    f"HireHop does not show {wanted} applied to invoice {invoice} yet; will try again",
                    source="hirehop",
                )
        for job in jobs:
            deposit, refund = held[job].deposit, held[job].refund
            if job not in target.deposits and deposit is not None and (refund is None or refund[1] != deposit[1]):
                raise E.TransientError(
                    f"HireHop does not show the refund of the deposit in job {job} yet; will try again",
                    source="hirehop",
                )
        for job, wanted in target.deposits.items():
            deposit = held[job].deposit
            if deposit is None or deposit[1] != wanted:
                raise E.TransientError(
                    f"HireHop does not show the deposit of {wanted} in job {job} yet; will try again",
                    source="hirehop",
                )

    @staticmethod
    def _bank(settings: CompanySettings, realm: str, payment: dict[str, Any] | None) -> int:
        """The HireHop bank account: the one mapped to the payment's QuickBooks account, else the package's default."""
        packages = [p for p in settings.packages.values() if p.realm_id == realm]
        account = str(((payment or {}).get("DepositToAccountRef") or {}).get("value", ""))
        for package in packages:
            for hirehop_bank, qbo_account in package.bank_accounts.items():
                if qbo_account == account:
                    return int(hirehop_bank)
        for package in packages:
            for hirehop_bank, qbo_account in package.bank_accounts.items():
                if qbo_account == package.default_bank_account:
                    return int(hirehop_bank)
        for package in packages:
            if package.bank_accounts:
                return int(next(iter(package.bank_accounts)))
        name = packages[0].name if packages else realm
        raise E.NeedsSetupError(
            f"Package '{name}' has no HireHop bank account for payments made in QuickBooks: sync bank accounts and "
            "pick a default"
        )
