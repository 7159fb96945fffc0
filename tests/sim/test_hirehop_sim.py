"""The HireHop simulator against ../shared/reference/hirehop.md."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import requests
from simcore.server import ServerThread

from tests.conftest import HireHopWorld

LINE = {"QUANTITY": 3, "UNIT_PRICE": "10.05", "VAT_RATE": 7, "NOMINAL_GROUP": 1, "TAX_GROUP": 1}


def approved_invoice(hh: HireHopWorld, job: int | None = None, lines: list[dict[str, Any]] | None = None) -> Any:
    inv = hh.act("create_invoice", job_id=job or hh.ids["jobs"][0], lines=lines or [LINE])
    return hh.act("approve_invoice", invoice_id=inv["ID"])


def test_invoice_is_numbered_with_the_prefix_on_approval(hirehop: HireHopWorld) -> None:
    """Reference: 'Invoice status: 0 draft (no number yet), 2 approved (numbered, goes to accounting), 3 paid' and
    'Numbers carry the package's prefix (for example INV-12245, CRE-1204)'."""
    draft = hirehop.act("create_invoice", job_id=hirehop.ids["jobs"][0], lines=[LINE])
    assert draft["STATUS"] == 0 and draft["NUMBER"] == ""
    approved = hirehop.act("approve_invoice", invoice_id=draft["ID"])
    assert approved["STATUS"] == 2 and approved["NUMBER"] == "INV-12245"


def test_vat_is_rounded_per_line(hirehop: HireHopWorld) -> None:
    """Reference: invoice lines carry 'VAT (amount, rounded per line)'."""
    lines = [{"QUANTITY": 1, "UNIT_PRICE": "0.13", "VAT_RATE": 20}] * 2
    inv = hirehop.act("create_invoice", job_id=hirehop.ids["jobs"][0], lines=lines)
    assert [item["VAT"] for item in inv["items"]] == [0.03, 0.03]  # 0.026 rounds up on each line
    assert inv["TAX"] == 0.06 and inv["TOTAL"] == 0.32


def test_billing_list_has_rows_and_reference_lists(hirehop: HireHopWorld) -> None:
    """Reference: billing_list gives 'rows of invoices, credit notes, payments; also banks, tax_codes,
    nominal_codes, currency, package_name'; rows carry 'kind, number, date, debit, credit, owing, status, currency
    and data'."""
    inv = approved_invoice(hirehop)
    hirehop.act("credit_note", invoice_id=inv["ID"], lines=[{**LINE, "QUANTITY": 1}])
    body = hirehop.api("/php_functions/billing_list.php", main_id=hirehop.ids["jobs"][0], type=1).json()
    assert {"rows", "banks", "tax_codes", "nominal_codes", "currency", "package_name"} <= set(body)
    kinds = {row["kind"]: row for row in body["rows"]}
    assert set(kinds) == {1, 2}
    assert {"kind", "number", "date", "debit", "credit", "owing", "status", "currency", "data"} <= set(kinds[1])
    assert kinds[2]["number"].startswith("CRE-") and kinds[2]["data"]["OWNER"] == inv["ID"]
    assert kinds[1]["owing"] == float(Decimal(str(inv["TOTAL"])) - Decimal(str(kinds[2]["credit"])))


def test_a_deposit_application_appears_twice_with_the_same_id(hirehop: HireHopWorld) -> None:
    """Reference: 'a deposit-to-invoice application appears twice with the same data.ID'; kinds 3 and 6."""
    inv = approved_invoice(hirehop)
    hirehop.act("take_payment", job_id=hirehop.ids["jobs"][0], amount="10.00", apply=[[inv["ID"], "10.00"]])
    rows = hirehop.api("/php_functions/billing_list.php", main_id=hirehop.ids["jobs"][0]).json()["rows"]
    applications = [r for r in rows if r["kind"] == 3]
    assert len(applications) == 2 and applications[0]["data"]["ID"] == applications[1]["data"]["ID"]
    assert applications[0]["id"] != applications[1]["id"]  # row ids are prefixed strings and differ
    assert [r["kind"] for r in rows].count(6) == 1


def test_full_payment_makes_the_invoice_paid(hirehop: HireHopWorld) -> None:
    """Reference: 'HireHop tracks what was paid and credited on each invoice'; status 3 paid."""
    inv = approved_invoice(hirehop)
    total = str(inv["TOTAL"])
    hirehop.act("take_payment", job_id=hirehop.ids["jobs"][0], amount=total, apply=[[inv["ID"], total]])
    paid = next(i for i in hirehop.state()["invoices"] if i["ID"] == inv["ID"])
    assert paid["STATUS"] == 3 and paid["OWING"] == 0


def test_deposit_and_payment_calls_with_no_webhook(hirehop: HireHopWorld) -> None:
    """Reference: billing_deposit_save.php 'ID=0, DATE, DESCRIPTION, AMOUNT (positive), MEMO, ACC_ACCOUNT_ID ...
    answer has the new id'; billing_payments_save.php 'OWNER=<invoice id>, deposit=<deposit id>, no_webhook=1'."""
    inv = approved_invoice(hirehop)
    job = hirehop.ids["jobs"][0]
    dep = hirehop.api(
        "/php_functions/billing_deposit_save.php",
        "POST",
        ID=0,
        DATE="2026-12-04",
        DESCRIPTION="QB",
        AMOUNT="5.00",
        MEMO="m1",
        ACC_ACCOUNT_ID=1,
        JOB_ID=job,
        no_webhook=1,
    ).json()
    assert dep["ID"] > 0
    pay = hirehop.api(
        "/php_functions/billing_payments_save.php",
        "POST",
        id=0,
        date="2026-12-04",
        desc="QB",
        paid="5.00",
        memo="m1",
        bank=1,
        OWNER=inv["ID"],
        deposit=dep["ID"],
        no_webhook=1,
    ).json()
    assert pay["ID"] > 0
    over = hirehop.api(
        "/php_functions/billing_payments_save.php",
        "POST",
        id=0,
        paid="0.01",
        memo="m2",
        bank=1,
        OWNER=inv["ID"],
        deposit=dep["ID"],
        no_webhook=1,
    )
    assert over.status_code == 200 and over.json() == {"error": 370}  # reference: '370 ... fully allocated'


def test_errors_come_as_json_with_http_200(hirehop: HireHopWorld) -> None:
    """Reference: 'Errors: {"error": <code or text>}, often with HTTP 200 ... 3 missing or wrong parameters'."""
    resp = hirehop.api("/php_functions/billing_list.php")
    assert resp.status_code == 200 and resp.json() == {"error": 3}


def test_a_refused_token_gets_an_html_body(hirehop: HireHopWorld) -> None:
    """Reference: 'An HTML body means the token was refused.'"""
    resp = hirehop.api("/api/job_data.php", token="stale", job=hirehop.ids["jobs"][0])
    assert resp.headers["Content-Type"].startswith("text/html") and resp.text.lstrip().startswith("<!DOCTYPE html>")


def test_rate_limit_answers_327_or_429(hirehop: HireHopWorld) -> None:
    """Reference: '60 requests per rolling minute and 3 per second per token ... over it: HTTP 429 or error 327'."""
    answers = [hirehop.api("/php_functions/get_depots.php") for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert answers[3].json() == {"error": 327}
    requests.patch(f"{hirehop.url}/_sim/limits", json={"throttle_style": "429"})
    hirehop.sim.clock.advance(61)
    answers = [hirehop.api("/php_functions/get_depots.php") for _ in range(4)]
    assert answers[3].status_code == 429
    hirehop.sim.clock.advance(61)
    requests.patch(f"{hirehop.url}/_sim/limits", json={"per_second": 100})
    statuses = [hirehop.api("/php_functions/get_depots.php").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429  # the rolling minute


def test_depots_include_a_virtual_one_with_a_parent(hirehop: HireHopWorld) -> None:
    """Reference: get_depots.php 'ID, DEPOT, VIRTUAL'; a virtual depot uses its parent's package (set-up steps)."""
    depots = hirehop.api("/php_functions/get_depots.php").json()
    virtual = [d for d in depots if d["VIRTUAL"] == 1]
    assert len(virtual) == 1 and virtual[0]["PARENT"] in {d["ID"] for d in depots if d["VIRTUAL"] == 0}


def test_contacts_pages_hold_at_most_200(hirehop: HireHopWorld) -> None:
    """Reference: 'list contacts | GET /modules/contacts/list.php?page=&rows= (200 rows a page at most)'; contacts
    carry ID, COMPANY, NAME, ADDRESS, EMAIL, TELEPHONE, VAT_NUMBER, CLIENT, SUBCONTRACTOR, ACC_IDS."""
    for n in range(210):
        hirehop.sim.companies[hirehop.company_id].add_contact(company=f"Bulk {n}", notify=False)
    requests.patch(f"{hirehop.url}/_sim/limits", json={"per_second": 100})
    page = hirehop.api("/modules/contacts/list.php", page=1, rows=500).json()
    assert len(page["rows"]) == 200 and page["records"] == 214 and page["total"] == 2
    assert {
        "ID",
        "COMPANY",
        "NAME",
        "ADDRESS",
        "EMAIL",
        "TELEPHONE",
        "VAT_NUMBER",
        "CLIENT",
        "SUBCONTRACTOR",
        "ACC_IDS",
    } <= set(page["rows"][0])
    both = [c for c in hirehop.state()["contacts"] if c["CLIENT"] and c["SUBCONTRACTOR"]]
    assert both, "the seeded address book has a contact that is both client and supplier"


def test_a_job_can_have_a_one_off_client(hirehop: HireHopWorld) -> None:
    """Reference: 'a job can also have a one-off client who is not in the address book'."""
    job = hirehop.api("/api/job_data.php", job=hirehop.ids["jobs"][3]).json()
    assert job["CLIENT_ID"] == 0 and job["NAME"] == "Priya Shah"
    inv = hirehop.act("create_invoice", job_id=job["ID"], lines=[LINE])
    assert inv["CLIENT_ID"] == 0 and inv["NAME"] == "Priya Shah"


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.bodies.append(json.loads(body))
        start_response("500 Oops", [("Content-Type", "text/plain")])  # HireHop does not care
        return [b""]


def test_webhooks_have_hirehops_shape_and_are_fire_and_forget(hirehop: HireHopWorld) -> None:
    """Reference: the webhook body {"time","user_id","user_name","user_email","company_id","export_key","event",
    "data","changes"}; 'HireHop does not wait for the answer and does not appear to retry'."""
    receiver = Receiver()
    with ServerThread(receiver) as server:
        hirehop.sim.webhook_url = server.url
        inv = approved_invoice(hirehop)
        deadline = time.monotonic() + 5
        while not receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
    assert len(receiver.bodies) == 1  # one attempt, although the answer was a 500
    hook = receiver.bodies[0]
    assert set(hook) == {
        "time",
        "user_id",
        "user_name",
        "user_email",
        "company_id",
        "export_key",
        "event",
        "data",
        "changes",
    }
    assert hook["event"] == "invoice.status.updated" and hook["export_key"] == "ek-test"
    assert hook["data"]["ID"] == inv["ID"] and hook["changes"] == {"STATUS": {"from": 0, "to": 2}}


def test_no_webhook_keeps_write_backs_quiet(hirehop: HireHopWorld) -> None:
    """Reference: 'HireHop write calls accept no_webhook=1, which keeps our own write-backs from coming back'."""
    receiver = Receiver()
    with ServerThread(receiver) as server:
        hirehop.sim.webhook_url = server.url
        job = hirehop.ids["jobs"][0]
        hirehop.api(
            "/php_functions/billing_deposit_save.php",
            "POST",
            ID=0,
            AMOUNT="5",
            MEMO="q",
            ACC_ACCOUNT_ID=1,
            JOB_ID=job,
            no_webhook=1,
        )
        hirehop.api(
            "/php_functions/billing_deposit_save.php", "POST", ID=0, AMOUNT="6", MEMO="r", ACC_ACCOUNT_ID=1, JOB_ID=job
        )
        deadline = time.monotonic() + 5
        while not receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
    assert [b["data"]["MEMO"] for b in receiver.bodies] == ["r"]


def test_silent_noop_answers_success_and_does_nothing(hirehop: HireHopWorld) -> None:
    """Reference: 'Some writes answer success and did nothing (observed): read back what matters.'"""
    requests.put(f"{hirehop.url}/_sim/faults", json={"rules": [{"kind": "silent_noop", "remaining": 1}]})
    resp = hirehop.api(
        "/php_functions/billing_deposit_save.php",
        "POST",
        ID=0,
        AMOUNT="5",
        MEMO="s",
        ACC_ACCOUNT_ID=1,
        JOB_ID=hirehop.ids["jobs"][0],
    )
    assert resp.status_code == 200 and "error" not in resp.json()
    assert hirehop.state()["deposits"] == []


def test_event_names_are_configurable(hirehop: HireHopWorld) -> None:
    """Reference: 'The full list is unknown': the simulator's names for the unknown ones can be changed."""
    resp = requests.patch(
        f"{hirehop.url}/_sim/companies/{hirehop.company_id}/events", json={"credit_status": "credit.approved"}
    )
    assert resp.json()["credit_status"] == "credit.approved"
    assert (
        requests.patch(f"{hirehop.url}/_sim/companies/{hirehop.company_id}/events", json={"nope": "x"}).status_code
        == 400
    )
