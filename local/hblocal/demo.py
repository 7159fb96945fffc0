"""`make demo`: the main job on the local stack.

moto's AWS (tables from infra/template.yaml), the QuickBooks simulator with a US and a UK company, the HireHop
simulator, and the gateway in front of the real push_document handler. HireBooks is set up for one rental company
(two accounting packages over three depots, one of them virtual), both QuickBooks companies are connected through
the OAuth flow, and then a month of rental billing happens in HireHop: invoices approved and edited, credit notes,
payments, purchase orders, a contact that is both client and supplier, a one-off client, and a QuickBooks outage in
the middle. Every webhook goes through the gateway and is pushed live; what fails waits in the buffer and is
retried. At the end: what happened, and whether the books agree (the exit code says so too).
"""

from __future__ import annotations

import os
import random
import secrets as secrets_module
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from hirebooks.qbo.client import QboHttpClient
from hirebooks.qbo.connection import CONNECTED, Connection
from hirebooks.qbo.oauth import OAuthEndpoints, QboOAuthClient
from hirebooks.qbo.tokens import StoredTokenProvider
from hirebooks.store.dynamo import DynamoConnections, DynamoIdMap, DynamoSettings
from hirebooks.store.secrets import SecretsManagerStore
from hirebooks.sync.model import DONE
from hirebooks.sync.reconcile import reconcile
from hirebooks.sync.settings import CompanySettings, Package
from hirebooks.wiring import SyncDeps, build_pusher, hirehop_secret_name
from qbosim import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from qbosim.control import SimControl
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hblocal.gateway import LOCAL_STACK_NAME
from hblocal.stack import LocalStack

US, UK = "9130350000000001", "9130350000000002"
REDIRECT = "http://127.0.0.1/callback"


def connect(stack: LocalStack, realm: str, secrets: SecretsManagerStore) -> None:
    """The OAuth dance a person does once per QuickBooks company: consent, callback, code exchange; the tokens go
    to the token store (Secrets Manager), where token_refresh keeps them fresh."""
    url = stack.urls["quickbooks"]
    oauth = QboOAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, OAuthEndpoints.on(url))
    requests.patch(f"{url}/_sim/oauth", json={"consent_realm": realm}, timeout=5)
    resp = requests.get(oauth.authorize_url(REDIRECT, f"demo-{realm}"), allow_redirects=False, timeout=5)
    query = parse_qs(urlparse(resp.headers["Location"]).query)
    tokens = oauth.exchange_code(query["code"][0], REDIRECT, now=stack.qbo.clock.time())
    realm_id = query["realmId"][0]
    connections = DynamoConnections(stack.table("ConnectionsTable"))
    connections.save(Connection(realm_id, 1, "us" if realm_id == US else "uk", CONNECTED, tokens), None)


def package(control: SimControl, realm: str, package_id: str, name: str) -> Package:
    """A package set up from the QuickBooks company's own accounts and tax codes (as the set-up's Sync does)."""
    accounts = control.objects(realm, "Account")
    first = {}
    for account in accounts:
        first.setdefault(account["AccountType"], account["Id"])
    income = [a["Id"] for a in accounts if a["AccountType"] == "Income"]
    codes = {t["Name"]: t["Id"] for t in control.objects(realm, "TaxCode")}
    fields: dict[str, Any] = {
        "package_id": package_id,
        "name": name,
        "realm_id": realm,
        "country": "US" if realm == US else "GB",
        "default_bank_account": first["Bank"],
        "default_revenue_account": income[0],
        "default_expense_account": first["Expense"],
        "ap_account": first["Accounts Payable"],
        "nominal_accounts": {"1": income[0], "2": income[1], "3": income[3], "5": first["Cost of Goods Sold"]},
        "account_names": {a["Id"]: a["Name"] for a in accounts},
    }
    if realm == US:
        fields["us_sales_tax_code"] = codes["Boston"]
    else:
        fields["tax_codes"] = {"*:1": codes["20.0% S"], "*:2": codes["Exempt"]}
    return Package(**fields)


def month(act: Any, ids: dict[str, Any], rng: random.Random, outage: Any, drain: Any, progress: Any) -> Counter[str]:
    """A month of rental billing in HireHop, as its users would do it."""
    jobs, contacts = ids["jobs"], ids["contacts"]
    done: Counter[str] = Counter()
    task = progress.add_task("A month in HireHop", total=60)
    invoices = []
    for n in range(40):
        if n == 15:
            drain()
            outage(True)  # QuickBooks has a bad hour
        if n == 25:
            drain()
            outage(False)
        job = jobs[n % len(jobs)]
        uk = n % len(jobs) in (1, 2)
        lines = [
            {
                "TITLE": rng.choice(["Moving head", "LED par", "Stage deck", "PA system", "Truss 3m", "Haze machine"]),
                "QUANTITY": rng.randint(1, 20),
                "UNIT_PRICE": f"{rng.randint(500, 25000) / 100:.2f}",
                "VAT_RATE": (20 if uk else 7) if k else 0,
                "NOMINAL_GROUP": rng.choice([1, 2, 3]),
                "TAX_GROUP": 1 if k else 2,
            }
            for k in range(rng.randint(1, 4))
        ]
        inv = act("create_invoice", job_id=job, lines=lines)
        inv = act("approve_invoice", invoice_id=inv["ID"])
        invoices.append(inv)
        done["invoices approved"] += 1
        if n % 6 == 2:
            act("edit_invoice", invoice_id=inv["ID"], lines=[*lines, {**lines[0], "QUANTITY": 1}])
            done["edits after approval"] += 1
        if n % 9 == 4:
            act("credit_note", invoice_id=inv["ID"], lines=[{**lines[0], "QUANTITY": 1}])
            done["credit notes"] += 1
        if n % 4 == 3:
            act("take_payment", job_id=job, amount=str(inv["TOTAL"]), apply=[[inv["ID"], str(inv["TOTAL"])]])
            done["payments taken"] += 1
        progress.advance(task)
    for n in range(0, 20, 4):
        act("take_payment", job_id=jobs[n % len(jobs)], amount="250.00", apply=[])
        done["deposits in advance"] += 1
        progress.advance(task)
    for n in range(5):
        act(
            "issue_purchase_order",
            job_id=jobs[n % len(jobs)],
            supplier_id=contacts[2 + n % 2],
            lines=[{"TITLE": "Cross-hire", "QUANTITY": rng.randint(1, 10), "UNIT_PRICE": "60.00", "NOMINAL_GROUP": 5}],
        )
        done["purchase orders"] += 1
        progress.advance(task)
    return done


def main() -> int:
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the handlers' JSON logs belong in CloudWatch
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    console = Console()
    rng = random.Random(2026)
    with LocalStack() as stack:
        stack.qbo.add_realm("US", US)
        stack.qbo.add_realm("UK", UK)
        os.environ["QBO_API_BASE_URL"] = stack.urls["quickbooks"]
        tenant = stack.add_hirehop_company(1, "Acme Stage Hire")
        console.print(
            f"[bold]Local stack[/]: AWS (moto) {stack.urls['aws']}  QuickBooks {stack.urls['quickbooks']}  "
            f"HireHop {stack.urls['hirehop']}  API {stack.urls['gateway']}"
        )
        secrets = SecretsManagerStore(stack.aws.client("secretsmanager"), LOCAL_STACK_NAME)
        for realm in (US, UK):
            connect(stack, realm, secrets)
        secrets.put(hirehop_secret_name(1), tenant.api_token)
        admin_token = secrets_module.token_urlsafe(24)
        secrets.put("admin-token", admin_token)
        control = SimControl(stack.urls["quickbooks"])
        main_depot, north, festival = tenant.ids["depots"]
        settings = CompanySettings(
            company_id=1,
            hirehop_url=stack.urls["hirehop"],
            packages={
                "us": package(control, US, "us", "Acme US"),
                "uk": package(control, UK, "uk", "Acme UK").model_copy(update={"mode": "buffered"}),
            },
            default_package="us",
            depot_packages={str(main_depot): "us", str(north): "uk"},
            depot_parents={str(festival): north},
        )
        DynamoSettings(stack.table("SettingsTable")).put(settings)
        console.print(
            "Set up: two packages, Acme US (live; Main Warehouse, default) and Acme UK (buffered; North Depot, and its "
            "virtual Festival Unit); both QuickBooks companies connected through OAuth."
        )

        base = f"{stack.urls['hirehop']}/_sim/companies/1/act"

        def act(action: str, **args: Any) -> Any:
            resp = requests.post(base, json={"action": action, "args": args}, timeout=30)
            resp.raise_for_status()
            return resp.json()

        def outage(on: bool) -> None:
            if on:
                control.faults(
                    {"kind": "http_503", "rate": 0.5, "methods": ["POST"]},
                    {"kind": "lost_answer", "rate": 0.15, "methods": ["POST"]},
                )
            else:
                control.clear_faults()

        def drain() -> None:
            """Wait (bounded) until HireHop has delivered its webhooks and had their answers."""
            deadline = time.monotonic() + 120
            while stack.hirehop.pending_webhooks() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)  # the one in flight

        with Progress(console=console, transient=True) as progress:
            done = month(act, tenant.ids, rng, outage, drain, progress)
            drain()
        outbox = stack.outbox
        after_live = Counter(e.status for e in outbox.list_company(1))
        # The buffer: Acme UK is buffered, and what failed during the outage waits for its retry time. A sync is
        # what the schedule does every 15 minutes; here it is asked for through the API, as the CLI does.
        deps = SyncDeps(
            DynamoSettings(stack.table("SettingsTable")),
            outbox,
            DynamoIdMap(stack.table("IdMapTable")),
            secrets,
            stack.urls["quickbooks"],
            DynamoConnections(stack.table("ConnectionsTable")),
            hirehop_per_minute=3600,
            hirehop_per_second=180,
        )
        for entry in outbox.list_waiting(1):
            if entry.status == "retry":  # their backoff would make them due in minutes; the demo has seconds
                outbox.mark(entry, "retry", entry.reason, next_attempt_at=0.0, now=time.time())
        flushes = []
        for _ in range(3):
            if not outbox.list_waiting(1, due_by=time.time()):
                break
            resp = requests.post(
                f"{stack.urls['gateway']}/buffer/flush",
                json={"company_id": 1},
                headers={"Authorization": f"Bearer {admin_token}"},
                timeout=300,
            )
            resp.raise_for_status()
            flushes.extend(resp.json()["reports"])
        retried = sum(int(r["pushed"]) + int(r["unchanged"]) for r in flushes)
        entries = outbox.list_company(1)
        final = Counter(e.status for e in entries)

        happened = Table(title="What HireHop's users did")
        happened.add_column("")
        happened.add_column("count", justify="right")
        for label, count in done.items():
            happened.add_row(label, str(count))
        console.print(happened)

        summary = Table(title="What HireBooks did")
        summary.add_column("")
        summary.add_column("count", justify="right")
        sent = stack.hirehop.counters.get("webhooks_sent", 0)
        qbo_counts = control.counters()
        for label, value in (
            ("webhooks received from HireHop", sent),
            ("outbox entries", len(entries)),
            ("pushed live (synced at once)", after_live.get("synced", 0)),
            ("nothing new to send (skipped)", final.get("skipped", 0)),
            ("waited in the buffer (buffered package, outage)", sum(v for k, v in after_live.items() if k not in DONE)),
            ("sent by flush_buffer (POST /buffer/flush)", retried),
            ("still waiting", sum(v for k, v in final.items() if k not in DONE)),
            ("faults QuickBooks threw at us", qbo_counts["faults_injected"]),
            ("requestid replays at QuickBooks", qbo_counts["replays"]),
            ("429s from QuickBooks", qbo_counts["throttled"]),
        ):
            summary.add_row(label, str(value))
        console.print(summary)

        books = Table(title="QuickBooks now holds")
        books.add_column("entity")
        books.add_column("Acme US", justify="right")
        books.add_column("Acme UK", justify="right")
        for entity in ("Customer", "Vendor", "Item", "Invoice", "CreditMemo", "Payment", "PurchaseOrder"):
            base_items = 1 if entity == "Item" else 0  # the seeded "Hire" item
            books.add_row(entity, *(str(len(control.objects(r, entity)) - base_items) for r in (US, UK)))
        console.print(books)

        def gateway_for(realm: str) -> QboHttpClient:
            return QboHttpClient(
                base_url=stack.urls["quickbooks"],
                realm_id=realm,
                tokens=StoredTokenProvider(DynamoConnections(stack.table("ConnectionsTable"))),
            )

        report = reconcile(
            company_id=1,
            settings=settings,
            source=build_pusher(1, deps).source,
            gateway_for=gateway_for,
            idmap=deps.idmap,
            job_ids=tenant.ids["jobs"],
        )
        waiting = [e for e in entries if e.status not in DONE]
        if report.agree and not waiting:
            console.print(f"[bold green]{report.summary()}[/]")
            return 0
        console.print(f"[bold red]{report.summary()}[/]")
        for finding in report.findings[:20]:
            console.print(f"  {finding.document}: {finding.problem}")
        for entry in waiting[:20]:
            console.print(f"  waiting: {entry.doc_kind} {entry.doc_id}: {entry.status}: {entry.reason}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
