"""`make demo`: the main job so far, on the local stack.

Act 1, HireHop to the outbox: starts moto's AWS, the HireHop simulator and the gateway in front of push_document;
a HireHop user approves invoices, edits one, raises a credit note, takes a payment, issues a purchase order and
adds a contact; each webhook travels over loopback into the outbox (DynamoDB). A draft and an unknown event are
noted and not stored.

Act 2, the client to QuickBooks: connects to the QuickBooks simulator through the real OAuth flow, then writes a
small rental company's documents through the HireBooks client while the simulator injects server errors, timeouts
and lost answers. (The sync engine that joins the two acts is the next issue.)

Prints what happened and exits non-zero if anything is missing or doubled.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from hirebooks import errors as E
from hirebooks.qbo.client import QboHttpClient, RetryPolicy
from hirebooks.qbo.oauth import OAuthEndpoints, QboOAuthClient
from hirebooks.qbo.pacing import RealmPacer
from hirebooks.qbo.requestid import request_id
from hirebooks.qbo.tokens import InMemoryTokenProvider
from qbosim import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, QboSimulator
from qbosim.control import SimControl
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hblocal.stack import LocalStack

REALM = "9130350000000001"
COMPANY = "hh-demo"
REDIRECT = "http://127.0.0.1/callback"

CLIENTS = ["Riverside Theatre", "Northgate Festival Ltd", "O'Malley Weddings", "Harbour Conference Centre"]
SUPPLIER = "Apex Truss Supplies"
# HireHop invoices: number, client, lines of (description, qty, unit price, taxable)
INVOICES = [
    ("INV-12245", 0, [("Moving head x8, 3 days", 8, "45.00", True), ("Delivery and collection", 1, "120.00", False)]),
    ("INV-12246", 1, [("Stage deck 2x1m x20", 20, "18.50", True), ("Crew, 2 x 8h", 16, "32.00", False)]),
    ("INV-12247", 2, [("LED uplighter x24", 24, "9.75", True)]),
    ("INV-12248", 3, [("PA system, 1 day", 1, "850.00", True), ("Damage waiver", 1, "42.50", True)]),
    ("INV-12249", 0, [("Haze machine, 2 days", 2, "35.00", True)]),
    ("INV-12250", 1, [("Generator 20kVA, 4 days", 4, "140.00", True), ("Fuel", 1, "96.40", True)]),
]


def connect(sim_url: str, oauth: QboOAuthClient) -> Any:
    """The browser's part, done by hand: authorize, follow the redirect, exchange the code."""
    resp = requests.get(oauth.authorize_url(REDIRECT, "demo-state"), allow_redirects=False, timeout=5)
    query = parse_qs(urlparse(resp.headers["Location"]).query)
    assert query["state"] == ["demo-state"], "state must come back unchanged"
    return query["realmId"][0], oauth.exchange_code(query["code"][0], REDIRECT, now=time.time())


def line(item_id: str, desc: str, qty: int, price: str, taxable: bool) -> dict[str, Any]:
    amount = (Decimal(qty) * Decimal(price)).quantize(Decimal("0.01"))
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "Description": desc,
        "SalesItemLineDetail": {
            "ItemRef": {"value": item_id},
            "Qty": qty,
            "UnitPrice": Decimal(price),
            "TaxCodeRef": {"value": "TAX" if taxable else "NON"},
        },
    }


def act_one(console: Console) -> bool:
    """HireHop users at work; their webhooks land in the outbox through the gateway and push_document."""
    with LocalStack() as stack:
        tenant = stack.add_hirehop_company(1, "Acme Stage Hire")
        console.print(
            f"[bold]Act 1: HireHop to the outbox.[/] moto {stack.urls['aws']}, HireHop {stack.urls['hirehop']}, "
            f"gateway {stack.urls['gateway']}"
        )
        base = f"{stack.urls['hirehop']}/_sim/companies/{tenant.company_id}/act"

        def act(action: str, **args: Any) -> Any:
            resp = requests.post(base, json={"action": action, "args": args}, timeout=10)
            resp.raise_for_status()
            return resp.json()

        jobs, contacts = tenant.ids["jobs"], tenant.ids["contacts"]
        hire = {"QUANTITY": 8, "UNIT_PRICE": "45.00", "VAT_RATE": 7, "NOMINAL_GROUP": 1, "TAX_GROUP": 1}
        first = act("create_invoice", job_id=jobs[0], lines=[hire])
        act("approve_invoice", invoice_id=first["ID"])
        second = act("create_invoice", job_id=jobs[3], lines=[{**hire, "QUANTITY": 2}])  # one-off client
        act("approve_invoice", invoice_id=second["ID"])
        act("create_invoice", job_id=jobs[1], lines=[hire])  # stays a draft: nothing to sync
        act("edit_invoice", invoice_id=first["ID"], lines=[{**hire, "QUANTITY": 10}])
        act("credit_note", invoice_id=first["ID"], lines=[{**hire, "QUANTITY": 1}])
        act("take_payment", job_id=jobs[0], amount="200.00", apply=[[first["ID"], "200.00"]])
        act(
            "issue_purchase_order",
            job_id=jobs[2],
            supplier_id=contacts[2],
            lines=[{"QUANTITY": 16, "UNIT_PRICE": "40.00", "VAT_RATE": 0, "NOMINAL_GROUP": 5}],
        )
        act("add_contact", company="Lakeside Weddings", name="Mo Diaz", email="mo@lakeside.example")
        unknown = requests.post(
            f"{stack.urls['gateway']}/hirehop/{tenant.tenant_token}/events",
            json={
                "time": "2026-12-04 09:00:00",
                "company_id": 1,
                "export_key": tenant.export_key,
                "event": "stock.item.moved",
                "data": {"ID": 1},
            },
            timeout=10,
        )
        deadline = time.monotonic() + 15
        expected = 8  # 2 approvals, 1 edit, 1 credit note, 1 deposit + 1 application, 1 purchase order, 1 contact
        while time.monotonic() < deadline:
            entries = stack.outbox.list_company(tenant.company_id)
            if len(entries) >= expected and stack.hirehop.pending_webhooks() == 0:
                break
            time.sleep(0.1)
        table = Table(title="The outbox (DynamoDB on moto): what HireHop's webhooks left")
        for col in ("entry", "document", "HireHop id", "event", "status"):
            table.add_column(col)
        for entry in sorted(entries, key=lambda e: e.received_at):
            table.add_row(entry.entry_id[:10], entry.doc_kind, entry.doc_id, entry.event, entry.status)
        console.print(table)
        console.print(f"An unknown event was answered {unknown.status_code}: {unknown.json()['note']}")
        sent = stack.hirehop.counters.get("webhooks_sent", 0)
        console.print(f"HireHop sent {sent} webhooks; {len(entries)} outbox entries; the draft sent none.")
        return len(entries) == expected and unknown.status_code == 202


def main() -> int:
    # The handlers' JSON logs and metrics belong in CloudWatch; here they would drown the story.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    console = Console()
    intake_ok = act_one(console)
    console.print("[bold]Act 2: the client to QuickBooks.[/]")
    sim = QboSimulator(seed=2026)
    url = sim.start()
    try:
        sim.add_realm("US", REALM)
        control = SimControl(url)
        oauth = QboOAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, OAuthEndpoints.on(url))
        realm_id, tokens = connect(url, oauth)
        provider = InMemoryTokenProvider(oauth)
        provider.put(realm_id, tokens)
        console.print(f"[bold]QuickBooks simulator[/] on {url}; connected company {realm_id} through OAuth")
        client = QboHttpClient(
            base_url=url,
            realm_id=realm_id,
            tokens=provider,
            pacer=RealmPacer(),
            timeout=(1.0, 0.5),
            retry=RetryPolicy(max_attempts=8, base_delay=0.05, max_delay=0.5),
        )
        # A bad day at Intuit: a third of writes fail as 503s, time out, or commit and lose their answer.
        control.faults(
            {"kind": "http_503", "rate": 0.12, "methods": ["POST"]},
            {"kind": "lost_answer", "rate": 0.12, "methods": ["POST"]},
            {"kind": "timeout", "rate": 0.08, "methods": ["POST"], "delay": 0.8},
            {"kind": "throttle", "rate": 0.05},
        )
        item = client.find_by("Item", "Name", "Hire")[0]["Id"]
        tax_code = client.find_by("TaxCode", "Name", "Boston")[0]["Id"]
        ap = next(a for a in client.query_all("Account") if a["AccountType"] == "Accounts Payable")["Id"]
        expense = next(a for a in client.query_all("Account") if a["AccountType"] == "Expense")["Id"]
        rows: list[tuple[str, str, str, str, str]] = []
        customers: dict[int, str] = {}
        failures: list[str] = []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Writing documents to QuickBooks", total=len(CLIENTS) + len(INVOICES) + 4)
            for n, name in enumerate(CLIENTS):
                made = client.create(
                    "Customer", {"DisplayName": name}, request_id=request_id(COMPANY, "c", str(n), "1")
                )
                customers[n] = made["Id"]
                rows.append(("contact", name, "Customer", made["Id"], ""))
                progress.advance(task)
            vendor = client.create("Vendor", {"DisplayName": SUPPLIER}, request_id=request_id(COMPANY, "s", "1", "1"))
            rows.append(("contact", SUPPLIER, "Vendor", vendor["Id"], ""))
            progress.advance(task)
            invoices: dict[str, dict[str, Any]] = {}
            for number, who, lines in INVOICES:
                body = {
                    "DocNumber": number,
                    "CustomerRef": {"value": customers[who]},
                    "Line": [line(item, *spec) for spec in lines],
                    "TxnTaxDetail": {"TxnTaxCodeRef": {"value": tax_code}},
                }
                try:
                    inv = client.create("Invoice", body, request_id=request_id(COMPANY, "inv", number, "1"))
                except E.HireBooksError as exc:
                    failures.append(f"{number}: {exc}")
                    continue
                invoices[number] = inv
                rows.append(("invoice", number, "Invoice", inv["Id"], f"{inv['TotalAmt']:.2f}"))
                progress.advance(task)
            first = invoices["INV-12245"]
            credit = client.create(
                "CreditMemo",
                {
                    "DocNumber": "CRE-1204",
                    "CustomerRef": first["CustomerRef"],
                    "Line": [line(item, "Returned unused: 2 moving heads", 2, "45.00", True)],
                    "TxnTaxDetail": {"TxnTaxCodeRef": {"value": tax_code}},
                },
                request_id=request_id(COMPANY, "cre", "CRE-1204", "1"),
            )
            rows.append(("credit note", "CRE-1204", "CreditMemo", credit["Id"], f"{credit['TotalAmt']:.2f}"))
            progress.advance(task)
            paid = invoices["INV-12246"]
            payment = client.create(
                "Payment",
                {
                    "CustomerRef": paid["CustomerRef"],
                    "TotalAmt": paid["TotalAmt"],
                    "Line": [{"Amount": paid["TotalAmt"], "LinkedTxn": [{"TxnId": paid["Id"], "TxnType": "Invoice"}]}],
                },
                request_id=request_id(COMPANY, "pay", "D-88", "1"),
            )
            rows.append(("payment", "D-88", "Payment", payment["Id"], f"{payment['TotalAmt']:.2f}"))
            progress.advance(task)
            po = client.create(
                "PurchaseOrder",
                {
                    "DocNumber": "PO-3301",
                    "VendorRef": {"value": vendor["Id"]},
                    "APAccountRef": {"value": ap},
                    "Line": [
                        {
                            "DetailType": "AccountBasedExpenseLineDetail",
                            "Amount": Decimal("640.00"),
                            "Description": "Cross-hire: 16 truss sections, 1 week",
                            "AccountBasedExpenseLineDetail": {"AccountRef": {"value": expense}},
                        }
                    ],
                },
                request_id=request_id(COMPANY, "po", "PO-3301", "1"),
            )
            rows.append(("purchase order", "PO-3301", "PurchaseOrder", po["Id"], f"{po['TotalAmt']:.2f}"))
            progress.advance(task)
            edited = client.update(
                "Invoice",
                {"Id": first["Id"], "SyncToken": first["SyncToken"], "PrivateNote": "Edited after approval in HireHop"},
                request_id=request_id(COMPANY, "inv", "INV-12245", "2"),
            )
            rows.append(("edit", "INV-12245", "Invoice", edited["Id"], f"SyncToken {edited['SyncToken']}"))
            progress.advance(task)
        control.clear_faults()

        table = Table(title="HireHop documents in QuickBooks")
        for col in ("HireHop", "number / name", "QuickBooks entity", "QuickBooks Id", "total"):
            table.add_column(col)
        for row in rows:
            table.add_row(*row)
        console.print(table)

        counters = control.counters(realm_id)
        stats = client.stats
        summary = Table(title="What it took")
        summary.add_column("measure")
        summary.add_column("count", justify="right")
        for label, value in (
            ("client calls", stats.calls),
            ("HTTP requests sent", stats.http_requests),
            ("retries (same requestid)", stats.retries),
            ("answers lost or too late", stats.unknown_outcomes),
            ("faults injected by the simulator", counters["faults_injected"]),
            ("requestid replays at QuickBooks", counters["replays"]),
            ("429s at QuickBooks", counters["throttled"]),
        ):
            summary.add_row(label, str(value))
        console.print(summary)

        docs = Counter(
            o["DocNumber"]
            for entity in ("Invoice", "CreditMemo", "PurchaseOrder")
            for o in control.objects(realm_id, entity)
        )
        doubled = sorted(d for d, n in docs.items() if n > 1)
        expected = {n for n, _, _ in INVOICES} | {"CRE-1204", "PO-3301"}
        missing = sorted(expected - set(docs))
        if not intake_ok:
            console.print("[bold red]The outbox does not hold what HireHop sent[/]")
            return 1
        if doubled or missing or failures:
            console.print(f"[bold red]Books do not agree[/]: doubled {doubled}, missing {missing}, failed {failures}")
            return 1
        console.print(f"[bold green]Every document is in QuickBooks exactly once[/] ({len(expected)} documents).")
        return 0
    finally:
        sim.stop()


if __name__ == "__main__":
    sys.exit(main())
