"""The set-up steps HireHop users know (reference hirehop.md, "Set-up steps"), as use cases behind the admin API.

1. an accounting package: QuickBooks company, mode (live or buffered), prefixes and starting numbers;
2. accounts: bank accounts and nominal codes synced from QuickBooks, kept or dropped, defaults picked (one bank
   account, a revenue and an expense code);
3. tax codes synced from QuickBooks, a default set automatically and changeable;
4. contacts: QuickBooks customers and vendors listed, matched to HireHop contacts by name or e-mail, the chosen ones
   imported into HireHop;
5. assignments: depots to packages (and the default package), nominal groups to codes, tax groups per depot to codes.
And a preflight: for what waits in the buffer, every mapping still missing.

Every change is validated against what was synced (an account must be kept and of the right kind) and answered with
a SetupError (status, code, sentence) when it is not; nothing is stored then.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hirebooks import errors as E
from hirebooks.ports import Outbox, SettingsRepository
from hirebooks.sync.buffer import BufferError
from hirebooks.sync.model import WAITING
from hirebooks.sync.settings import CompanySettings, Package, QboAccount, QboTaxCode

BANK_TYPES = {"Bank"}
REVENUE_TYPES = {"Income", "Other Income"}
EXPENSE_TYPES = {"Expense", "Cost of Goods Sold", "Other Expense"}
SYNCED_TYPES = BANK_TYPES | REVENUE_TYPES | EXPENSE_TYPES


class SetupError(BufferError):
    """A set-up request that cannot be done: a 4xx with a sentence that says what to do."""


class QboLists(Protocol):
    def query_all(self, entity: str, where: str = "") -> Iterator[dict[str, Any]]: ...


class HireHopContacts(Protocol):
    def contacts(self) -> Iterator[dict[str, Any]]: ...

    def save_contact(
        self, *, company: str, name: str = "", email: str = "", telephone: str = "", client: bool, supplier: bool
    ) -> int: ...


# ====================================================================== request bodies (also the OpenAPI schemas)
class CompanyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hirehop_url: str = Field(min_length=8, max_length=200, pattern=r"^https?://")
    hirehop_token: str | None = Field(default=None, min_length=8, max_length=500)
    supplier_suffix: str | None = Field(default=None, min_length=1, max_length=40)


class PackageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    realm_id: str = Field(min_length=1, max_length=40, pattern=r"^\d+$")
    country: str = Field(default="US", pattern=r"^(US|GB)$")
    mode: str = Field(default="live", pattern=r"^(live|buffered)$")
    invoice_prefix: str = Field(default="", max_length=10)
    credit_prefix: str = Field(default="", max_length=10)
    po_prefix: str = Field(default="", max_length=10)
    invoice_start: int | None = Field(default=None, ge=1)
    credit_start: int | None = Field(default=None, ge=1)
    po_start: int | None = Field(default=None, ge=1)


class AccountsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: list[str] = Field(default_factory=list)
    drop: list[str] = Field(default_factory=list)
    default_bank_account: str | None = None
    default_revenue_account: str | None = None
    default_expense_account: str | None = None
    ap_account: str | None = None
    banks: dict[str, str] = Field(default_factory=dict)  # HireHop bank id -> QuickBooks bank account


class TaxCodesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: list[str] = Field(default_factory=list)
    drop: list[str] = Field(default_factory=list)
    default_tax_code: str | None = None


class AssignmentsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    depots: dict[str, str | None] = Field(default_factory=dict)  # depot -> package (None: unassign)
    default_package: str | None = None
    nominal_groups: dict[str, dict[str, str | None]] = Field(default_factory=dict)  # package -> group -> account
    tax_groups: dict[str, dict[str, str | None]] = Field(default_factory=dict)  # package -> "depot:group" -> code


class ContactImportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=500)  # "Customer:<id>" or "Vendor:<id>"


def parse(model: type[BaseModel], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise SetupError(422, "invalid_request", f"{where}: {first['msg']}") from None


# ====================================================================== steps
@dataclass
class Setup:
    settings: SettingsRepository
    save_hirehop_token: Callable[[int, str], None]

    def company(self, company_id: int) -> CompanySettings:
        found = self.settings.get(company_id)
        if found is None:
            raise SetupError(404, "no_company", f"HireHop company {company_id} is not set up: POST /setup/{company_id}")
        return found

    def package(self, settings: CompanySettings, package_id: str) -> Package:
        package = settings.packages.get(package_id)
        if package is None:
            known = ", ".join(sorted(settings.packages)) or "none yet"
            raise SetupError(404, "no_package", f"No package {package_id!r} (packages: {known}).")
        return package

    def store(self, settings: CompanySettings) -> CompanySettings:
        try:
            checked = CompanySettings.model_validate(settings.model_dump())
        except ValidationError as exc:
            raise SetupError(422, "invalid_setup", str(exc.errors()[0]["msg"])) from None
        self.settings.put(checked)
        return checked

    # ---------------------------------------------------------------- 1. the company and its packages
    def put_company(self, company_id: int, body: dict[str, Any]) -> CompanySettings:
        req: CompanyRequest = parse(CompanyRequest, body)
        current = self.settings.get(company_id)
        if current is None:
            if not req.hirehop_token:
                raise SetupError(422, "invalid_request", "hirehop_token: the API user's token is needed the first time")
            current = CompanySettings(company_id=company_id, hirehop_url=req.hirehop_url)
        updated = current.model_copy(update={"hirehop_url": req.hirehop_url})
        if req.supplier_suffix:
            updated = updated.model_copy(update={"supplier_suffix": req.supplier_suffix})
        if req.hirehop_token:
            self.save_hirehop_token(company_id, req.hirehop_token)
        return self.store(updated)

    def put_package(self, company_id: int, package_id: str, body: dict[str, Any]) -> Package:
        if not package_id.replace("-", "").replace("_", "").isalnum() or len(package_id) > 40:
            raise SetupError(422, "invalid_package", "A package id is letters, digits, - and _ (at most 40).")
        req: PackageRequest = parse(PackageRequest, body)
        settings = self.company(company_id)
        existing = settings.packages.get(package_id)
        fields = req.model_dump()
        if existing is not None and existing.realm_id != req.realm_id and existing.accounts:
            raise SetupError(
                409,
                "realm_change",
                f"Package {package_id!r} keeps its books in QuickBooks company {existing.realm_id}; make a new "
                "package for another company.",
            )
        package = existing.model_copy(update=fields) if existing else Package(package_id=package_id, **fields)
        packages = {**settings.packages, package_id: package}
        default = settings.default_package or package_id
        self.store(settings.model_copy(update={"packages": packages, "default_package": default}))
        return package

    # ---------------------------------------------------------------- 2. accounts
    def sync_accounts(self, company_id: int, package_id: str, qbo: QboLists) -> Package:
        settings = self.company(company_id)
        package = self.package(settings, package_id)
        synced: dict[str, QboAccount] = {}
        for acc in qbo.query_all("Account"):
            kind = str(acc.get("AccountType", ""))
            if kind not in SYNCED_TYPES and kind != "Accounts Payable":
                continue
            old = package.accounts.get(str(acc["Id"]))
            synced[str(acc["Id"])] = QboAccount(
                name=str(acc.get("Name", "")),
                type=kind,
                number=str(acc.get("AcctNum", "") or ""),
                kept=old.kept if old else bool(acc.get("Active", True)),
            )
        names = {i: a.name for i, a in synced.items()}
        updated = package.model_copy(update={"accounts": synced, "account_names": names})
        if not updated.ap_account:
            ap = next((i for i, a in synced.items() if a.type == "Accounts Payable"), None)
            updated = updated.model_copy(update={"ap_account": ap})
        self.store(settings.model_copy(update={"packages": {**settings.packages, package_id: updated}}))
        return updated

    def _account(self, package: Package, account_id: str, kinds: set[str], role: str) -> str:
        acc = package.accounts.get(str(account_id))
        if acc is None:
            raise SetupError(
                422, "unknown_account", f"{role}: account {account_id} is not among the synced accounts; sync first."
            )
        if not acc.kept:
            raise SetupError(422, "dropped_account", f"{role}: account {account_id} ({acc.name}) was dropped.")
        if acc.type not in kinds:
            raise SetupError(
                422,
                "wrong_account_type",
                f"{role}: {acc.name} is a {acc.type} account; it must be {' or '.join(kinds)}.",
            )
        return str(account_id)

    def set_accounts(self, company_id: int, package_id: str, body: dict[str, Any]) -> Package:
        req: AccountsRequest = parse(AccountsRequest, body)
        settings = self.company(company_id)
        package = self.package(settings, package_id)
        if not package.accounts:
            raise SetupError(409, "not_synced", "Sync the accounts from QuickBooks first (POST .../accounts/sync).")
        accounts = dict(package.accounts)
        _keep_or_drop(accounts, req.keep, req.drop, "unknown_account", "Account {} is not among the synced accounts.")
        package = package.model_copy(update={"accounts": accounts})
        update: dict[str, Any] = {}
        if req.default_bank_account:
            update["default_bank_account"] = self._account(package, req.default_bank_account, BANK_TYPES, "bank")
        if req.default_revenue_account:
            update["default_revenue_account"] = self._account(
                package, req.default_revenue_account, REVENUE_TYPES, "revenue"
            )
        if req.default_expense_account:
            update["default_expense_account"] = self._account(
                package, req.default_expense_account, EXPENSE_TYPES, "expense"
            )
        if req.ap_account:
            update["ap_account"] = self._account(package, req.ap_account, {"Accounts Payable"}, "ap_account")
        if req.banks:
            update["bank_accounts"] = {
                **package.bank_accounts,
                **{hh: self._account(package, qb, BANK_TYPES, f"HireHop bank {hh}") for hh, qb in req.banks.items()},
            }
        for name in ("default_bank_account", "default_revenue_account", "default_expense_account"):
            current = update.get(name, getattr(package, name))
            if current and not accounts.get(current, QboAccount(name="", type="", kept=False)).kept:
                raise SetupError(409, "default_dropped", f"{name} {current} cannot be dropped: pick another first.")
        package = package.model_copy(update=update)
        self.store(settings.model_copy(update={"packages": {**settings.packages, package_id: package}}))
        return package

    # ---------------------------------------------------------------- 3. tax codes
    def sync_tax_codes(self, company_id: int, package_id: str, qbo: QboLists) -> Package:
        settings = self.company(company_id)
        package = self.package(settings, package_id)
        codes = {
            str(t["Id"]): QboTaxCode(
                name=str(t.get("Name", "")),
                kept=package.tax_code_list[str(t["Id"])].kept if str(t["Id"]) in package.tax_code_list else True,
            )
            for t in qbo.query_all("TaxCode")
            if t.get("Active", True)
        }
        default = package.default_tax_code if package.default_tax_code in codes else None
        if default is None and codes:  # set automatically (reference, step 3), changeable
            default = next(
                iter(sorted(codes, key=lambda i: (codes[i].name in ("TAX", "NON"), int(i) if i.isdigit() else 0)))
            )
        update: dict[str, Any] = {"tax_code_list": codes, "default_tax_code": default}
        if package.country == "US" and not package.us_sales_tax_code:
            update["us_sales_tax_code"] = default
        package = package.model_copy(update=update)
        self.store(settings.model_copy(update={"packages": {**settings.packages, package_id: package}}))
        return package

    def set_tax_codes(self, company_id: int, package_id: str, body: dict[str, Any]) -> Package:
        req: TaxCodesRequest = parse(TaxCodesRequest, body)
        settings = self.company(company_id)
        package = self.package(settings, package_id)
        if not package.tax_code_list:
            raise SetupError(409, "not_synced", "Sync the tax codes from QuickBooks first (POST .../tax-codes/sync).")
        codes = dict(package.tax_code_list)
        _keep_or_drop(codes, req.keep, req.drop, "unknown_tax_code", "Tax code {} is not among the synced tax codes.")
        update: dict[str, Any] = {"tax_code_list": codes}
        if req.default_tax_code is not None:
            self._tax_code(package.model_copy(update=update), req.default_tax_code)
            update["default_tax_code"] = req.default_tax_code
            if package.country == "US":
                update["us_sales_tax_code"] = req.default_tax_code
        package = package.model_copy(update=update)
        self.store(settings.model_copy(update={"packages": {**settings.packages, package_id: package}}))
        return package

    @staticmethod
    def _tax_code(package: Package, code: str) -> str:
        found = package.tax_code_list.get(str(code))
        if found is None or not found.kept:
            raise SetupError(422, "unknown_tax_code", f"Tax code {code} is not a kept tax code of '{package.name}'.")
        return str(code)

    # ---------------------------------------------------------------- 5. assignments
    def assign(self, company_id: int, body: dict[str, Any]) -> CompanySettings:
        req: AssignmentsRequest = parse(AssignmentsRequest, body)
        settings = self.company(company_id)
        depots = dict(settings.depot_packages)
        for depot, package_id in req.depots.items():
            if not depot.isdigit():
                raise SetupError(422, "invalid_depot", f"Depot {depot!r} is not a HireHop depot id.")
            if package_id is None:
                depots.pop(depot, None)
            else:
                self.package(settings, package_id)
                depots[depot] = package_id
        default = settings.default_package
        if req.default_package is not None:
            default = self.package(settings, req.default_package).package_id
        packages = dict(settings.packages)
        for package_id, groups in req.nominal_groups.items():
            package = self.package(settings, package_id)
            mapped = dict(package.nominal_accounts)
            for group, account in groups.items():
                if not group.isdigit():
                    raise SetupError(422, "invalid_group", f"Nominal group {group!r} is not a HireHop group id.")
                if account is None:
                    mapped.pop(group, None)
                else:
                    mapped[group] = self._account(package, account, REVENUE_TYPES | EXPENSE_TYPES, f"group {group}")
            packages[package_id] = package.model_copy(update={"nominal_accounts": mapped})
        for package_id, groups in req.tax_groups.items():
            package = packages.get(package_id) or self.package(settings, package_id)
            codes = dict(package.tax_codes)
            for key, code in groups.items():
                depot, _, group = key.partition(":")
                if not (depot == "*" or depot.isdigit()) or not group.isdigit():
                    raise SetupError(
                        422, "invalid_tax_group", f"{key!r}: use '<depot id>:<tax group id>' ('*' for any depot)."
                    )
                if code is None:
                    codes.pop(key, None)
                else:
                    codes[key] = self._tax_code(package, code)
            packages[package_id] = package.model_copy(update={"tax_codes": codes})
        return self.store(
            settings.model_copy(update={"depot_packages": depots, "default_package": default, "packages": packages})
        )

    # ---------------------------------------------------------------- 4. contacts
    def contacts(
        self, company_id: int, package_id: str, qbo: QboLists, hirehop: HireHopContacts
    ) -> list[dict[str, Any]]:
        """QuickBooks customers and vendors, each with the HireHop contact it matches (by name or e-mail), if any."""
        settings = self.company(company_id)
        self.package(settings, package_id)
        by_name: dict[str, dict[str, Any]] = {}
        by_email: dict[str, dict[str, Any]] = {}
        for contact in hirehop.contacts():
            for key in (contact.get("COMPANY"), contact.get("NAME")):
                if key:
                    by_name.setdefault(str(key).strip().lower(), contact)
            if contact.get("EMAIL"):
                by_email.setdefault(str(contact["EMAIL"]).strip().lower(), contact)
        out = []
        for entity in ("Customer", "Vendor"):
            for record in qbo.query_all(entity):
                name = str(record.get("DisplayName", ""))
                email = str((record.get("PrimaryEmailAddr") or {}).get("Address", ""))
                match = by_email.get(email.lower()) if email else None
                how = "e-mail" if match else ""
                if match is None:
                    match = by_name.get(name.strip().lower()) or by_name.get(
                        str(record.get("CompanyName", "")).strip().lower()
                    )
                    how = "name" if match else ""
                out.append(
                    {
                        "id": f"{entity}:{record['Id']}",
                        "entity": entity,
                        "name": name,
                        "email": email,
                        "hirehop_match": None if match is None else {"id": int(match["ID"]), "by": how},
                    }
                )
        return out

    def import_contacts(
        self, company_id: int, package_id: str, body: dict[str, Any], qbo: QboLists, hirehop: HireHopContacts
    ) -> dict[str, Any]:
        req: ContactImportRequest = parse(ContactImportRequest, body)
        listed = {c["id"]: c for c in self.contacts(company_id, package_id, qbo, hirehop)}
        unknown = [i for i in req.ids if i not in listed]
        if unknown:
            raise SetupError(
                422, "unknown_contact", f"Not QuickBooks customers or vendors of this package: {unknown[:5]}"
            )
        imported, matched = [], []
        for contact_id in req.ids:
            c = listed[contact_id]
            if c["hirehop_match"] is not None:
                matched.append({"id": contact_id, "hirehop_id": c["hirehop_match"]["id"]})
                continue
            new_id = hirehop.save_contact(
                company=c["name"], email=c["email"], client=c["entity"] == "Customer", supplier=c["entity"] == "Vendor"
            )
            imported.append({"id": contact_id, "hirehop_id": new_id})
        return {"imported": imported, "already_in_hirehop": matched, "skipped": len(listed) - len(req.ids)}

    # ---------------------------------------------------------------- preflight
    def preflight(self, company_id: int, outbox: Outbox) -> dict[str, Any]:
        """For what waits in the buffer: every mapping still missing, each with how many documents need it."""
        settings = self.company(company_id)
        missing: Counter[str] = Counter()
        checked = 0
        for entry in outbox.list_waiting(company_id):
            if entry.status not in WAITING or entry.doc_kind not in ("invoice", "credit_note", "purchase_order"):
                continue
            checked += 1
            doc = entry.payload.get("data") or {}
            try:
                package = settings.package_for_depot(doc.get("DEPOT_ID") or 0, settings.depot_tree())
            except E.NeedsSetupError as exc:
                missing[str(exc)] += 1
                continue
            for problem in _document_gaps(package, entry.doc_kind, doc):
                missing[problem] += 1
        return {
            "company_id": company_id,
            "documents_checked": checked,
            "missing": [{"what": what, "documents": n} for what, n in missing.most_common()],
            "ready": not missing,
        }


def _keep_or_drop(synced: dict[str, Any], keep: list[str], drop: list[str], code: str, unknown: str) -> None:
    """Step 2 and 3's "delete those not used": mark synced items kept or dropped; an unknown id refuses all."""
    for item_id in [*keep, *drop]:
        if item_id not in synced:
            raise SetupError(422, code, unknown.format(item_id))
    for ids, kept in ((keep, True), (drop, False)):
        for item_id in ids:
            synced[item_id] = synced[item_id].model_copy(update={"kept": kept})


def _document_gaps(package: Package, kind: str, doc: dict[str, Any]) -> set[str]:
    gaps: set[str] = set()
    if kind == "purchase_order" and not package.ap_account:
        gaps.add(f"Package '{package.name}' has no Accounts Payable account for purchase orders.")
    for line in doc.get("items") or []:
        group = line.get("NOMINAL_GROUP") or 0
        try:
            if kind == "purchase_order":
                package.expense_account(group)
            else:
                package.revenue_account(group)
        except E.NeedsSetupError as exc:
            gaps.add(str(exc))
        if kind != "purchase_order" and package.country != "US":
            try:
                package.tax_code(doc.get("DEPOT_ID") or 0, line.get("TAX_GROUP") or 0)
            except E.NeedsSetupError as exc:
                gaps.add(str(exc))
    if kind != "purchase_order" and package.country == "US" and not package.us_sales_tax_code:
        gaps.add(f"Package '{package.name}' has no sales tax code: sync tax codes and pick a default.")
    return gaps
