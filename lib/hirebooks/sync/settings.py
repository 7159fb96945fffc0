"""A company's set-up, as HireHop users know it (reference hirehop.md, "Set-up steps"), validated with pydantic.

- Accounting packages: each one QuickBooks company (realm) with its mode, document prefixes, defaults and maps.
- Depots are assigned to packages; a depot with none uses the default package; a virtual depot with none uses its
  parent's.
- Per package: nominal group -> QuickBooks account (an unassigned group falls back to the default revenue or expense
  account); tax group per depot -> QuickBooks tax code ("*" stands for any depot); bank accounts.
- The naming rule for a contact that is both client and supplier: the Vendor's name is the Customer's plus a suffix.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hirebooks.errors import NeedsSetupError


class QboAccount(BaseModel):
    """A QuickBooks account brought in by the set-up's Sync; `kept` False: the user dropped it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: str  # AccountType: Bank, Income, Expense, Cost of Goods Sold, ...
    number: str = ""
    kept: bool = True


class QboTaxCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kept: bool = True


class Package(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package_id: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=100)
    realm_id: str = Field(min_length=1, max_length=40)
    country: Literal["US", "GB"] = "US"
    mode: Literal["live", "buffered"] = "live"
    invoice_prefix: str = Field(default="", max_length=10)
    credit_prefix: str = Field(default="", max_length=10)
    po_prefix: str = Field(default="", max_length=10)
    default_bank_account: str | None = None  # QuickBooks Account id (Bank)
    default_revenue_account: str | None = None  # QuickBooks Account id (Income)
    default_expense_account: str | None = None  # QuickBooks Account id (Expense / Cost of Goods Sold)
    ap_account: str | None = None  # QuickBooks Accounts Payable account for purchase orders
    us_sales_tax_code: str | None = None  # US: the TaxCode named on TxnTaxDetail.TxnTaxCodeRef
    nominal_accounts: dict[str, str] = Field(default_factory=dict)  # HireHop nominal group id -> Account id
    tax_codes: dict[str, str] = Field(default_factory=dict)  # "<depot id>:<tax group id>" (or "*:<group>") -> TaxCode
    bank_accounts: dict[str, str] = Field(default_factory=dict)  # HireHop bank id -> QuickBooks Account id
    account_names: dict[str, str] = Field(default_factory=dict)  # QuickBooks Account id -> name (for item names)
    departments: dict[str, str] = Field(default_factory=dict)  # HireHop depot id -> QuickBooks Department id
    invoice_start: int | None = Field(default=None, ge=1)  # the first numbers HireHop gives (set-up step 1)
    credit_start: int | None = Field(default=None, ge=1)
    po_start: int | None = Field(default=None, ge=1)
    accounts: dict[str, QboAccount] = Field(default_factory=dict)  # synced from QuickBooks (set-up step 2)
    tax_code_list: dict[str, QboTaxCode] = Field(default_factory=dict)  # synced from QuickBooks (set-up step 3)
    default_tax_code: str | None = None

    def revenue_account(self, nominal_group: int | str) -> str:
        return self._nominal(nominal_group, self.default_revenue_account, "income", "revenue")

    def expense_account(self, nominal_group: int | str) -> str:
        return self._nominal(nominal_group, self.default_expense_account, "expense", "expense")

    def _nominal(self, nominal_group: int | str, default: str | None, kind: str, default_kind: str) -> str:
        """The group's account, else the package's default (set-up step 5: an unassigned group falls back)."""
        account = self.nominal_accounts.get(str(nominal_group)) or default
        if not account:
            raise NeedsSetupError(
                f"Nominal group {nominal_group} has no QuickBooks {kind} account in package '{self.name}', and the "
                f"package has no default {default_kind} account. Assign the group or set the default."
            )
        return account

    def tax_code(self, depot_id: int | str, tax_group: int | str) -> str:
        code = self.tax_codes.get(f"{depot_id}:{tax_group}") or self.tax_codes.get(f"*:{tax_group}")
        if not code:
            raise NeedsSetupError(
                f"Tax group {tax_group} has no QuickBooks tax code for depot {depot_id} in package '{self.name}'. "
                "Assign the tax group to a tax code for that depot."
            )
        return code

    def bank_account(self, hirehop_bank: int | str | None) -> str:
        account = self.bank_accounts.get(str(hirehop_bank)) if hirehop_bank is not None else None
        account = account or self.default_bank_account
        if not account:
            raise NeedsSetupError(
                f"HireHop bank account {hirehop_bank} has no QuickBooks bank account in package '{self.name}', and "
                "the package has no default bank account. Sync bank accounts and pick a default."
            )
        return account

    def doc_number(self, kind: str, hirehop_number: str) -> str:
        prefix = {"invoice": self.invoice_prefix, "credit_note": self.credit_prefix, "purchase_order": self.po_prefix}
        number = str(hirehop_number)
        pre = prefix.get(kind, "")
        doc = number if number.startswith(pre) else f"{pre}{number}"
        if not doc or len(doc) > 21:  # reference: DocNumber at most 21 characters
            raise NeedsSetupError(
                f"HireHop number {number!r} with prefix {pre!r} does not fit QuickBooks' 21-character DocNumber."
            )
        return doc


class CompanySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    company_id: int = Field(gt=0)
    hirehop_url: str = Field(min_length=1)
    packages: dict[str, Package] = Field(default_factory=dict)
    default_package: str | None = None
    depot_packages: dict[str, str] = Field(default_factory=dict)  # HireHop depot id -> package id
    supplier_suffix: str = Field(default=" (Supplier)", min_length=1, max_length=40)
    # The depot tree as the set-up last read it from HireHop: virtual depot id -> parent id. None: not read yet,
    # so the sync reads HireHop's depots itself.
    depot_parents: dict[str, int] | None = None

    def depot_tree(self) -> dict[int, dict[str, object]]:
        return {int(d): {"ID": int(d), "VIRTUAL": 1, "PARENT": p} for d, p in (self.depot_parents or {}).items()}

    @field_validator("packages")
    @classmethod
    def _ids_match(cls, packages: dict[str, Package]) -> dict[str, Package]:
        for key, package in packages.items():
            if key != package.package_id:
                raise ValueError(f"package key {key!r} differs from its package_id {package.package_id!r}")
        return packages

    def package_for_depot(self, depot_id: int | str, depots: dict[int, dict[str, object]]) -> Package:
        """The depot's package; a depot with none uses the default; a virtual depot with none its parent's."""
        seen: set[int] = set()
        current = int(depot_id)
        while current and current not in seen:
            seen.add(current)
            assigned = self.depot_packages.get(str(current))
            if assigned:
                return self._package(assigned)
            depot = depots.get(current) or {}
            parent = int(str(depot.get("PARENT") or 0))
            if not int(str(depot.get("VIRTUAL") or 0)) or not parent:
                break
            current = parent
        if self.default_package:
            return self._package(self.default_package)
        raise NeedsSetupError(
            f"Depot {depot_id} has no accounting package and there is no default package. Assign the depot."
        )

    def _package(self, package_id: str) -> Package:
        package = self.packages.get(package_id)
        if package is None:
            raise NeedsSetupError(f"Package {package_id!r} is assigned but does not exist. Fix the assignment.")
        return package
