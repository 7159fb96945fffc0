"""flush: empty a backlog of buffered documents into QuickBooks, against the simulators at QuickBooks' real limits.

Per realm: a HireHop company with a buffered package, its customers and items already known (a first small sync),
then N documents waiting (invoices, payments, purchase orders and a few credit notes). One flush (several realms
side by side when there are several) sends them. Reported per run: documents per minute (simulated minutes) as a
fraction of the realm's ceiling, the 429s QuickBooks answered, and metered reads per document.

The realm's ceiling for documents: QuickBooks allows 120 batch calls a minute of 30 operations each, inside 500
requests a minute: 3,600 documents a minute when every document rides in a batch.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hblocal.aws import LocalAws, create_tables
from hhsim import HireHopSimulator
from hirebooks.qbo.connection import CONNECTED, Connection
from hirebooks.qbo.pacing import DEFAULT_PACERS
from hirebooks.store.dynamo import DynamoConnections, DynamoIdMap, DynamoLease, DynamoOutbox, DynamoSettings
from hirebooks.store.secrets import SecretsManagerStore
from hirebooks.sync.model import OutboxEntry
from hirebooks.sync.settings import CompanySettings, Package
from hirebooks.wiring import SyncDeps, flush, hirehop_secret_name
from qbosim import QboSimulator
from qbosim.control import SimControl

CEILING = 120 * 30  # documents a minute through batches (reference: 120 batch calls a minute, 30 operations each)


@dataclass
class FlushRow:
    label: str
    realms: int
    documents: int
    sim_minutes: float
    throttled: int
    reads: int
    batches: int
    wall_seconds: float
    paced_seconds: float  # simulated seconds callers waited for the realms' budgets (QuickBooks' limit binding)

    def cells(self) -> list[str]:
        per_realm = self.documents / self.realms / self.sim_minutes
        return [
            self.label,
            str(self.realms),
            str(self.documents),
            f"{per_realm:.0f}",
            f"{per_realm / CEILING:.2f}",
            str(self.throttled),
            f"{self.reads / self.documents:.3f}",
            str(self.batches),
            f"{self.paced_seconds / self.realms:.0f}",
            f"{self.wall_seconds:.0f}",
        ]


HEADER = [
    "run",
    "realms",
    "documents",
    "documents / min per realm",
    "fraction of ceiling",
    "429s at QuickBooks",
    "metered reads per document",
    "batch calls",
    "seconds waiting for QuickBooks' budget, per realm",
    "wall seconds",
]


def _package(control: SimControl, realm: str) -> Package:
    accounts = control.objects(realm, "Account")
    first: dict[str, str] = {}
    for a in accounts:
        first.setdefault(a["AccountType"], a["Id"])
    income = [a["Id"] for a in accounts if a["AccountType"] == "Income"]
    codes = {t["Name"]: t["Id"] for t in control.objects(realm, "TaxCode")}
    return Package(
        package_id="p",
        name=f"Books {realm[-2:]}",
        realm_id=realm,
        country="US",
        mode="buffered",
        default_bank_account=first["Bank"],
        default_revenue_account=income[0],
        default_expense_account=first["Expense"],
        ap_account=first["Accounts Payable"],
        us_sales_tax_code=codes["Boston"],
        nominal_accounts={"1": income[0], "2": income[1], "3": income[2]},
    )


def _documents(company: Any, jobs: list[int], n: int, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    docs: list[tuple[str, dict[str, Any]]] = []
    supplier = next(c["ID"] for c in company.contacts.values() if c["SUBCONTRACTOR"])
    while len(docs) < n:
        job = rng.choice(jobs)
        roll = rng.random()
        if roll < 0.06 and docs:
            po = company.issue_purchase_order(
                job_id=job,
                supplier_id=supplier,
                notify=False,
                lines=[{"QUANTITY": 2, "UNIT_PRICE": "40.00", "NOMINAL_GROUP": 5}],
            )
            docs.append(("purchase_order", po))
            continue
        lines = [
            {
                "QUANTITY": rng.randint(1, 9),
                "UNIT_PRICE": f"{rng.randint(500, 40000) / 100:.2f}",
                "VAT_RATE": rng.choice([0, 7]),
                "NOMINAL_GROUP": rng.choice([1, 2, 3]),
            }
            for _ in range(2)
        ]
        inv = company.create_invoice(job, lines)
        inv = company.approve_invoice(inv["ID"], notify=False)
        docs.append(("invoice", inv))
        if roll > 0.90:  # paid at once
            dep = company.save_deposit(job_id=job, amount=inv["TOTAL"], bank_id=1, notify=False)
            company.apply_payment(deposit_id=dep["ID"], invoice_id=inv["ID"], amount=inv["TOTAL"], notify=False)
            docs.append(("payment", dep))
        elif roll > 0.88:
            docs.append(("credit_note", company.credit_note(inv["ID"], [{**lines[0], "QUANTITY": 1}], notify=False)))
    return docs[:n]


def _json_safe(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in doc.items() if k != "items"}


def run_flush(realms: int, docs_per_realm: int, scale: float, seed: int = 3) -> FlushRow:
    rng = random.Random(seed)
    aws = LocalAws().start()
    qbo = QboSimulator(scale=scale, seed=seed)
    hh = HireHopSimulator(scale=60.0)
    try:
        tables = create_tables(aws.client("dynamodb"), f"bench-{uuid.uuid4().hex[:6]}")
        qbo_url, hh_url = qbo.start(), hh.start()
        control = SimControl(qbo_url)
        table = lambda name: __import__("boto3").resource("dynamodb", endpoint_url=aws.url).Table(tables[name])  # noqa: E731
        secrets = SecretsManagerStore(aws.client("secretsmanager"), "bench")
        outbox = DynamoOutbox(table("OutboxTable"))
        deps = SyncDeps(
            DynamoSettings(table("SettingsTable")),
            outbox,
            DynamoIdMap(table("IdMapTable")),
            secrets,
            qbo_url,
            DynamoConnections(table("ConnectionsTable")),
            clock=qbo.clock,
            hirehop_per_minute=3600,
            hirehop_per_second=180,
        )
        companies: list[int] = []
        backlog: dict[int, list[tuple[str, dict[str, Any]]]] = {}
        for r in range(realms):
            realm, company_id = f"91303500000{r:05d}", 500 + r
            qbo.add_realm("US", realm)
            minted = control.mint_tokens(realm)
            from hirebooks.qbo.oauth import TokenSet

            deps.connections.save(
                Connection(
                    realm,
                    company_id,
                    "p",
                    CONNECTED,
                    TokenSet(minted["access_token"], minted["refresh_token"], 3600, 8_640_000, None, qbo.clock.time()),
                ),
                None,
            )
            company, token, ids = hh.add_company(company_id)
            secrets.put(hirehop_secret_name(company_id), token)
            deps.settings.put(
                CompanySettings(
                    company_id=company_id,
                    hirehop_url=hh_url,
                    packages={"p": _package(control, realm)},
                    default_package="p",
                    depot_parents={},
                )
            )
            jobs = list(ids["jobs"]) + [
                company.add_job(depot_id=ids["depots"][0], client_id=ids["contacts"][n % 2])["ID"] for n in range(16)
            ]
            companies.append(company_id)
            # A first small sync makes the customers, vendors and items known.
            warm = [
                (
                    "invoice",
                    company.approve_invoice(
                        company.create_invoice(
                            j, [{"QUANTITY": 1, "UNIT_PRICE": "1.00", "VAT_RATE": 7, "NOMINAL_GROUP": g}]
                        )["ID"],
                        notify=False,
                    ),
                )
                for j in jobs
                for g in (1, 2, 3)
            ][: len(jobs) * 3]
            warm.append(
                (
                    "purchase_order",
                    company.issue_purchase_order(
                        job_id=jobs[0],
                        supplier_id=ids["contacts"][2],
                        notify=False,
                        lines=[{"QUANTITY": 1, "UNIT_PRICE": "1.00", "NOMINAL_GROUP": 5}],
                    ),
                )
            )
            backlog[company_id] = warm
        for company_id, docs in backlog.items():
            for kind, doc in docs:
                outbox.put_if_absent(_entry(company_id, kind, doc))
        flush(companies, deps, DynamoLease(table("SettingsTable")), lambda: 1e9, margin=0)
        for company_id in companies:
            company = hh.companies[company_id]
            jobs = sorted(company.jobs)
            for kind, doc in _documents(company, jobs, docs_per_realm, rng):
                outbox.put_if_absent(_entry(company_id, kind, doc))
        control.reset_counters()
        wall, start = time.monotonic(), qbo.clock.time()
        reports = flush(companies, deps, DynamoLease(table("SettingsTable")), lambda: 1e9, margin=0, parallel=realms)
        minutes = (qbo.clock.time() - start) / 60
        counters = control.counters()
        sent = sum(r.pushed + r.unchanged for r in reports)
        waiting = sum(sum(r.still_waiting.values()) for r in reports)
        if waiting:
            print(f"  note: {waiting} documents still waiting after the flush")
        paced = sum(DEFAULT_PACERS.for_realm(f"91303500000{r:05d}").waited for r in range(realms))
        label = f"{realms} realm{'s' if realms > 1 else ''} x {docs_per_realm}"
        batches = sum(r.batches for r in reports)
        return FlushRow(
            label,
            realms,
            sent,
            minutes,
            counters["throttled"],
            counters["reads"],
            batches,
            time.monotonic() - wall,
            paced,
        )
    finally:
        hh.stop()
        qbo.stop()
        aws.stop()


def _entry(company_id: int, kind: str, doc: dict[str, Any]) -> OutboxEntry:
    data = _json_safe(doc)
    return OutboxEntry(
        company_id,
        uuid.uuid4().hex[:32],
        kind,
        str(doc["ID"]),
        f"{kind}.bench",
        str(doc.get("MODIFIED", "")),
        time.time(),
        {"data": data, "changes": {}},
    )


os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
