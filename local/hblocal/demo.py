"""`make demo`: the main job on the local stack; `make up`: the same stack, set up, kept running for trying by hand.

moto's AWS (tables and queues from infra/template.yaml), the QuickBooks simulator with a US and a UK company, the
HireHop simulator, the gateway in front of the real handlers, the SQS poller (qb_webhook's worker) and a scheduler
standing in for EventBridge (flush, token refresh, CDC sweep, on a faster clock).

1. Set-up, through the set-up API as an operator would: the HireHop company and its token, two packages (Acme US,
   live; Acme UK, buffered), each QuickBooks company connected through the real connect link and callback, accounts
   and tax codes synced with defaults, depots (one virtual) and nominal and tax groups assigned, preflight.
2. A month of rental billing in HireHop: about 40 contacts (some client and supplier), 200 invoices, edits after
   approval, credit notes, purchase orders, payments taken in HireHop, and a QuickBooks outage in the middle.
3. A bookkeeper in QuickBooks receives payments (full and part), edits one and deletes one; the signed webhooks come
   back through qb_webhook and HireHop's invoices show paid or not.
4. The summary, and the reconciliation of every job: exit 0 only if the books agree and nothing waits.

`--broken` removes a tax mapping after the set-up: the run must end non-zero and name what is missing.
"""

from __future__ import annotations

import argparse
import os

# The handlers' JSON logs and metrics belong in CloudWatch, not on the demo's screen (set before they are imported).
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
import random
import signal
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import requests
from hirebooks.observability import logger
from hirebooks.store.dynamo import DynamoConnections, DynamoIdMap, DynamoSettings
from hirebooks.sync.model import DONE, WRITEBACK_MEMO_PREFIX
from hirebooks.sync.reconcile import reconcile
from hirebooks.wiring import SyncDeps, build_pusher
from qbosim.control import SimControl
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hblocal.scheduler import sleep_until
from hblocal.stack import HireHopTenant, LocalStack

US, UK = "9130350000000001", "9130350000000002"
COMPANY = 1


class DemoError(RuntimeError):
    pass


class Admin:
    """The admin API, as the CLI uses it."""

    def __init__(self, stack: LocalStack) -> None:
        self.url = stack.urls["gateway"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {stack.admin_token}"

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        resp = self.session.request(method, f"{self.url}{path}", json=body, timeout=300)
        if resp.status_code >= 400:
            raise DemoError(f"{method} {path}: {resp.status_code} {resp.text[:300]}")
        return resp.json()


# ====================================================================== 1. set-up
def connect(stack: LocalStack, package: str, realm: str) -> str:
    """What a person does once per QuickBooks company: open the connect link, approve at Intuit, come back."""
    gateway = stack.urls["gateway"]
    query = urlencode({"company_id": COMPANY, "package": package})
    to_intuit = requests.get(f"{gateway}/quickbooks/connect?{query}", allow_redirects=False, timeout=10)
    if to_intuit.status_code != 302:
        raise DemoError(f"connect link: {to_intuit.status_code} {to_intuit.text[:200]}")
    SimControl(stack.urls["quickbooks"]).oauth(consent_realm=realm)  # the person picks this company at Intuit
    back = requests.get(to_intuit.headers["Location"], allow_redirects=False, timeout=10)
    page = requests.get(back.headers["Location"], headers={"Accept": "application/json"}, timeout=60)
    if page.status_code != 200:
        raise DemoError(f"callback: {page.status_code} {page.text[:200]}")
    return str(page.json()["message"])


def set_up(stack: LocalStack, admin: Admin, tenant: HireHopTenant, broken: bool, say: Any) -> None:
    main_depot, north, _festival = tenant.ids["depots"]
    company = admin(
        "PUT", f"/setup/{COMPANY}", {"hirehop_url": stack.urls["hirehop"], "hirehop_token": tenant.api_token}
    )
    say(f"HireHop company {COMPANY}: token accepted, depots {', '.join(d['name'] for d in company['depots'])}")
    admin("PUT", f"/setup/{COMPANY}/packages/us", {"name": "Acme US", "realm_id": US, "country": "US", "mode": "live"})
    admin(
        "PUT",
        f"/setup/{COMPANY}/packages/uk",
        {"name": "Acme UK", "realm_id": UK, "country": "GB", "mode": "buffered", "invoice_start": 12245},
    )
    for package, realm in (("us", US), ("uk", UK)):
        say(connect(stack, package, realm))
    nominal: dict[str, dict[str, str]] = {}
    for package in ("us", "uk"):
        accounts = admin("POST", f"/setup/{COMPANY}/packages/{package}/accounts/sync")["accounts"]
        first: dict[str, str] = {}
        for acc_id, acc in accounts.items():
            first.setdefault(acc["type"], acc_id)
        income = [i for i, a in accounts.items() if a["type"] == "Income"]
        admin(
            "PATCH",
            f"/setup/{COMPANY}/packages/{package}/accounts",
            {
                "default_bank_account": first["Bank"],
                "default_revenue_account": income[0],
                "default_expense_account": first["Expense"],
                "banks": {"1": first["Bank"], "2": first["Bank"]},
            },
        )
        nominal[package] = {"1": income[0], "2": income[1], "3": income[3], "5": first["Cost of Goods Sold"]}
        codes = admin("POST", f"/setup/{COMPANY}/packages/{package}/tax-codes/sync")["tax_code_list"]
        say(f"Package {package}: {len(accounts)} accounts and {len(codes)} tax codes synced from QuickBooks")
    uk_codes = {c["name"]: i for i, c in admin("GET", f"/setup/{COMPANY}")["packages"]["uk"]["tax_code_list"].items()}
    admin(
        "PUT",
        f"/setup/{COMPANY}/assignments",
        {
            "depots": {str(main_depot): "us", str(north): "uk"},  # the virtual Festival Unit follows North Depot
            "default_package": "us",
            "nominal_groups": nominal,
            "tax_groups": {"uk": {"*:1": uk_codes["20.0% S"], "*:2": uk_codes["Exempt"]}},
        },
    )
    if broken:
        admin("PUT", f"/setup/{COMPANY}/assignments", {"tax_groups": {"uk": {"*:1": None}}})
        say("[yellow]--broken: the UK package's mapping for tax group 1 (Standard) was removed on purpose[/]")
    say("Set up through the set-up API: 2 packages over 3 depots, accounts, tax codes, assignments")


# ====================================================================== 2. a month in HireHop
def month(
    act: Any, ids: dict[str, Any], rng: random.Random, invoices: int, outage: Any, drain: Any, progress: Any
) -> Counter[str]:
    done: Counter[str] = Counter()
    depots = ids["depots"]
    task = progress.add_task("A month in HireHop", total=invoices + 50)
    contacts = ids["contacts"]
    clients, suppliers = [contacts[0], contacts[1], contacts[3]], [contacts[2], contacts[3]]
    towns = ["Leeds", "Austin", "Bristol", "Denver", "York", "Boise", "Bath", "Salem", "Hull", "Tampa", "Ely", "Reno"]
    for n in range(36):
        both = n % 6 == 0
        supplier_only = n % 9 == 4
        contact = act(
            "add_contact",
            company=f"{towns[n % len(towns)]} {['Events', 'Theatre', 'Audio', 'Staging'][n % 4]} {n + 1}",
            name=f"Contact {n + 1}",
            email=f"contact{n + 1}@example.test",
            client=not supplier_only,
            supplier=both or supplier_only,
        )
        (suppliers if supplier_only else clients).append(contact["ID"])
        if both:
            suppliers.append(contact["ID"])
        done["contacts added"] += 1
        progress.advance(task)
    jobs = list(ids["jobs"])
    for n in range(14):
        jobs.append(act("add_job", depot_id=depots[n % 3], client_id=clients[n % len(clients)], name=f"Job {n}")["ID"])
    done["contacts (with the seeded ones)"] = 36 + len(ids["contacts"])
    to_edit: list[tuple[int, list[dict[str, Any]]]] = []
    for n in range(invoices):
        if n == int(invoices * 0.4):
            drain()  # what HireHop sent so far is pushed before QuickBooks has its bad hour
            outage(True)
            done["QuickBooks outage: invoices during it"] = int(invoices * 0.2)
        if n == int(invoices * 0.6):
            drain()
            outage(False)
        job = jobs[n % len(jobs)]
        lines = [
            {
                "TITLE": rng.choice(["Moving head", "LED par", "Stage deck", "PA system", "Truss 3m", "Haze machine"]),
                "QUANTITY": rng.randint(1, 20),
                "UNIT_PRICE": f"{rng.randint(500, 25000) / 100:.2f}",
                "VAT_RATE": 20 if k else 0,
                "NOMINAL_GROUP": rng.choice([1, 2, 3]),
                "TAX_GROUP": 1 if k else 2,
            }
            for k in range(rng.randint(1, 4))
        ]
        inv = act("approve_invoice", invoice_id=act("create_invoice", job_id=job, lines=lines)["ID"])
        done["invoices approved"] += 1
        if n % 6 == 2:
            to_edit.append((inv["ID"], lines))
        if n % 7 == 4:
            act("credit_note", invoice_id=inv["ID"], lines=[{**lines[0], "QUANTITY": 1}])
            done["credit notes"] += 1
        if n % 5 == 3:
            act("take_payment", job_id=job, amount=str(inv["TOTAL"]), apply=[[inv["ID"], str(inv["TOTAL"])]])
            done["payments taken in HireHop"] += 1
        progress.advance(task)
    drain()  # the approvals are in QuickBooks; now people correct some of them (an update each)
    for invoice_id, lines in to_edit:
        act("edit_invoice", invoice_id=invoice_id, lines=[*lines, {**lines[0], "QUANTITY": 1}])
        done["edits after approval"] += 1
    for n in range(4):
        act("take_payment", job_id=jobs[n], amount="250.00", apply=[])
        done["deposits in advance"] += 1
    for n in range(10):
        act(
            "issue_purchase_order",
            job_id=jobs[n % len(jobs)],
            supplier_id=suppliers[n % len(suppliers)],
            lines=[{"TITLE": "Cross-hire", "QUANTITY": rng.randint(1, 10), "UNIT_PRICE": "60.00", "NOMINAL_GROUP": 5}],
        )
        done["purchase orders"] += 1
        progress.advance(task)
    ids["all_jobs"] = jobs
    return done


# ====================================================================== 3. a bookkeeper in QuickBooks
def bookkeeper(control: SimControl, rng: random.Random, per_realm: int) -> Counter[str]:
    done: Counter[str] = Counter()
    for realm in (US, UK):
        open_invoices = [i for i in control.objects(realm, "Invoice") if Decimal(str(i.get("Balance", 0))) > 0]
        rng.shuffle(open_invoices)
        payments = []
        for inv in open_invoices[:per_realm]:
            balance = Decimal(str(inv["Balance"]))
            amount = balance if rng.random() < 0.7 else (balance / 2).quantize(Decimal("0.01"))
            body = {
                "CustomerRef": inv["CustomerRef"],
                "TotalAmt": str(amount),
                "Line": [{"Amount": str(amount), "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
            }
            payments.append((control.ui(realm, "Payment", body), inv))
            done["payments received in QuickBooks"] += 1
        if len(payments) >= 2:
            (edited, inv), (deleted, _) = payments[0], payments[1]
            smaller = (Decimal(str(edited["TotalAmt"])) / 2).quantize(Decimal("0.01"))
            control.ui(
                realm,
                "Payment",
                {
                    "Id": edited["Id"],
                    "SyncToken": edited["SyncToken"],
                    "sparse": True,
                    "TotalAmt": str(smaller),
                    "Line": [{"Amount": str(smaller), "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
                },
                "update",
            )
            done["payments edited in QuickBooks"] += 1
            current = next(p for p in control.objects(realm, "Payment") if p["Id"] == deleted["Id"])
            control.ui(realm, "Payment", {"Id": deleted["Id"], "SyncToken": current["SyncToken"]}, "delete")
            done["payments deleted in QuickBooks"] += 1
    return done


# ====================================================================== the run
def run(args: argparse.Namespace, console: Console) -> int:
    rng = random.Random(args.seed)
    with LocalStack() as stack:
        stack.qbo.add_realm("US", US)
        stack.qbo.add_realm("UK", UK)
        tenant = stack.add_hirehop_company(COMPANY, "Acme Stage Hire")
        urls = stack.urls
        console.print(
            f"[bold]Local stack[/]: AWS (moto) {urls['aws']}  QuickBooks {urls['quickbooks']}  "
            f"HireHop {urls['hirehop']}  API {urls['gateway']}"
        )
        admin = Admin(stack)
        set_up(stack, admin, tenant, args.broken, console.print)
        assert stack.scheduler is not None and stack.poller is not None
        stack.scheduler.start()
        if args.up:
            return keep_running(stack, tenant, console, args.up_for)
        control = SimControl(urls["quickbooks"])
        hh_base = f"{urls['hirehop']}/_sim/companies/{COMPANY}/act"

        def act(action: str, **kw: Any) -> Any:
            resp = requests.post(hh_base, json={"action": action, "args": kw}, timeout=30)
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
            """Wait (bounded) until HireHop has delivered its webhooks and had their answers (live pushes)."""
            sleep_until(lambda: stack.hirehop.pending_webhooks() == 0, 600)
            time.sleep(0.5)  # the one in flight

        outbox = stack.outbox
        started = time.monotonic()
        with Progress(console=console, transient=True) as progress:
            done = month(act, tenant.ids, rng, args.invoices, outage, drain, progress)
            drain()
        after_live = Counter(e.status for e in outbox.list_company(COMPANY))
        console.print(f"HireHop's month done in {time.monotonic() - started:.0f} s; {sum(after_live.values())} events")

        def buffer_due() -> list[Any]:
            return [
                e for e in outbox.list_waiting(COMPANY) if e.status in ("pending", "retry", "waiting_for_connection")
            ]

        flush_rounds = 0
        with console.status("The buffer: waiting for the scheduled flush (EventBridge, every 15 min = 5 s here)"):
            for _ in range(12):
                for entry in outbox.list_waiting(COMPANY):
                    if entry.status == "retry":  # their backoff is minutes of real time; the demo has seconds
                        outbox.mark(entry, "retry", entry.reason, next_attempt_at=0.0, now=time.time())
                runs = stack.scheduler.summary().get("FlushBufferFunction.Every", 0)
                sleep_until(lambda r=runs: stack.scheduler.summary().get("FlushBufferFunction.Every", 0) > r, 30)
                flush_rounds += 1
                if not buffer_due():
                    break
        with console.status("A bookkeeper at work in QuickBooks; its webhooks come back through qb_webhook"):
            done.update(bookkeeper(control, rng, args.qbo_payments))
            sleep_until(lambda: control.webhooks()["waiting"] == 0 and control.webhooks()["head"] is None, 120)
            stack.poller.drain(120)
            sweep = admin("POST", "/quickbooks/sweep", {})["sweeps"]  # the daily CDC sweep, asked for now
            stack.poller.drain(120)
        return report(stack, tenant, admin, done, after_live, flush_rounds, sweep, console)


def report(
    stack: LocalStack,
    tenant: HireHopTenant,
    admin: Admin,
    done: Counter[str],
    after_live: Counter[str],
    flush_rounds: int,
    sweep: list[dict[str, Any]],
    console: Console,
) -> int:
    control = SimControl(stack.urls["quickbooks"])
    entries = stack.outbox.list_company(COMPANY)
    final = Counter(e.status for e in entries)
    updated = sum(1 for e in entries for h in e.history if h.get("what") == "synced" and " updated in " in h["reason"])
    hh_state = requests.get(f"{stack.urls['hirehop']}/_sim/companies/{COMPANY}", timeout=30).json()
    written_back = [d for d in hh_state["deposits"] if str(d.get("MEMO", "")).startswith(WRITEBACK_MEMO_PREFIX)]
    counters = control.counters()
    happened = Table(title="What the people did")
    happened.add_column("")
    happened.add_column("count", justify="right")
    for label, count in done.items():
        happened.add_row(label, str(count))
    console.print(happened)
    assert stack.scheduler is not None and stack.poller is not None
    summary = Table(title="What HireBooks did")
    summary.add_column("")
    summary.add_column("count", justify="right")
    for label, value in (
        ("HireHop webhooks received", stack.hirehop.counters.get("webhooks_sent", 0)),
        ("outbox entries (written ahead)", len(entries)),
        ("pushed live, at once", after_live.get("synced", 0)),
        ("updates sent to QuickBooks (edits after approval)", updated),
        ("buffered (the buffered package, the outage)", sum(v for k, v in after_live.items() if k not in DONE)),
        ("sent by the scheduled flush", final.get("synced", 0) - after_live.get("synced", 0)),
        ("flush rounds waited for", flush_rounds),
        ("QuickBooks webhooks delivered to qb_webhook", len(stack.qbo.webhooks.delivered)),
        ("QuickBooks payments written back to HireHop (deposits)", len(written_back)),
        ("changes the CDC sweep queued (already applied: no-ops)", sum(int(s.get("queued", 0)) for s in sweep)),
        ("QuickBooks faults absorbed (retries)", counters["faults_injected"]),
        ("requestid replays at QuickBooks (no duplicates)", counters["replays"]),
        ("429s from QuickBooks", counters["throttled"]),
        ("schedules fired (flush, token refresh)", sum(stack.scheduler.summary().values())),
        ("still waiting", sum(v for k, v in final.items() if k not in DONE)),
    ):
        summary.add_row(label, str(value))
    console.print(summary)
    books = Table(title="QuickBooks now holds")
    books.add_column("entity")
    books.add_column("Acme US", justify="right")
    books.add_column("Acme UK", justify="right")
    for entity in ("Customer", "Vendor", "Item", "Invoice", "CreditMemo", "Payment", "PurchaseOrder"):
        base = 1 if entity == "Item" else 0  # the seeded "Hire" item
        books.add_row(entity, *(str(len(control.objects(r, entity)) - base) for r in (US, UK)))
    console.print(books)
    settings = DynamoSettings(stack.table("SettingsTable")).get(COMPANY)
    assert settings is not None
    deps = SyncDeps(
        DynamoSettings(stack.table("SettingsTable")),
        stack.outbox,
        DynamoIdMap(stack.table("IdMapTable")),
        stack.secrets,
        stack.urls["quickbooks"],
        DynamoConnections(stack.table("ConnectionsTable")),
        hirehop_per_minute=3600,
        hirehop_per_second=180,
    )

    pusher = build_pusher(COMPANY, deps)  # its HireHop source and QuickBooks clients, as flush_buffer builds them
    result = reconcile(
        company_id=COMPANY,
        settings=settings,
        source=pusher.source,
        gateway_for=pusher.gateway_for,
        idmap=deps.idmap,
        job_ids=tenant.ids.get("all_jobs", tenant.ids["jobs"]),
    )
    waiting = [e for e in entries if e.status not in DONE]
    if result.agree and not waiting:
        console.print(f"[bold green]{result.summary()}[/] Nothing waits in the buffer.")
        return 0
    console.print(f"[bold red]The run did not end clean. {result.summary()}[/]")
    for finding in result.findings[:15]:
        console.print(f"  {finding.document}: {finding.problem}")
    if waiting:
        reasons = Counter(e.status for e in waiting)
        console.print(f"[red]{len(waiting)} documents still wait in the buffer: {dict(reasons)}.[/]")
        preflight = admin("GET", f"/setup/{COMPANY}/preflight")
        for gap in preflight["missing"]:
            console.print(f"  [red]missing from the set-up[/] ({gap['documents']} documents): {gap['what']}")
        for entry in waiting[:5]:
            console.print(f"  {entry.doc_kind} {entry.doc_id}: {entry.status}: {entry.reason[:160]}")
    return 1


def keep_running(stack: LocalStack, tenant: HireHopTenant, console: Console, seconds: float | None) -> int:
    urls = stack.urls
    console.print(
        "\n[bold]The local stack is up[/] (Ctrl-C stops it).\n"
        f"  API (the gateway):     {urls['gateway']}   OpenAPI: {urls['gateway']}/openapi.json\n"
        f"  QuickBooks simulator:  {urls['quickbooks']}   (control: /_sim/...)\n"
        f"  HireHop simulator:     {urls['hirehop']}   (company {COMPANY}, API token {tenant.api_token})\n"
        f"  AWS (moto):            {urls['aws']}\n"
        f"  HireHop's webhook:     {urls['gateway']}/hirehop/{tenant.tenant_token}/events\n\n"
        "Try the CLI in another shell:\n"
        f"  export HIREBOOKS_API_URL={urls['gateway']} HIREBOOKS_ADMIN_TOKEN={stack.admin_token}\n"
        f"  .venv/bin/hirebooks status --company {COMPANY}\n"
        f"  .venv/bin/hirebooks buffer list --company {COMPANY}\n"
        f"  .venv/bin/hirebooks setup preflight --company {COMPANY}"
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait(seconds)
    console.print("Stopping the local stack.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hblocal.demo", description=__doc__)
    parser.add_argument("--invoices", type=int, default=200, help="invoices in the month (default 200)")
    parser.add_argument("--qbo-payments", type=int, default=12, help="payments taken per QuickBooks company")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--broken", action="store_true", help="remove a tax mapping on purpose: the run must fail")
    parser.add_argument("--up", action="store_true", help="set up, print the URLs, and keep the stack running")
    parser.add_argument("--up-for", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the handlers' JSON logs belong in CloudWatch
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    logger.setLevel("WARNING")
    console = Console()
    try:
        return run(args, console)
    except DemoError as exc:
        console.print(f"[bold red]The demo stopped: {exc}[/]")
        return 2


if __name__ == "__main__":
    sys.exit(main())
