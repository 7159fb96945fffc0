"""Shared fixtures: a QuickBooks simulator on a loopback port with a US and a UK company, and clients for it."""

from __future__ import annotations

import itertools
import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from hblocal.aws import LocalAws, create_queues, create_tables
from hblocal.gateway import LocalGateway
from hblocal.queues import QueuePoller
from hhsim import HireHopSimulator
from hirebooks.config import live_settings, webhook_settings
from hirebooks.hirehop.client import HireHopClient
from hirebooks.qbo.client import QboHttpClient, RetryPolicy
from hirebooks.qbo.connection import CONNECTED, Connection
from hirebooks.qbo.oauth import OAuthEndpoints, QboOAuthClient, TokenSet
from hirebooks.qbo.pacing import PacerRegistry, RealmPacer
from hirebooks.qbo.tokens import InMemoryTokenProvider
from hirebooks.store.dynamo import DynamoConnections, DynamoIdMap, DynamoOutbox, DynamoSettings, DynamoTenantDirectory
from hirebooks.store.secrets import SecretsManagerStore
from hirebooks.sync.model import OutboxEntry
from hirebooks.sync.push import Pusher, PushOutcome, RunCache, push_and_record
from hirebooks.sync.reconcile import Reconciliation, reconcile
from hirebooks.sync.settings import CompanySettings, Package
from hirebooks.wiring import SyncDeps, build_pusher, hirehop_secret_name, sync_deps_from
from qbosim import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, QboSimulator
from qbosim.control import SimControl

US = "9130350000000001"
UK = "9130350000000002"


def token_set(body: dict[str, Any], now: float | None = None) -> TokenSet:
    return TokenSet(
        body["access_token"],
        body["refresh_token"],
        int(body["expires_in"]),
        int(body["x_refresh_token_expires_in"]),
        body.get("x_refresh_token_hard_expires_in"),
        time.time() if now is None else now,
    )


@dataclass
class QboWorld:
    sim: QboSimulator
    url: str
    control: SimControl
    oauth: QboOAuthClient
    tokens: InMemoryTokenProvider
    pacers: PacerRegistry

    def connect(self, realm_id: str) -> None:
        self.tokens.put(realm_id, token_set(self.control.mint_tokens(realm_id), self.sim.clock.time()))

    def client(self, realm_id: str = US, *, pacer: RealmPacer | None = None, **kw: Any) -> QboHttpClient:
        kw.setdefault("retry", RetryPolicy(max_attempts=6, base_delay=0.02, max_delay=0.2))
        return QboHttpClient(
            base_url=self.url,
            realm_id=realm_id,
            tokens=self.tokens,
            pacer=pacer or self.pacers.for_realm(realm_id),  # one budget per realm, as in production
            clock=self.sim.clock,
            **kw,
        )

    def raw(self, realm_id: str = US) -> requests.Session:
        """A bare HTTP session with a valid bearer token, for speaking to the simulator as any client would."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.tokens.access_token(realm_id)}"
        session.headers["Accept"] = "application/json"
        return session

    def api(self, realm_id: str = US) -> str:
        return f"{self.url}/v3/company/{realm_id}"

    def first(self, realm_id: str, entity: str, **match: Any) -> dict[str, Any]:
        for obj in self.control.objects(realm_id, entity):
            if all(obj.get(k) == v for k, v in match.items()):
                return obj
        raise LookupError(f"no {entity} with {match}")


@pytest.fixture
def qbo() -> Iterator[QboWorld]:
    sim = QboSimulator(seed=11)
    url = sim.start()
    sim.add_realm("US", US)
    sim.add_realm("UK", UK)
    oauth = QboOAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, OAuthEndpoints.on(url))
    world = QboWorld(
        sim, url, SimControl(url), oauth, InMemoryTokenProvider(oauth, sim.clock), PacerRegistry(clock=sim.clock)
    )
    world.connect(US)
    world.connect(UK)
    try:
        yield world
    finally:
        sim.stop()


# ---------------------------------------------------------------------------------------------- the local stack

_company_ids = itertools.count(100)


_PLAIN_RECORD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)


class LogCapture(logging.Handler):
    """Every log line of the whole test run (root and the Powertools logger), for the scan in tests/zz_last."""

    lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        extras = {
            k: v for k, v in record.__dict__.items() if k not in logging.LogRecord("", 0, "", 0, "", (), None).__dict__
        }
        self.lines.append(f"{record.getMessage()} {extras!r}")


_CAPTURE = LogCapture(level=logging.DEBUG)
logging.getLogger().addHandler(_CAPTURE)
logging.getLogger("hirebooks").addHandler(_CAPTURE)


@dataclass
class AwsWorld:
    aws: LocalAws
    tables: dict[str, str]

    def table(self, logical: str) -> Any:
        return boto3.resource("dynamodb", endpoint_url=self.aws.url).Table(self.tables[logical])


@pytest.fixture(scope="session")
def local_aws() -> Iterator[AwsWorld]:
    """moto's server on loopback, with the template's tables, for the whole session."""
    aws = LocalAws().start()
    prefix = f"test-{uuid.uuid4().hex[:6]}"
    tables = create_tables(aws.client("dynamodb"), prefix)
    tables.update(create_queues(aws.client("sqs"), prefix))  # Ref gives a queue's URL, as in CloudFormation
    try:
        yield AwsWorld(aws, tables)
    finally:
        aws.stop()


@dataclass
class IntakeWorld:
    aws: AwsWorld
    gateway: LocalGateway
    gateway_url: str
    hirehop: HireHopSimulator
    hirehop_url: str
    company_id: int
    export_key: str
    api_token: str
    tenant_token: str
    ids: dict[str, Any]
    outbox: DynamoOutbox

    @property
    def events_url(self) -> str:
        return f"{self.gateway_url}/hirehop/{self.tenant_token}/events"

    def act(self, action: str, **args: Any) -> Any:
        resp = requests.post(
            f"{self.hirehop_url}/_sim/companies/{self.company_id}/act", json={"action": action, "args": args}
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def entries(self) -> list[Any]:
        return self.outbox.list_company(self.company_id)

    def wait_for_entries(self, n: int, seconds: float = 10.0) -> list[Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.hirehop.pending_webhooks() == 0 and len(self.entries()) >= n:
                break
            time.sleep(0.05)
        return self.entries()


@pytest.fixture
def intake(local_aws: AwsWorld) -> Iterator[IntakeWorld]:
    """A HireHop company registered as a tenant; its webhooks go through the local gateway to push_document."""
    company_id = next(_company_ids)
    export_key = f"ek-{uuid.uuid4().hex[:10]}"
    tenants = DynamoTenantDirectory(local_aws.table("SettingsTable"))
    tenant_token = tenants.register(company_id, export_key, "Test company")
    gateway = LocalGateway(local_aws.tables)
    gateway_url = gateway.start()
    hirehop = HireHopSimulator()
    hirehop_url = hirehop.start()
    _, api_token, ids = hirehop.add_company(company_id, export_key=export_key)
    hirehop.webhook_url = f"{gateway_url}/hirehop/{tenant_token}/events"
    world = IntakeWorld(
        local_aws,
        gateway,
        gateway_url,
        hirehop,
        hirehop_url,
        company_id,
        export_key,
        api_token,
        tenant_token,
        ids,
        DynamoOutbox(local_aws.table("OutboxTable")),
    )
    try:
        yield world
    finally:
        hirehop.stop()
        gateway.stop()


@dataclass
class HireHopWorld:
    sim: HireHopSimulator
    url: str
    company_id: int
    token: str
    export_key: str
    ids: dict[str, Any]

    def act(self, action: str, **args: Any) -> Any:
        resp = requests.post(f"{self.url}/_sim/companies/{self.company_id}/act", json={"action": action, "args": args})
        assert resp.status_code == 200, resp.text
        return resp.json()

    def api(self, path: str, method: str = "GET", **params: Any) -> requests.Response:
        params.setdefault("token", self.token)
        if method == "GET":
            return requests.get(f"{self.url}{path}", params=params)
        return requests.post(f"{self.url}{path}", data=params)

    def state(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.url}/_sim/companies/{self.company_id}").json())


@pytest.fixture
def hirehop() -> Iterator[HireHopWorld]:
    sim = HireHopSimulator(seed=3)
    url = sim.start()
    company_id = next(_company_ids)
    _company, token, ids = sim.add_company(company_id, export_key="ek-test")
    try:
        yield HireHopWorld(sim, url, company_id, token, "ek-test", ids)
    finally:
        sim.stop()


# ---------------------------------------------------------------------------------------------- the sync


def package_from_sim(qbo: QboWorld, realm: str, package_id: str, **overrides: Any) -> Package:
    """A package whose defaults and maps point at the seeded QuickBooks company's real ids."""
    accounts = qbo.control.objects(realm, "Account")
    by_type = {}
    for a in accounts:
        by_type.setdefault(a["AccountType"], a["Id"])
    income = [a for a in accounts if a["AccountType"] == "Income"]
    codes = {t["Name"]: t["Id"] for t in qbo.control.objects(realm, "TaxCode")}
    us = realm == US
    fields: dict[str, Any] = {
        "package_id": package_id,
        "name": "US books" if us else "UK books",
        "realm_id": realm,
        "country": "US" if us else "GB",
        "default_bank_account": by_type["Bank"],
        "default_revenue_account": income[0]["Id"],
        "default_expense_account": by_type.get("Expense"),
        "ap_account": by_type["Accounts Payable"],
        "nominal_accounts": {
            "1": income[0]["Id"],
            "2": income[1]["Id"],
            "3": income[3]["Id"],
            "5": by_type["Cost of Goods Sold"],
        },
        "account_names": {a["Id"]: a["Name"] for a in accounts},
    }
    if us:
        fields["us_sales_tax_code"] = codes["Boston"]
    else:
        fields["tax_codes"] = {"*:1": codes["20.0% S"], "*:2": codes["Exempt"], "*:3": codes["5.0% R"]}
    fields.update(overrides)
    return Package(**fields)


def two_packages(qbo: QboWorld, company_id: int, hirehop_url: str, depots: list[int]) -> CompanySettings:
    """Main Warehouse and the default go to the US company, North Depot (and so its virtual Festival Unit) to the UK
    company."""
    main, north, _festival = depots
    return CompanySettings(
        company_id=company_id,
        hirehop_url=hirehop_url,
        packages={"us": package_from_sim(qbo, US, "us"), "uk": package_from_sim(qbo, UK, "uk")},
        default_package="us",
        depot_packages={str(main): "us", str(north): "uk"},
    )


def stored_entry(outbox: Any, company_id: int, kind: str, doc: dict[str, Any]) -> OutboxEntry:
    """What the intake would have stored for this document's event."""
    entry = OutboxEntry(
        company_id,
        uuid.uuid4().hex[:32],
        kind,
        str(doc["ID"]),
        f"{kind}.test",
        "2026-12-04 10:00:00",
        time.time(),
        {"data": doc, "changes": {}},
    )
    outbox.put_if_absent(entry)
    return entry


@dataclass
class SyncWorld:
    qbo: QboWorld
    hh: HireHopWorld
    aws: AwsWorld
    settings: CompanySettings
    idmap: DynamoIdMap
    outbox: DynamoOutbox

    @property
    def company_id(self) -> int:
        return self.hh.company_id

    def source(self) -> HireHopClient:
        return HireHopClient(
            base_url=self.hh.url,
            token=self.hh.token,
            clock=self.hh.sim.clock,
            retry=RetryPolicy(max_attempts=6, base_delay=0.05, max_delay=0.5),
        )

    def pusher(self, cache: RunCache | None = None, **client_kw: Any) -> Pusher:
        clients: dict[str, QboHttpClient] = {}

        def gateway_for(realm: str) -> QboHttpClient:
            if realm not in clients:
                clients[realm] = self.qbo.client(realm, **client_kw)
            return clients[realm]

        source = self.source()
        return Pusher(
            company_id=self.company_id,
            settings=self.settings,
            source=source,
            gateway_for=gateway_for,
            idmap=self.idmap,
            clock=self.qbo.sim.clock,
            cache=cache or RunCache(source),
        )

    def entry(self, kind: str, doc: dict[str, Any]) -> OutboxEntry:
        return stored_entry(self.outbox, self.company_id, kind, doc)

    def push(self, kind: str, doc: dict[str, Any], **kw: Any) -> PushOutcome:
        return push_and_record(self.pusher(), self.outbox, self.entry(kind, doc), **kw)

    def objects(self, entity: str, realm: str = US) -> list[dict[str, Any]]:
        return self.qbo.control.objects(realm, entity)

    def reconcile(self, jobs: list[int] | None = None) -> Reconciliation:
        pusher = self.pusher()
        return reconcile(
            company_id=self.company_id,
            settings=self.settings,
            source=self.source(),
            gateway_for=pusher.gateway_for,
            idmap=self.idmap,
            job_ids=jobs or self.hh.ids["jobs"],
        )


@pytest.fixture
def sync(qbo: QboWorld, hirehop: HireHopWorld, local_aws: AwsWorld) -> SyncWorld:
    """HireHop company -> packages: Main Warehouse and the default go to the US company, North Depot (and so its
    virtual Festival Unit) to the UK company."""
    hirehop.sim.clock.set_scale(60)  # HireHop's 60 a minute, in a test's seconds
    qbo.sim.clock.set_scale(10)  # QuickBooks' 500 a minute in six seconds (tokens still last six minutes)
    settings = two_packages(qbo, hirehop.company_id, hirehop.url, hirehop.ids["depots"])
    return SyncWorld(
        qbo,
        hirehop,
        local_aws,
        settings,
        DynamoIdMap(local_aws.table("IdMapTable")),
        DynamoOutbox(local_aws.table("OutboxTable")),
    )


def store_tokens(connections: DynamoConnections, realm: str, tokens: TokenSet, company_id: int, package: str) -> None:
    """What the callback stores when a person connects a QuickBooks company."""
    connections.save(Connection(realm, company_id, package, CONNECTED, tokens, connected_at=time.time()), None)


@dataclass
class LiveWorld:
    intake: IntakeWorld
    qbo: QboWorld
    settings: CompanySettings
    secrets: Any
    connections: DynamoConnections

    def buffered(self, package: str = "us") -> None:
        """Switch a package to buffered mode, as the set-up would."""
        self.settings.packages[package] = self.settings.packages[package].model_copy(update={"mode": "buffered"})
        DynamoSettings(self.intake.aws.table("SettingsTable")).put(self.settings)

    def approve(self, job: int, lines: list[dict[str, Any]]) -> Any:
        """A HireHop user raises and approves an invoice; HireHop's webhooks go to push_document."""
        return self.intake.act(
            "approve_invoice", invoice_id=self.intake.act("create_invoice", job_id=job, lines=lines)["ID"]
        )

    def delivered(self, n: int, seconds: float = 15.0) -> list[dict[str, Any]]:
        """Wait until HireHop has had the answers to n webhooks (it posts, waits, and moves on)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(self.intake.hirehop.sent) < n:
            time.sleep(0.02)
        return list(self.intake.hirehop.sent)


@pytest.fixture
def live(intake: IntakeWorld, qbo: QboWorld) -> Iterator[LiveWorld]:
    """The intake world, set up for live mode: a US package for Main Warehouse and the default, a UK one for North
    Depot; the HireHop API token and the QuickBooks tokens in Secrets Manager; push_document pointed at the
    QuickBooks simulator."""
    intake.hirehop.clock.set_scale(60)
    os.environ["QBO_API_BASE_URL"] = qbo.url
    live_settings.cache_clear()
    settings = two_packages(qbo, intake.company_id, intake.hirehop_url, intake.ids["depots"])
    DynamoSettings(intake.aws.table("SettingsTable")).put(settings)
    secrets = SecretsManagerStore(intake.aws.aws.client("secretsmanager"), "hirebooks-local")
    secrets.put(hirehop_secret_name(intake.company_id), intake.api_token)
    connections = DynamoConnections(intake.aws.table("ConnectionsTable"))
    for realm, package_id in ((US, "us"), (UK, "uk")):
        store_tokens(connections, realm, qbo.tokens.tokens(realm), intake.company_id, package_id)
    try:
        yield LiveWorld(intake, qbo, settings, secrets, connections)
    finally:
        os.environ.pop("QBO_API_BASE_URL", None)
        live_settings.cache_clear()


ADMIN_TOKEN = "admin-secret-for-tests"


@pytest.fixture
def flush_api(live: LiveWorld) -> LiveWorld:
    """The live world with an admin token for the admin routes."""
    live.secrets.put("admin-token", ADMIN_TOKEN)
    return live


_realm_ids = itertools.count(9130350000100001)


@dataclass
class InboundWorld:
    """QuickBooks to HireHop: a fresh US QuickBooks company (ids in the id map's reverse index are per realm, and
    the session's tables outlive each test's simulator) whose signed webhooks go to the gateway's qb_webhook, and
    the SQS poller standing in for the event source mapping."""

    live: LiveWorld
    realm: str
    poller: QueuePoller
    verifier: str

    @property
    def gateway_url(self) -> str:
        return self.live.intake.gateway_url

    @property
    def webhook_url(self) -> str:
        return f"{self.gateway_url}/quickbooks/webhook"

    def sync_deps(self) -> SyncDeps:
        return sync_deps_from(live_settings(), boto3.resource("dynamodb"), boto3.client("secretsmanager"))

    def push(self, kind: str, doc: dict[str, Any]) -> Any:
        """Push a HireHop document to QuickBooks as push_document would (through the library, not an event)."""
        deps = self.sync_deps()
        pusher = build_pusher(self.live.intake.company_id, deps)
        entry = stored_entry(deps.outbox, self.live.intake.company_id, kind, doc)
        return push_and_record(pusher, deps.outbox, entry)

    def ui(self, entity: str, body: dict[str, Any], operation: str = "create") -> dict[str, Any]:
        """Act in QuickBooks as a bookkeeper would (its webhooks fire)."""
        return self.live.qbo.control.ui(self.realm, entity, body, operation)

    def deliver(self, seconds: float = 20.0) -> None:
        """Wait until QuickBooks has delivered its webhooks and the worker has emptied the queue."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state = self.live.qbo.control.webhooks()
            if state["waiting"] == 0 and state["head"] is None:
                break
            time.sleep(0.05)
        assert self.poller.drain(max(deadline - time.monotonic(), 1.0)), "the queue did not drain"

    def invoice(self, invoice_id: int) -> dict[str, Any]:
        state = requests.get(f"{self.live.intake.hirehop_url}/_sim/companies/{self.live.intake.company_id}").json()
        return dict(next(i for i in state["invoices"] if int(i["ID"]) == invoice_id))

    def billing(self, job_id: int) -> list[dict[str, Any]]:
        resp = requests.get(
            f"{self.live.intake.hirehop_url}/php_functions/billing_list.php",
            params={"main_id": job_id, "type": 1, "token": self.live.intake.api_token},
        )
        return list(resp.json()["rows"])


@pytest.fixture
def inbound(live: LiveWorld) -> Iterator[InboundWorld]:
    qbo = live.qbo
    realm = str(next(_realm_ids))
    qbo.sim.add_realm("US", realm)
    qbo.connect(realm)
    store_tokens(live.connections, realm, qbo.tokens.tokens(realm), live.intake.company_id, "us")
    bank = qbo.first(realm, "Account", AccountType="Bank")["Id"]
    package = package_from_sim(qbo, US, "us", realm_id=realm, bank_accounts={"1": bank})
    settings = live.settings.model_copy(update={"packages": {"us": package}, "depot_packages": {}})
    DynamoSettings(live.intake.aws.table("SettingsTable")).put(settings)
    live.settings = settings
    verifier = f"verifier-{uuid.uuid4().hex[:8]}"
    live.secrets.put("intuit-verifier-token", verifier)
    url = f"{live.intake.gateway_url}/quickbooks/webhook"
    qbo.control.webhooks(url=url, verifier_token=verifier, enabled=True)
    sqs = live.intake.aws.aws.client("sqs")
    # A queue of this test's own (the template's, by name), so nothing left by another test reaches this one.
    queue_url = sqs.create_queue(QueueName=f"{live.intake.aws.tables['QboChangesQueue'].rsplit('/', 1)[-1]}-{realm}")[
        "QueueUrl"
    ]
    os.environ["QBO_CHANGES_QUEUE_URL"] = queue_url
    webhook_settings.cache_clear()
    gateway = live.intake.gateway
    poller = QueuePoller(sqs, queue_url, lambda event: gateway.invoke("QbWebhookFunction", event)).start()
    try:
        yield InboundWorld(live, realm, poller, verifier)
    finally:
        poller.stop()
        qbo.control.webhooks(enabled=False)
