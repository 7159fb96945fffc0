"""The set-up steps through the admin API and the CLI, against the QuickBooks and HireHop simulators
(reference hirehop.md, "Set-up steps")."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import requests
from hblocal.openapi import TARGET, render
from hirebooks.cli import app as cli
from hirebooks.sync.model import OutboxEntry
from typer.testing import CliRunner

from tests.conftest import ADMIN_TOKEN, US, LiveWorld


class Admin:
    def __init__(self, live: LiveWorld) -> None:
        live.secrets.put("admin-token", ADMIN_TOKEN)
        self.live = live
        self.url = live.intake.gateway_url
        self.company = 900_000 + uuid.uuid4().int % 99_999  # a company no other test uses
        self.auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def call(self, method: str, path: str, body: Any = None, auth: bool = True) -> requests.Response:
        return requests.request(
            method,
            f"{self.url}/setup/{self.company}{path}",
            json=body,
            headers=self.auth if auth else {},
            timeout=30,
        )

    def cli(self, *args: str) -> Any:
        env = {"HIREBOOKS_API_URL": self.url, "HIREBOOKS_ADMIN_TOKEN": ADMIN_TOKEN}
        return CliRunner().invoke(cli, ["setup", *args], env=env)


@pytest.fixture
def admin(live: LiveWorld) -> Admin:
    return Admin(live)


def company_and_package(admin: Admin) -> None:
    intake = admin.live.intake
    body = {"hirehop_url": intake.hirehop_url, "hirehop_token": intake.api_token}
    assert admin.call("PUT", "", body).status_code == 200
    package = {"name": "Acme US", "realm_id": US, "mode": "buffered", "invoice_prefix": "INV-", "invoice_start": 1000}
    assert admin.call("PUT", "/packages/us", package).status_code == 200


def test_setup_requests_need_the_admin_token_and_good_input(admin: Admin) -> None:
    assert admin.call("GET", "", auth=False).status_code == 401
    assert admin.call("GET", "").status_code == 404  # not set up yet: says how
    bad_url = admin.call("PUT", "", {"hirehop_url": "myhirehop.com", "hirehop_token": "x" * 10})
    assert bad_url.status_code == 422 and bad_url.json()["message"].startswith("hirehop_url")
    no_token = admin.call("PUT", "", {"hirehop_url": "https://myhirehop.com"})
    assert no_token.status_code == 422 and "token" in no_token.json()["message"]
    company_and_package(admin)
    assert admin.call("PUT", "/packages/us", {"name": "x", "realm_id": US, "mode": "sometimes"}).status_code == 422
    assert admin.call("PUT", "/packages/no good", {"name": "x", "realm_id": US}).status_code == 422
    assert admin.call("PUT", "/packages/us", {"name": "x", "realm_id": US, "colour": "red"}).status_code == 422
    not_json = requests.put(f"{admin.url}/setup/{admin.company}", data="{", headers=admin.auth, timeout=10)
    assert not_json.status_code == 400
    assert requests.get(f"{admin.url}/setup/abc", headers=admin.auth, timeout=10).status_code == 422
    shown = admin.call("GET", "").json()
    assert shown["packages"]["us"]["invoice_start"] == 1000 and shown["default_package"] == "us"


def test_setup_accounts_sync_keep_drop_and_defaults(admin: Admin) -> None:
    company_and_package(admin)
    synced = admin.call("POST", "/packages/us/accounts/sync").json()
    accounts = synced["accounts"]
    by_type = {}
    for acc_id, acc in accounts.items():
        by_type.setdefault(acc["type"], acc_id)
    assert {"Bank", "Income"} <= set(by_type) and all(a["kept"] for a in accounts.values())
    assert synced["ap_account"] == by_type["Accounts Payable"]  # picked automatically
    # a bank account is not a revenue code
    wrong = admin.call("PATCH", "/packages/us/accounts", {"default_revenue_account": by_type["Bank"]})
    assert wrong.status_code == 422 and wrong.json()["error"] == "wrong_account_type"
    unknown = admin.call("PATCH", "/packages/us/accounts", {"drop": ["999999"]})
    assert unknown.status_code == 422
    good = {
        "default_bank_account": by_type["Bank"],
        "default_revenue_account": by_type["Income"],
        "default_expense_account": by_type["Expense"],
        "banks": {"1": by_type["Bank"]},
    }
    saved = admin.call("PATCH", "/packages/us/accounts", good).json()
    assert saved["default_revenue_account"] == by_type["Income"] and saved["bank_accounts"] == {"1": by_type["Bank"]}
    # a default cannot be dropped, and nothing changes when refused
    refused = admin.call("PATCH", "/packages/us/accounts", {"drop": [by_type["Income"]]})
    assert refused.status_code == 409 and "pick another" in refused.json()["message"]
    assert admin.call("GET", "").json()["packages"]["us"]["accounts"][by_type["Income"]]["kept"] is True
    # dropping another income account works, and the CLI shows it
    other_income = next(i for i, a in accounts.items() if a["type"] == "Income" and i != by_type["Income"])
    shown = admin.cli("accounts", "set", "us", "--company", str(admin.company), "--drop", other_income)
    assert shown.exit_code == 0 and "dropped" in shown.output


def test_setup_tax_codes_default_is_set_automatically_and_changeable(admin: Admin) -> None:
    company_and_package(admin)
    synced = admin.call("POST", "/packages/us/tax-codes/sync").json()
    assert synced["default_tax_code"] in synced["tax_code_list"] and synced["us_sales_tax_code"]
    other = next(c for c in synced["tax_code_list"] if c != synced["default_tax_code"])
    assert admin.call("PATCH", "/packages/us/tax-codes", {"default_tax_code": "424242"}).status_code == 422
    changed = admin.call("PATCH", "/packages/us/tax-codes", {"default_tax_code": other}).json()
    assert changed["default_tax_code"] == other and changed["us_sales_tax_code"] == other
    out = admin.cli("tax-codes", "sync", "us", "--company", str(admin.company))
    assert out.exit_code == 0 and "default" in out.output


def test_setup_assignments_and_preflight_name_what_is_missing(admin: Admin) -> None:
    company_and_package(admin)
    accounts = admin.call("POST", "/packages/us/accounts/sync").json()["accounts"]
    income = [i for i, a in accounts.items() if a["type"] == "Income"]
    admin.call("POST", "/packages/us/tax-codes/sync")
    # a document waits in the buffer with nominal groups 1 and 4, neither assigned, and no default revenue code
    outbox = admin.live.intake.outbox
    doc = {"ID": 7001, "JOB_ID": 1, "DEPOT_ID": 1, "items": [{"NOMINAL_GROUP": 1}, {"NOMINAL_GROUP": 4}]}
    entry = OutboxEntry(
        admin.company, uuid.uuid4().hex, "invoice", "7001", "invoice.status.updated", "", time.time(), {"data": doc}
    )
    outbox.put_if_absent(entry)
    before = admin.call("GET", "/preflight").json()
    assert not before["ready"] and before["documents_checked"] == 1
    assert any("Nominal group 1" in m["what"] for m in before["missing"])
    assert any("Nominal group 4" in m["what"] for m in before["missing"])
    assert admin.cli("preflight", "--company", str(admin.company)).exit_code == 1
    # bad assignments are refused whole
    assert admin.call("PUT", "/assignments", {"depots": {"1": "nope"}}).status_code == 404
    assert admin.call("PUT", "/assignments", {"nominal_groups": {"us": {"1": "999999"}}}).status_code == 422
    assert admin.call("PUT", "/assignments", {"tax_groups": {"us": {"x:1": "3"}}}).status_code == 422
    out = admin.cli(
        "assign", "--company", str(admin.company), "--depot", "1=us", "--nominal", f"us:1={income[0]}",
        "--nominal", f"us:4={income[1]}",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    after = admin.call("GET", "/preflight").json()
    assert after["ready"], after["missing"]
    assert admin.cli("preflight", "--company", str(admin.company)).exit_code == 0


def test_setup_contacts_are_matched_by_email_or_name_and_the_chosen_imported(admin: Admin) -> None:
    company_and_package(admin)
    control = admin.live.qbo.control
    hh = admin.live.intake
    known = hh.act("add_contact", company="Matched By Name Ltd", email="")
    control.ui(US, "Customer", {"DisplayName": "Matched By Name Ltd"})
    control.ui(US, "Customer", {"DisplayName": "New Venue Co", "PrimaryEmailAddr": {"Address": "bookings@venue.test"}})
    control.ui(US, "Vendor", {"DisplayName": "Truss Cross-hire", "PrimaryEmailAddr": {"Address": "hire@truss.test"}})
    listed = admin.call("GET", "/packages/us/contacts").json()["items"]
    by_name = {c["name"]: c for c in listed}
    assert by_name["Matched By Name Ltd"]["hirehop_match"] == {"id": known["ID"], "by": "name"}
    assert by_name["New Venue Co"]["hirehop_match"] is None
    chosen = [by_name["New Venue Co"]["id"], by_name["Matched By Name Ltd"]["id"]]
    result = admin.call("POST", "/packages/us/contacts/import", {"ids": chosen}).json()
    assert len(result["imported"]) == 1 and len(result["already_in_hirehop"]) == 1
    assert result["skipped"] == len(listed) - 2
    state = requests.get(f"{hh.hirehop_url}/_sim/companies/{hh.company_id}", timeout=10).json()
    venues = [c for c in state["contacts"] if c["COMPANY"] == "New Venue Co"]
    assert len(venues) == 1 and venues[0]["EMAIL"] == "bookings@venue.test" and venues[0]["CLIENT"] == 1
    assert not any(c["COMPANY"] == "Truss Cross-hire" for c in state["contacts"])  # not chosen: not imported
    bad = admin.call("POST", "/packages/us/contacts/import", {"ids": ["Customer:999999"]})
    assert bad.status_code == 422 and admin.call("POST", "/packages/us/contacts/import", {"ids": []}).status_code == 422


def test_setup_tenant_gives_the_hirehop_webhook_url_once(admin: Admin) -> None:
    company_and_package(admin)
    assert admin.call("POST", "/tenant", {"export_key": "abc"}).status_code == 422
    body = admin.call("POST", "/tenant", {"export_key": "export-key-1"}).json()
    assert body["webhook_path"].startswith("/hirehop/") and body["webhook_path"].endswith("/events")


def test_openapi_document_is_generated_from_the_handlers_and_served(admin: Admin) -> None:
    assert TARGET.read_text() == render(), "functions/setup_api/openapi.json is stale: run `make openapi`"
    served = requests.get(f"{admin.url}/openapi.json", timeout=10).json()
    assert served == json.loads(TARGET.read_text())
    from hblocal.template import http_routes, load_template

    for route in http_routes(load_template()):
        assert route.method.lower() in served["paths"][route.path], f"{route.method} {route.path} is undocumented"
    body = served["paths"]["/setup/{company}/packages/{package}"]["put"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("PackageRequest")


def test_setup_cli_walks_the_steps_and_reports_bad_input(admin: Admin) -> None:
    intake = admin.live.intake
    c = str(admin.company)
    bad = admin.cli("company", "-c", c, "--hirehop-url", "not-a-url", "--hirehop-token", "x" * 10)
    assert bad.exit_code == 1 and "hirehop_url" in bad.output  # the API's sentence, on stderr
    ok = admin.cli("company", "-c", c, "--hirehop-url", intake.hirehop_url, "--hirehop-token", intake.api_token)
    assert ok.exit_code == 0 and "set up" in ok.output
    made = admin.cli("package", "us", "-c", c, "--name", "Acme US", "--realm", US, "--mode", "buffered")
    assert made.exit_code == 0 and "buffered" in made.output
    assert admin.cli("package", "us", "-c", c, "--name", "x", "--realm", US, "--mode", "weekly").exit_code == 1
    synced = admin.cli("accounts", "sync", "us", "-c", c)
    assert synced.exit_code == 0 and "Bank" in synced.output
    tenant = admin.cli("tenant", "-c", c, "--export-key", "export-key-2")
    assert tenant.exit_code == 0 and "/hirehop/" in tenant.output and tenant.output.rstrip().endswith("/events")
    admin.live.qbo.control.ui(US, "Customer", {"DisplayName": "Cli Venue Ltd"})
    listed = admin.cli("contacts", "list", "us", "-c", c)
    assert listed.exit_code == 0 and "Cli Venue Ltd" in listed.output
    wanted = next(
        x["id"] for x in admin.call("GET", "/packages/us/contacts").json()["items"] if x["name"] == "Cli Venue Ltd"
    )
    imported = admin.cli("contacts", "import", "us", wanted, "-c", c)
    assert imported.exit_code == 0 and "Imported 1" in imported.output
    assert admin.cli("assign", "-c", c, "--depot", "1-us").exit_code == 2  # not KEY=VALUE: says how
    shown = admin.cli("show", "-c", c)
    assert shown.exit_code == 0 and '"mode": "buffered"' in shown.output
    unauthorised = CliRunner().invoke(
        cli, ["setup", "show", "-c", c], env={"HIREBOOKS_API_URL": admin.url, "HIREBOOKS_ADMIN_TOKEN": "wrong"}
    )
    assert unauthorised.exit_code == 1 and "admin token" in unauthorised.output
