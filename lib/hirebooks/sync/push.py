"""The push use case: one HireHop document into the right QuickBooks company, exactly once, kept up to date.

For each outbox entry: read the authoritative document from HireHop (one billing_list per job per run), pick the
package from its depot, make sure its dependencies exist (the customer or vendor, one Service item per income
account, the invoices a payment pays), then create it or sparse-update it.

Exactly once (invariant 2), three guards:
1. a deterministic requestid per document, content and generation, reused by every retry (QuickBooks replays);
2. the id map, with the intent ("creating" + request id) written before each create and the twin after it;
3. when an earlier create's outcome is unknown (an intent without a twin), a look-up by DocNumber (or the payment's
   reference) before creating anything, so even a forgotten requestid cannot double a document.
A document whose content hash has not changed is not sent again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hirebooks import errors as E
from hirebooks.ports import AccountingGateway, Clock, DocumentSource, IdMap
from hirebooks.qbo.requestid import derived, request_id

from . import mapping as M
from .model import WRITEBACK_MEMO_PREFIX, Link, OutboxEntry
from .settings import CompanySettings, Package

CONNECTION_RECHECK = 900.0  # an entry waiting for the connection is tried again every 15 minutes
ENTITY = {"invoice": "Invoice", "credit_note": "CreditMemo", "purchase_order": "PurchaseOrder", "payment": "Payment"}
KIND_ROW = {"invoice": 1, "credit_note": 2, "payment": 6}
APPROVED = 2


@dataclass(frozen=True)
class PushOutcome:
    status: str  # "synced", "skipped" (nothing to do) or "pending" (waits for a sync: buffered package)
    reason: str
    qbo_entity: str | None = None
    qbo_id: str | None = None


@dataclass
class PlannedWrite:
    """A document's create or update, prepared but not sent: a flush sends many of them in QuickBooks batches."""

    gateway: AccountingGateway
    key: str
    entity: str
    op: str  # "create" or "update"
    body: dict[str, Any]
    digest: str
    request_id: str
    link: Link
    label: str
    package: Package
    after: Callable[[str], str] | None = None  # runs with the QuickBooks id once written (credit applications)

    def batch_body(self) -> dict[str, Any]:
        if self.op == "update":
            return {**self.body, "Id": self.link.qbo_id, "SyncToken": self.link.sync_token or "0", "sparse": True}
        return self.body


class _Planned(Exception):  # a control-flow signal: the write is planned, not sent
    def __init__(self, write: PlannedWrite) -> None:
        super().__init__(write.key)
        self.write = write


class RunCache:
    """Reads shared by every document of one run: one billing_list per job, depots and contacts once."""

    def __init__(self, source: DocumentSource) -> None:
        self.source = source
        self._billing: dict[int, dict[str, Any]] = {}
        self._pos: dict[int, list[dict[str, Any]]] = {}
        self._depots: dict[int, dict[str, Any]] | None = None
        self._contacts: dict[int, dict[str, Any]] | None = None

    def rows(self, job_id: int, kind: int) -> list[dict[str, Any]]:
        if job_id not in self._billing:
            self._billing[job_id] = self.source.billing_list(job_id)
        seen: dict[str, dict[str, Any]] = {}
        for row in self._billing[job_id].get("rows", []):
            if row.get("kind") == kind:
                data = row.get("data", {})
                seen.setdefault(str(data.get("ID")), data)  # an application appears twice (reference)
        return list(seen.values())

    def purchase_orders(self, job_id: int) -> list[dict[str, Any]]:
        if job_id not in self._pos:
            self._pos[job_id] = self.source.purchase_orders(job_id)
        return self._pos[job_id]

    def depots(self) -> dict[int, dict[str, Any]]:
        if self._depots is None:
            self._depots = {int(d["ID"]): d for d in self.source.depots()}
        return self._depots

    def contact(self, contact_id: int) -> dict[str, Any] | None:
        if self._contacts is None:
            self._contacts = {int(c["ID"]): c for c in self.source.contacts()}
        return self._contacts.get(int(contact_id))


class Pusher:
    def __init__(
        self,
        *,
        company_id: int,
        settings: CompanySettings,
        source: DocumentSource,
        gateway_for: Callable[[str], AccountingGateway],
        idmap: IdMap,
        clock: Clock,
        cache: RunCache | None = None,
    ) -> None:
        self.company_id = company_id
        self.settings = settings
        self.source = source
        self.gateway_for = gateway_for
        self.idmap = idmap
        self.clock = clock
        self.cache = cache or RunCache(source)
        self._plan_key: str | None = None
        self._known: dict[tuple[str, str], Link] = {}  # synced customers, vendors and items, for this run
        self._jobs: dict[str, int] = {}  # id-map key -> HireHop job, recorded on the link

    # ================================================================== entry point
    def plan(self, entry: OutboxEntry, *, force: bool = False) -> PushOutcome | PlannedWrite:
        """Like push, but the document's own create or update (in the simple cases) is returned, not sent.
        Dependencies are written at once; anything unusual (a lost create, a deleted twin) is pushed as usual."""
        data = entry.payload.get("data", {})
        if entry.doc_kind == "contact":
            return self.push(entry, force=force)
        doc_id = str(data.get("OWNER_DEPOSIT") or entry.doc_id) if entry.doc_kind == "payment" else entry.doc_id
        self._plan_key = f"{entry.doc_kind}:{doc_id}"
        try:
            return self.push(entry, force=force)
        except _Planned as planned:
            return planned.write
        finally:
            self._plan_key = None

    def push(self, entry: OutboxEntry, *, force: bool = False) -> PushOutcome:
        """Push what the entry names. `force` pushes a buffered package's document too (a sync)."""
        data = entry.payload.get("data", {})
        kind = entry.doc_kind
        if kind == "contact":
            return self._push_contact(data)
        job_id = int(data.get("JOB_ID") or 0)
        doc_id = str(data.get("OWNER_DEPOSIT") or entry.doc_id) if kind == "payment" else entry.doc_id
        doc = self._read(kind, job_id, doc_id)
        if doc is None:
            return PushOutcome("skipped", f"HireHop {kind.replace('_', ' ')} {doc_id} is no longer in job {job_id}")
        if kind != "payment" and int(doc.get("STATUS") or 0) < APPROVED:
            return PushOutcome("skipped", f"HireHop {kind.replace('_', ' ')} {doc_id} is not approved")
        package = self._package_for(doc)
        if package.mode == "buffered" and not force:
            return PushOutcome("pending", f"waits for the next sync: package '{package.name}' is buffered")
        gateway = self.gateway_for(package.realm_id)
        if kind in ("invoice", "credit_note"):
            return self._push_sales(kind, doc, package, gateway)
        if kind == "purchase_order":
            return self._push_purchase_order(doc, package, gateway)
        if kind == "payment":
            if str(doc.get("MEMO", "")).startswith(WRITEBACK_MEMO_PREFIX):
                # Written into HireHop by the write-back: it came from QuickBooks, and sending it there again would
                # double it (invariant 2).
                return PushOutcome("skipped", f"HireHop deposit {doc['ID']} came from QuickBooks")
            return self._push_payment(doc, job_id, package, gateway)
        raise E.RejectedError(f"HireBooks does not sync {kind!r} documents")

    def _package_for(self, doc: dict[str, Any]) -> Package:
        """The document's package. The depot tree comes from the set-up when it holds one (no HireHop call)."""
        depot = doc.get("DEPOT_ID") or 0
        tree = self.settings.depot_tree() if self.settings.depot_parents is not None else self.cache.depots()
        return self.settings.package_for_depot(depot, tree)

    def _read(self, kind: str, job_id: int, doc_id: str) -> dict[str, Any] | None:
        if not job_id:
            raise E.RejectedError(f"the HireHop event for {kind} {doc_id} names no job")
        rows = (
            self.cache.purchase_orders(job_id) if kind == "purchase_order" else self.cache.rows(job_id, KIND_ROW[kind])
        )
        return next((d for d in rows if str(d.get("ID")) == doc_id), None)

    # ================================================================== parties and items
    def _now(self) -> float:
        return self.clock.time()

    def _link(self, realm: str, key: str) -> Link | None:
        known = self._known.get((realm, key))
        if known is not None:
            return known
        link = self.idmap.get(self.company_id, realm, key)
        if link is not None and link.state == "synced" and key.startswith(("item:", "contact:", "oneoff:")):
            self._known[(realm, key)] = link  # they rarely change, and every document asks
        return link

    def _ensure_party(self, party: M.Party, gateway: AccountingGateway, hirehop_id: str) -> str:
        """By id map first, then by exact name, and create only when neither matches (DESIGN, Contacts)."""
        realm = gateway.realm_id
        digest = M.content_hash(party.body)
        link = self._link(realm, party.key)
        if link is not None and link.state == "synced" and link.qbo_id:
            if link.content_hash != digest:
                # Keep the linked DisplayName (renaming can collide); refresh the rest.
                body = {k: v for k, v in party.body.items() if k != "DisplayName"}
                obj = gateway.update(
                    party.entity,
                    {**body, "Id": link.qbo_id, "SyncToken": link.sync_token or "0"},
                    request_id=self._rid(party.key, hirehop_id, digest, link.generation),
                )
                self._save(link, obj, digest)
            return link.qbo_id
        for candidate in gateway.find_by(party.entity, "DisplayName", party.display_name):
            owner = self.idmap.find_by_qbo(realm, party.entity, str(candidate["Id"]))
            if owner is None or owner.key == party.key:
                return self._adopt(party.key, party.entity, realm, candidate, digest).qbo_id or ""
        try:
            return self._create(party.key, party.entity, party.body, realm, gateway, hirehop_id, digest)
        except E.DuplicateError:
            # The name is held by a record we may not link to (a vendor or employee, or another contact's twin).
            other = M.fallback_name(party, hirehop_id)
            return self._create(
                other.key,
                other.entity,
                other.body,
                realm,
                gateway,
                hirehop_id,
                M.content_hash(other.body),
                purpose="fallback-name",
            )

    def _linked(self, realm: str, key: str) -> str | None:
        link = self._link(realm, key)
        return link.qbo_id if link is not None and link.state == "synced" and link.qbo_id else None

    def _customer(self, doc: dict[str, Any], gateway: AccountingGateway) -> str:
        client_id = int(doc.get("CLIENT_ID") or 0)
        known = self._linked(gateway.realm_id, f"contact:{client_id}:customer") if client_id else None
        if known:
            return known  # a contact's own changes come through its contact events: no HireHop read needed here
        if client_id:
            contact = {
                **(self.cache.contact(client_id) or {}),
                **{k: v for k, v in doc.items() if k in ("COMPANY", "NAME") and v},
            }
            contact["ID"] = client_id
            return self._ensure_party(M.customer_for_contact(contact), gateway, str(client_id))
        return self._ensure_party(M.customer_for_document(doc), gateway, f"job{doc.get('JOB_ID')}")

    def _vendor(self, supplier_id: int, doc: dict[str, Any], gateway: AccountingGateway) -> str:
        known = self._linked(gateway.realm_id, f"contact:{supplier_id}:vendor")
        if known:
            return known
        contact = self.cache.contact(supplier_id) or {"ID": supplier_id, "COMPANY": doc.get("COMPANY"), "CLIENT": 0}
        is_client = bool(int(str(contact.get("CLIENT") or 0)))
        party = M.vendor_for_contact(contact, self.settings.supplier_suffix, is_client)
        return self._ensure_party(party, gateway, str(supplier_id))

    def _item_for(self, package: Package, gateway: AccountingGateway) -> Callable[[str], str]:
        def item(account_id: str) -> str:
            key = f"item:account:{account_id}"
            link = self._link(gateway.realm_id, key)
            if link is not None and link.state == "synced" and link.qbo_id:
                return link.qbo_id
            name = M.item_name(package, account_id)
            body = {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": account_id}}
            digest = M.content_hash(body)
            for found in gateway.find_by("Item", "Name", name):
                return self._adopt(key, "Item", gateway.realm_id, found, digest).qbo_id or ""
            return self._create(key, "Item", body, gateway.realm_id, gateway, account_id, digest)

        return item

    # ================================================================== the id map's write-ahead
    def _save(self, link: Link, obj: dict[str, Any], digest: str) -> Link:
        link.state = "synced"
        link.qbo_id = str(obj["Id"])
        link.sync_token = str(obj.get("SyncToken", "0"))
        link.content_hash = digest
        link.doc_number = obj.get("DocNumber", link.doc_number)
        link.job_id = self._jobs.get(link.key, link.job_id)
        link.updated_at = self._now()
        self.idmap.put(link)
        return link

    def _adopt(self, key: str, entity: str, realm: str, obj: dict[str, Any], digest: str) -> Link:
        link = Link(self.company_id, realm, key, entity, "synced", "adopted", digest)
        return self._save(link, obj, digest)

    def _create(
        self,
        key: str,
        entity: str,
        body: dict[str, Any],
        realm: str,
        gateway: AccountingGateway,
        hirehop_id: str,
        digest: str,
        *,
        generation: int = 0,
        purpose: str = "",
    ) -> str:
        link = self._intent(key, entity, body, realm, hirehop_id, digest, generation, purpose)
        self.idmap.put(link)  # the intent, before the write
        obj = gateway.create(entity, body, request_id=link.request_id)
        return self._save(link, obj, digest).qbo_id or ""

    def _rid(self, key: str, hirehop_id: str, digest: str, generation: int) -> str:
        """The deterministic request id of one write: document, content and generation."""
        return request_id(str(self.company_id), key, hirehop_id, digest[:16], generation)

    def _intent(
        self,
        key: str,
        entity: str,
        body: dict[str, Any],
        realm: str,
        hirehop_id: str,
        digest: str,
        generation: int,
        purpose: str = "",
    ) -> Link:
        """The id map's record of a create about to happen, with its deterministic request id."""
        rid = self._rid(key, hirehop_id, digest, generation)
        if purpose:
            rid = derived(rid, purpose)
        return Link(
            self.company_id,
            realm,
            key,
            entity,
            "creating",
            rid,
            digest,
            generation=generation,
            doc_number=body.get("DocNumber"),
            updated_at=self._now(),
        )

    def _lookup(self, entity: str, body: dict[str, Any], gateway: AccountingGateway) -> dict[str, Any] | None:
        """Find a document an earlier attempt may have created: by DocNumber, or a payment by its reference."""
        if body.get("DocNumber"):
            found = gateway.find_by(entity, "DocNumber", str(body["DocNumber"]))
        elif body.get("PaymentRefNum"):
            found = gateway.find_by(entity, "PaymentRefNum", str(body["PaymentRefNum"]))
        else:
            return None
        return found[0] if len(found) == 1 else None

    def _upsert(
        self,
        key: str,
        entity: str,
        body: dict[str, Any],
        gateway: AccountingGateway,
        hirehop_id: str,
        *,
        package: Package | None = None,
        label: str = "",
        after: Callable[[str], str] | None = None,
    ) -> tuple[str, str]:
        """Create or sparse-update one document; returns (what happened, QuickBooks id)."""
        realm = gateway.realm_id
        digest = M.content_hash(body)
        link = self._link(realm, key)
        generation = link.generation if link is not None else 0
        if key == self._plan_key and package is not None and (link is None or link.state == "synced"):
            if link is None:
                intent = self._intent(key, entity, body, realm, hirehop_id, digest, generation)
                raise _Planned(
                    PlannedWrite(
                        gateway, key, entity, "create", body, digest, intent.request_id, intent, label, package, after
                    )
                )
            if link.content_hash != digest and link.qbo_id:
                rid = self._rid(key, hirehop_id, digest, generation)
                raise _Planned(
                    PlannedWrite(gateway, key, entity, "update", body, digest, rid, link, label, package, after)
                )
        if link is not None and link.state == "creating":
            found = self._lookup(entity, body, gateway)  # the earlier create may have landed
            if found is not None:
                link = self._save(link, found, link.content_hash)
                if link.content_hash == digest:
                    return "created", link.qbo_id or ""  # by the earlier attempt, whose answer we never had
        if link is not None and link.state == "synced" and link.qbo_id:
            if link.content_hash == digest:
                return "unchanged", link.qbo_id
            rid = self._rid(key, hirehop_id, digest, generation)
            try:
                obj = gateway.update(
                    entity, {**body, "Id": link.qbo_id, "SyncToken": link.sync_token or "0"}, request_id=rid
                )
            except E.NotFoundError:
                generation += 1  # deleted in QuickBooks: a deliberate re-push needs a new request id
            else:
                self._save(link, obj, digest)
                return "updated", link.qbo_id or ""
        try:
            return "created", self._create(key, entity, body, realm, gateway, hirehop_id, digest, generation=generation)
        except E.DuplicateError:
            found = self._lookup(
                entity, body, gateway
            )  # 6140: it is already there (made by an earlier run or a person)
            if found is None:
                raise
            link = self._adopt(key, entity, realm, found, "adopted")
            obj = gateway.update(
                entity,
                {**body, "Id": link.qbo_id, "SyncToken": link.sync_token or "0"},
                request_id=self._rid(key, hirehop_id, digest, generation),
            )
            self._save(link, obj, digest)
            return "linked", link.qbo_id or ""

    # ================================================================== documents
    def _push_sales(self, kind: str, doc: dict[str, Any], package: Package, gateway: AccountingGateway) -> PushOutcome:
        entity = ENTITY[kind]
        customer = self._customer(doc, gateway)
        body = M.sales_document(kind, doc, package, customer, self._item_for(package, gateway))
        after: Callable[[str], str] | None = None
        if kind == "credit_note" and doc.get("OWNER"):

            def after(credit_id: str) -> str:
                return self._apply_credit(doc, package, gateway, customer, credit_id)

        self._jobs[f"{kind}:{doc['ID']}"] = int(doc.get("JOB_ID") or 0)
        what, qbo_id = self._upsert(
            f"{kind}:{doc['ID']}",
            entity,
            body,
            gateway,
            str(doc["ID"]),
            package=package,
            label=body["DocNumber"],
            after=after,
        )
        outcome = _outcome(what, entity, body["DocNumber"], package, qbo_id)
        if after is not None:
            outcome = PushOutcome(outcome.status, outcome.reason + after(qbo_id), entity, qbo_id)
        return outcome

    # ---------------------------------------------------------------- money applied to an invoice
    # QuickBooks never lets an invoice be over-applied; HireHop does (an invoice paid in full, then credited, shows
    # a negative amount owing: the customer is in credit). HireBooks applies money in QuickBooks only up to what the
    # invoice still owes there; the rest stays as customer credit (a payment's unapplied amount, or a credit memo's
    # remaining credit), which is what HireHop's negative balance means.
    def _credits_applied(self, realm: str, job_id: int, invoice_id: str, *, except_credit: str = "") -> Decimal:
        total = Decimal("0")
        for credit in self.cache.rows(job_id, 2):
            if str(credit.get("OWNER")) == invoice_id and str(credit["ID"]) != except_credit:
                link = self._link(realm, f"creditapply:{credit['ID']}")
                if link is not None and link.state == "synced":
                    total += M.money(credit.get("TOTAL", 0))
        return total

    def _payments_on(self, job_id: int, invoice_id: str) -> list[dict[str, Any]]:
        return sorted(
            (a for a in self.cache.rows(job_id, 3) if str(a.get("OWNER")) == invoice_id), key=lambda a: int(a["ID"])
        )

    def _invoice_total(self, job_id: int, invoice_id: str) -> Decimal:
        doc = next((d for d in self.cache.rows(job_id, 1) if str(d.get("ID")) == invoice_id), None)
        return M.money(doc.get("TOTAL", 0)) if doc is not None else Decimal("0")

    def _capped_applications(self, realm: str, job_id: int, apps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """This deposit's applications, each cut so the invoice is not over-applied in QuickBooks; the latest
        applications give way first."""
        out = []
        for app in apps:
            owner = str(app.get("OWNER") or 0)
            if owner == "0":
                out.append(app)
                continue
            on_invoice = self._payments_on(job_id, owner)
            excess = (
                sum((M.money(a["AMOUNT"]) for a in on_invoice), Decimal("0"))
                + self._credits_applied(realm, job_id, owner)
                - self._invoice_total(job_id, owner)
            )
            amount = M.money(app["AMOUNT"])
            for other in reversed(on_invoice):
                if excess <= 0:
                    break
                take = min(M.money(other["AMOUNT"]), excess)
                excess -= take
                if str(other["ID"]) == str(app["ID"]):
                    amount -= take
            out.append({**app, "AMOUNT": amount})
        return [a for a in out if str(a.get("OWNER") or 0) == "0" or a["AMOUNT"] > 0]

    def _apply_credit(
        self, credit: dict[str, Any], package: Package, gateway: AccountingGateway, customer: str, credit_id: str
    ) -> str:
        """HireHop nets a credit note off its parent invoice; QuickBooks needs a $0 payment to do the same, for as
        much as the invoice still owes there."""
        job_id, owner = int(credit.get("JOB_ID") or 0), str(credit["OWNER"])
        invoice_id = self._ensure_invoice(job_id, owner, package, gateway)
        paid = sum((M.money(a["AMOUNT"]) for a in self._payments_on(job_id, owner)), Decimal("0"))
        open_amount = (
            self._invoice_total(job_id, owner)
            - paid
            - self._credits_applied(gateway.realm_id, job_id, owner, except_credit=str(credit["ID"]))
        )
        amount = min(M.money(credit.get("TOTAL", 0)), open_amount)
        if amount <= 0 and self._link(gateway.realm_id, f"creditapply:{credit['ID']}") is None:
            return "; its invoice is already paid, so the credit stays as the customer's credit"
        body = M.credit_application(customer, invoice_id, credit_id, max(amount, Decimal("0")))
        body["PaymentRefNum"] = f"HHC{credit['ID']}"
        try:
            self._upsert(f"creditapply:{credit['ID']}", "Payment", body, gateway, str(credit["ID"]))
        except E.RejectedError as exc:
            return f"; not applied to its invoice: {exc}"
        return "; applied to its invoice"

    def _ensure_invoice(self, job_id: int, invoice_id: str, package: Package, gateway: AccountingGateway) -> str:
        link = self._link(gateway.realm_id, f"invoice:{invoice_id}")
        if link is not None and link.state == "synced" and link.qbo_id:
            return link.qbo_id
        doc = self._read("invoice", job_id, invoice_id)
        if doc is None or int(doc.get("STATUS") or 0) < APPROVED:
            raise E.NeedsSetupError(f"HireHop invoice {invoice_id} is not approved, so it is not in QuickBooks yet")
        own = self._package_for(doc)
        if own.realm_id != package.realm_id:
            raise E.NeedsSetupError(
                f"HireHop invoice {invoice_id} belongs to package '{own.name}', another QuickBooks company: "
                "assign both depots to the same package"
            )
        outcome = self._push_sales("invoice", doc, own, gateway)
        return outcome.qbo_id or ""

    def _push_purchase_order(self, po: dict[str, Any], package: Package, gateway: AccountingGateway) -> PushOutcome:
        vendor = self._vendor(int(po.get("SUPPLIER_ID") or 0), po, gateway)
        body = M.purchase_order(po, package, vendor)
        self._jobs[f"purchase_order:{po['ID']}"] = int(po.get("JOB_ID") or 0)
        what, qbo_id = self._upsert(
            f"purchase_order:{po['ID']}",
            "PurchaseOrder",
            body,
            gateway,
            str(po["ID"]),
            package=package,
            label=body["DocNumber"],
        )
        return _outcome(what, "PurchaseOrder", body["DocNumber"], package, qbo_id)

    def _push_payment(
        self, deposit: dict[str, Any], job_id: int, package: Package, gateway: AccountingGateway
    ) -> PushOutcome:
        applications = [a for a in self.cache.rows(job_id, 3) if str(a.get("OWNER_DEPOSIT")) == str(deposit["ID"])]
        invoice_ids = {
            str(a["OWNER"]): self._ensure_invoice(job_id, str(a["OWNER"]), package, gateway)
            for a in applications
            if str(a.get("OWNER") or 0) != "0"
        }
        customer = self._customer({**deposit, "JOB_ID": job_id, **self._client_names(job_id, deposit)}, gateway)
        applied = self._capped_applications(gateway.realm_id, job_id, applications)
        body = M.payment(deposit, applied, package, customer, invoice_ids)
        self._jobs[f"payment:{deposit['ID']}"] = job_id
        what, qbo_id = self._upsert(
            f"payment:{deposit['ID']}",
            "Payment",
            body,
            gateway,
            str(deposit["ID"]),
            package=package,
            label=body["PaymentRefNum"],
        )
        return _outcome(what, "Payment", body["PaymentRefNum"], package, qbo_id)

    def _client_names(self, job_id: int, deposit: dict[str, Any]) -> dict[str, Any]:
        """A deposit names its client by id only; its job's invoices carry the names (and a one-off's details)."""
        for inv in self.cache.rows(job_id, 1):
            if int(inv.get("CLIENT_ID") or 0) == int(deposit.get("CLIENT_ID") or 0):
                return {k: inv[k] for k in ("COMPANY", "NAME", "EMAIL", "ADDRESS") if inv.get(k)}
        return {}

    def _push_contact(self, contact: dict[str, Any]) -> PushOutcome:
        """A changed contact refreshes its twins where they exist; a new one waits until a document uses it."""
        touched = []
        is_client = bool(int(str(contact.get("CLIENT") or 0)))
        is_supplier = bool(int(str(contact.get("SUBCONTRACTOR") or 0)))
        for package in self.settings.packages.values():
            for role, wanted in (("customer", is_client), ("vendor", is_supplier)):
                link = self._link(package.realm_id, f"contact:{contact['ID']}:{role}")
                if not wanted or link is None or link.state != "synced":
                    continue
                gateway = self.gateway_for(package.realm_id)
                party = (
                    M.customer_for_contact(contact)
                    if role == "customer"
                    else M.vendor_for_contact(contact, self.settings.supplier_suffix, is_client)
                )
                self._ensure_party(party, gateway, str(contact["ID"]))
                touched.append(f"{party.entity} in '{package.name}'")
        if not touched:
            return PushOutcome("skipped", "a contact goes to QuickBooks when a document first uses it")
        return PushOutcome("synced", "updated " + ", ".join(touched))


def _outcome(what: str, entity: str, label: str, package: Package, qbo_id: str) -> PushOutcome:
    status = "skipped" if what == "unchanged" else "synced"
    return PushOutcome(status, f"{entity} {label} {what} in '{package.name}' (QuickBooks id {qbo_id})", entity, qbo_id)


# ====================================================================== recording outcomes
def record_failure(
    outbox: Any, entry: OutboxEntry, exc: E.HireBooksError, *, now: float, retry_after: float = 60.0
) -> PushOutcome:
    """Write why an entry waits, in words a bookkeeper can act on, and when it is due again."""
    if isinstance(exc, E.NeedsSetupError):
        outbox.mark(entry, "needs_setup", str(exc), now=now)
        return PushOutcome("needs_setup", str(exc))
    if isinstance(exc, E.AuthError):  # ReconnectNeededError included
        why = (
            "QuickBooks needs reconnecting"
            if isinstance(exc, E.ReconnectNeededError)
            else ("QuickBooks or HireHop refused our credentials")
        )
        outbox.mark(entry, "waiting_for_connection", f"{why}: {exc}", next_attempt_at=now + CONNECTION_RECHECK, now=now)
        return PushOutcome("waiting_for_connection", str(exc))
    if isinstance(exc, E.TransientError):
        # Exponential backoff with full jitter: spread the retries of a backlog instead of stampeding.
        delay = random.uniform(0.5, 1.0) * retry_after * (2 ** min(entry.attempts, 8))
        outbox.mark(entry, "retry", f"will retry: {exc}", next_attempt_at=now + delay, now=now)
        return PushOutcome("retry", str(exc))
    outbox.mark(entry, "rejected", f"QuickBooks or HireHop refused it: {exc}", now=now)
    return PushOutcome("rejected", str(exc))


def record_outcome(outbox: Any, entry: OutboxEntry, outcome: PushOutcome, *, now: float) -> PushOutcome:
    outbox.mark(entry, outcome.status, outcome.reason, now=now)
    return outcome


def push_and_record(
    pusher: Pusher, outbox: Any, entry: OutboxEntry, *, force: bool = False, retry_after: float = 60.0
) -> PushOutcome:
    """Push and write the outcome on the entry: synced, or waiting with a reason a bookkeeper can act on."""
    now = pusher.clock.time()
    try:
        outcome = pusher.push(entry, force=force)
    except E.HireBooksError as exc:
        return record_failure(outbox, entry, exc, now=now, retry_after=retry_after)
    return record_outcome(outbox, entry, outcome, now=now)
