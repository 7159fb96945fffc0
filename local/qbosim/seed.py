"""Two seeded companies: a US one (sales tax with TAX/NON and a combined rate) and a UK one (VAT codes per line).

Charts of accounts, tax codes and items are modest but real-shaped: what a rental company's books would hold.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from decimal import Decimal
from typing import Any

from .model import Realm

US_ACCOUNTS = [
    ("Business Checking", "Bank", "1000"),
    ("Business Savings", "Bank", "1010"),
    ("Undeposited Funds", "Other Current Asset", "1200"),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "1100"),
    ("Accounts Payable (A/P)", "Accounts Payable", "2000"),
    ("Equipment Rental Income", "Income", "4000"),
    ("Sales of Consumables", "Income", "4010"),
    ("Damage Waiver Income", "Income", "4020"),
    ("Delivery and Collection Income", "Income", "4030"),
    ("Cross-Hire Costs", "Cost of Goods Sold", "5000"),
    ("Subcontractors", "Expense", "5100"),
    ("Vehicle and Transport", "Expense", "5200"),
]

UK_ACCOUNTS = [
    ("Current Account", "Bank", "1200"),
    ("Deposit Account", "Bank", "1210"),
    ("Undeposited Funds", "Other Current Asset", "1230"),
    ("Trade Debtors", "Accounts Receivable", "1100"),
    ("Trade Creditors", "Accounts Payable", "2100"),
    ("Hire Income", "Income", "4000"),
    ("Sales Income", "Income", "4010"),
    ("Loss and Damage Income", "Income", "4020"),
    ("Transport Income", "Income", "4030"),
    ("Cross-Hire Costs", "Cost of Goods Sold", "5000"),
    ("Subcontractor Costs", "Expense", "5100"),
    ("Vehicle Costs", "Expense", "5200"),
]


def _tax_code(realm: Realm, name: str, rate_ids: list[str], description: str = "") -> dict[str, Any]:
    return realm.insert_seed(
        "TaxCode",
        {
            "Name": name,
            "Description": description or name,
            "Active": True,
            "Taxable": bool(rate_ids),
            "TaxGroup": len(rate_ids) > 1,
            "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": r}} for r in rate_ids]},
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        },
    )


def _rate(realm: Realm, name: str, value: str, agency: str) -> str:
    obj = realm.insert_seed(
        "TaxRate",
        {
            "Name": name,
            "RateValue": Decimal(value),
            "Active": True,
            "AgencyRef": {"value": "1", "name": agency},
        },
    )
    return str(obj["Id"])


def seed_company(realm: Realm, *, custom_txn_numbers: bool = True) -> None:
    us = realm.is_us
    currency = "USD" if us else "GBP"
    realm.insert_seed(
        "CompanyInfo",
        {
            "Id": realm.realm_id,
            "CompanyName": realm.company_name,
            "LegalName": realm.company_name,
            "Country": realm.country,
            "_Currency": currency,
        },
    )
    realm.insert_seed(
        "Preferences",
        {
            "Id": "1",
            "SalesFormsPrefs": {"CustomTxnNumbers": custom_txn_numbers},
            "AccountingInfoPrefs": {"TrackDepartments": True, "ClassTrackingPerTxn": True},
            "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": us},
            "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": currency}},
        },
    )
    for name, acct_type, number in US_ACCOUNTS if us else UK_ACCOUNTS:
        realm.create("Account", {"Name": name, "AccountType": acct_type, "AcctNum": number})
    if us:
        state = _rate(realm, "MA State", "6.25", "Massachusetts Department of Revenue")
        city = _rate(realm, "Boston City", "0.75", "City of Boston")
        _tax_code(realm, "Boston", [state, city], "MA state and Boston city sales tax")
        _tax_code(realm, "MA State only", [state])
    else:
        standard = _rate(realm, "20.0% S", "20", "HMRC")
        reduced = _rate(realm, "5.0% R", "5", "HMRC")
        zero = _rate(realm, "0.0% Z", "0", "HMRC")
        exempt = _rate(realm, "Exempt", "0", "HMRC")
        _tax_code(realm, "20.0% S", [standard], "Standard rated")
        _tax_code(realm, "5.0% R", [reduced], "Reduced rate")
        _tax_code(realm, "0.0% Z", [zero], "Zero rated")
        _tax_code(realm, "Exempt", [exempt], "Exempt")
        _tax_code(realm, "No VAT", [], "Outside the scope of VAT")
    income = next(a for a in realm.all("Account") if a["AccountType"] == "Income")
    realm.create("Item", {"Name": "Hire", "Type": "Service", "IncomeAccountRef": {"value": income["Id"]}})
    realm.create("Department", {"Name": "Head Office"})


def us_realm(realm_id: str, now: Any, name: str = "Acme Stage Hire Inc") -> Realm:
    realm = Realm(realm_id, "US", name, now, tz=timezone(timedelta(hours=-8)))
    seed_company(realm)
    realm.changes.clear()
    return realm


def uk_realm(realm_id: str, now: Any, name: str = "Brightlight Hire Ltd") -> Realm:
    realm = Realm(realm_id, "GB", name, now)
    seed_company(realm)
    realm.changes.clear()
    return realm
