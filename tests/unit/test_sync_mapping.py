"""The pure mapping and the set-up rules, without network."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hirebooks.errors import NeedsSetupError
from hirebooks.sync import mapping as M
from hirebooks.sync.settings import CompanySettings, Package
from hypothesis import given, settings
from hypothesis import strategies as st

US_PACKAGE = Package(
    package_id="us",
    name="US books",
    realm_id="1",
    country="US",
    default_revenue_account="40",
    us_sales_tax_code="7",
    invoice_prefix="INV-",
)
UK_PACKAGE = Package(
    package_id="uk",
    name="UK books",
    realm_id="2",
    country="GB",
    default_revenue_account="41",
    tax_codes={"*:1": "20", "*:2": "21", "3:3": "22"},
)


def hirehop_line(qty: int, unit: Decimal, rate: int, group: int = 1) -> dict[str, Any]:
    """A line as HireHop makes it: PRICE = qty x unit, VAT rounded per line (reference hirehop.md)."""
    price = (qty * unit).quantize(Decimal("0.01"), ROUND_HALF_UP)
    vat = (price * rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return {
        "QUANTITY": qty,
        "UNIT_PRICE": unit,
        "PRICE": price,
        "VAT_RATE": rate,
        "VAT": vat,
        "NOMINAL_GROUP": 1,
        "TAX_GROUP": group,
    }


def invoice(lines: list[dict[str, Any]], depot: int = 3) -> dict[str, Any]:
    return {
        "ID": 9,
        "NUMBER": "INV-12",
        "JOB_ID": 4,
        "DEPOT_ID": depot,
        "items": lines,
        "NET": sum(x["PRICE"] for x in lines),
        "TAX": sum(x["VAT"] for x in lines),
        "TOTAL": sum(x["PRICE"] + x["VAT"] for x in lines),
    }


line_strategy = st.builds(
    hirehop_line,
    st.integers(min_value=1, max_value=50),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2),
    st.sampled_from([0, 5, 20]),
)


def qbo_totals(body: dict[str, Any]) -> tuple[Decimal, Decimal]:
    net = sum((ln["Amount"] for ln in body["Line"]), Decimal("0"))
    tax = body.get("TxnTaxDetail", {}).get("TotalTax", Decimal("0"))
    return net, tax


@given(st.lists(line_strategy, min_size=1, max_size=12))
@settings(max_examples=150, deadline=None)
def test_uk_invoice_totals_equal_hirehops_to_the_cent(lines: list[dict[str, Any]]) -> None:
    for line in lines:
        line["TAX_GROUP"] = {20: 1, 0: 2, 5: 1}[line["VAT_RATE"]]
    doc = invoice(lines)
    body = M.sales_document("invoice", doc, UK_PACKAGE, "c1", lambda account: "item-" + account)
    net, tax = qbo_totals(body)
    assert net == doc["NET"] and tax == doc["TAX"] and net + tax == doc["TOTAL"]
    assert body["GlobalTaxCalculation"] == "TaxExcluded"
    for line in body["Line"]:  # QuickBooks insists Amount = Qty x UnitPrice (reference)
        detail = line["SalesItemLineDetail"]
        assert (detail["Qty"] * detail["UnitPrice"]).quantize(Decimal("0.01"), ROUND_HALF_UP) == line["Amount"]


@given(st.lists(line_strategy, min_size=1, max_size=12))
@settings(max_examples=150, deadline=None)
def test_us_invoice_totals_equal_hirehops_with_tax_and_non(lines: list[dict[str, Any]]) -> None:
    doc = invoice(lines)
    body = M.sales_document("invoice", doc, US_PACKAGE, "c1", lambda account: "item-" + account)
    net, tax = qbo_totals(body)
    assert net == doc["NET"] and net + tax == doc["TOTAL"]
    for src, line in zip(lines, body["Line"], strict=True):
        assert line["SalesItemLineDetail"]["TaxCodeRef"]["value"] == ("TAX" if src["VAT"] > 0 else "NON")


def test_us_taxable_lines_need_a_sales_tax_code() -> None:
    package = US_PACKAGE.model_copy(update={"us_sales_tax_code": None})
    with pytest.raises(NeedsSetupError, match="sales tax code"):
        M.sales_document("invoice", invoice([hirehop_line(1, Decimal("10"), 7)]), package, "c", str)


def test_uk_tax_code_per_depot_with_a_wildcard() -> None:
    assert UK_PACKAGE.tax_code(3, 3) == "22"
    assert UK_PACKAGE.tax_code(8, 1) == "20"
    with pytest.raises(NeedsSetupError, match="Tax group 3 has no QuickBooks tax code for depot 8"):
        UK_PACKAGE.tax_code(8, 3)


def test_docnumber_takes_the_prefix_once_and_fits_21() -> None:
    assert US_PACKAGE.doc_number("invoice", "INV-12245") == "INV-12245"
    assert US_PACKAGE.doc_number("invoice", "12245") == "INV-12245"
    with pytest.raises(NeedsSetupError, match="21-character"):
        US_PACKAGE.doc_number("invoice", "9" * 20)


def test_names_follow_quickbooks_rules_and_the_supplier_rule() -> None:
    contact = {"ID": 5, "COMPANY": "Acme: Stage\tHire\nLtd", "NAME": "Jo"}
    assert M.customer_for_contact(contact).display_name == "Acme - Stage Hire Ltd"
    vendor = M.vendor_for_contact(contact, " (Supplier)", is_client=True)
    assert vendor.display_name == "Acme - Stage Hire Ltd (Supplier)" and vendor.key == "contact:5:vendor"
    assert M.vendor_for_contact(contact, " (Supplier)", is_client=False).display_name == "Acme - Stage Hire Ltd"
    long = M.vendor_for_contact({"ID": 6, "COMPANY": "x" * 600}, " (Supplier)", is_client=True).display_name
    assert len(long) == 500 and long.endswith("(Supplier)")
    one_off = M.customer_for_document({"CLIENT_ID": 0, "NAME": "Priya Shah", "JOB_ID": 77})
    assert one_off.display_name == "Priya Shah (job 77)" and one_off.key == "oneoff:77:customer"
    with pytest.raises(NeedsSetupError):
        M.customer_for_contact({"ID": 1, "COMPANY": "", "NAME": ""})


def test_content_hash_is_stable_and_sensitive() -> None:
    a = {"Line": [{"Amount": Decimal("1.00")}], "DocNumber": "X"}
    assert M.content_hash(a) == M.content_hash({"DocNumber": "X", "Line": [{"Amount": Decimal("1.00")}]})
    assert M.content_hash(a) != M.content_hash({**a, "DocNumber": "Y"})


def _company(**kw: Any) -> CompanySettings:
    return CompanySettings(company_id=1, hirehop_url="http://hh", packages={"us": US_PACKAGE, "uk": UK_PACKAGE}, **kw)


DEPOTS = {1: {"ID": 1, "VIRTUAL": 0}, 2: {"ID": 2, "VIRTUAL": 0}, 3: {"ID": 3, "VIRTUAL": 1, "PARENT": 2}}


def test_package_for_depot_follows_the_set_up_rules() -> None:
    """Reference hirehop.md: 'a depot with none uses the default package; a virtual depot with none uses its
    parent depot's package'."""
    company = _company(default_package="us", depot_packages={"2": "uk"})
    assert company.package_for_depot(2, DEPOTS).package_id == "uk"
    assert company.package_for_depot(3, DEPOTS).package_id == "uk"  # virtual -> parent
    assert company.package_for_depot(1, DEPOTS).package_id == "us"  # unassigned -> default
    with pytest.raises(NeedsSetupError, match="no default package"):
        _company().package_for_depot(1, DEPOTS)
    with pytest.raises(NeedsSetupError, match="does not exist"):
        _company(depot_packages={"1": "gone"}).package_for_depot(1, DEPOTS)


def test_payment_links_invoices_and_leaves_the_rest_unapplied() -> None:
    package = US_PACKAGE.model_copy(update={"default_bank_account": "35"})
    deposit = {"ID": 50, "AMOUNT": Decimal("300.00"), "ACC_ACCOUNT_ID": 1, "JOB_ID": 4, "DATE": "2026-12-01"}
    apps = [{"ID": 52, "OWNER": 9, "AMOUNT": Decimal("100.00")}, {"ID": 51, "OWNER": 0, "AMOUNT": Decimal("5")}]
    body = M.payment(deposit, apps, package, "c1", {"9": "q9"})
    assert body["TotalAmt"] == Decimal("300.00") and body["PaymentRefNum"] == "HH50"
    assert body["Line"] == [{"Amount": Decimal("100.00"), "LinkedTxn": [{"TxnId": "q9", "TxnType": "Invoice"}]}]
    assert body["DepositToAccountRef"] == {"value": "35"}
    with pytest.raises(NeedsSetupError, match="bank account"):
        M.payment(deposit, apps, US_PACKAGE, "c1", {"9": "q9"})


def test_companies_sharing_a_realm_take_turns() -> None:
    from hirebooks.wiring import _groups_sharing_realms

    groups = _groups_sharing_realms({1: {"a"}, 2: {"b"}, 3: {"a", "c"}, 4: {"c"}, 5: set()})
    assert sorted(sorted(g) for g in groups) == [[1, 3, 4], [2], [5]]
