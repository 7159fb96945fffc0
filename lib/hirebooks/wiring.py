"""Adapter factories the functions share: a Pusher for a company, built from the stores and the secrets.

Each function's app.py stays its own composition root (it decides which tables and clients exist); this module only
knows how to assemble a Pusher from them, so push_document and flush_buffer build it the same way.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hirebooks import errors as E
from hirebooks.clock import SystemClock
from hirebooks.config import LiveSettings, WebhookSettings
from hirebooks.hirehop.client import PACERS, HireHopClient
from hirebooks.observability import logger, metrics
from hirebooks.ports import (
    Clock,
    ConnectionStore,
    IdMap,
    Lease,
    Notifier,
    Outbox,
    SecretStore,
    SettingsRepository,
    TenantDirectory,
    WritebackLedger,
)
from hirebooks.qbo.client import QboHttpClient
from hirebooks.qbo.connection import TokenKeeper
from hirebooks.qbo.oauth import OAuthEndpoints, QboOAuthClient
from hirebooks.qbo.tokens import StoredTokenProvider
from hirebooks.retry import RetryPolicy
from hirebooks.store.dynamo import (
    DynamoCompanies,
    DynamoConnections,
    DynamoIdMap,
    DynamoInboundLog,
    DynamoLease,
    DynamoOutbox,
    DynamoSettings,
    DynamoWritebackLedger,
)
from hirebooks.store.notify import SnsNotifier
from hirebooks.store.queues import SqsChangeQueue
from hirebooks.store.secrets import SecretsManagerStore
from hirebooks.sync.flush import FlushReport, flush_company
from hirebooks.sync.inbound import process_change, receive_quickbooks_webhook, sweep_realm
from hirebooks.sync.intake import IntakeRejected, accept_hirehop_event
from hirebooks.sync.model import DONE
from hirebooks.sync.push import Pusher, PushOutcome, RunCache, push_and_record
from hirebooks.sync.settings import CompanySettings
from hirebooks.sync.writeback import QboChange, WriteBack, WritebackOutcome


def hirehop_secret_name(company_id: int) -> str:
    return f"hirehop/{company_id}"


@dataclass
class SyncDeps:
    settings: SettingsRepository
    outbox: Outbox
    idmap: IdMap
    secrets: SecretStore
    qbo_base_url: str
    connections: ConnectionStore
    clock: Clock = field(default_factory=SystemClock)
    hirehop_per_minute: int = 60
    hirehop_per_second: int = 3
    lease: Lease | None = None  # with the Intuit app's credentials: refresh a refused token (the locked path)
    oauth_base_url: str | None = None
    notifier: Notifier | None = None
    reconnect_link: str = ""
    _keeper: TokenKeeper | None = None

    def keeper(self) -> TokenKeeper | None:
        """The locked refresh path, if this function may take it (it has the Intuit app's credentials)."""
        if self._keeper is None and self.lease is not None:
            app = intuit_app(self.secrets)
            if app is None:
                return None
            self._keeper = TokenKeeper(
                store=self.connections,
                oauth=self.oauth_client(app),
                lease=self.lease,
                clock=self.clock,
                notifier=self.notifier,
                reconnect_link=self.reconnect_link,
            )
        return self._keeper

    def oauth_client(self, app: dict[str, str]) -> QboOAuthClient:
        """Intuit's OAuth endpoints (or the local stack's simulator) for the app's credentials."""
        endpoints = OAuthEndpoints.on(self.oauth_base_url) if self.oauth_base_url else OAuthEndpoints()
        return QboOAuthClient(app["client_id"], app["client_secret"], endpoints)

    def tokens(self) -> StoredTokenProvider:
        return StoredTokenProvider(self.connections, self.clock, keeper=self.keeper())


def qbo_client(
    deps: SyncDeps, realm_id: str, *, tokens: StoredTokenProvider | None = None, call_deadline: float | None = None
) -> QboHttpClient:
    """The QuickBooks client of one realm, as every function builds it (pass `tokens` to share one cache)."""
    return QboHttpClient(
        base_url=deps.qbo_base_url,
        realm_id=realm_id,
        tokens=tokens or deps.tokens(),
        clock=deps.clock,
        retry=RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4, deadline=call_deadline),
    )


INTUIT_APP_SECRET = "intuit-app"  # noqa: S105 - a secret's name: JSON {client_id, client_secret, redirect_uri}


def intuit_app(secrets: SecretStore) -> dict[str, str] | None:
    text = secrets.get(INTUIT_APP_SECRET)
    return None if not text else {k: str(v) for k, v in json.loads(text).items()}


def sync_deps_from(settings: LiveSettings, dynamodb: Any, secretsmanager: Any, sns: Any = None) -> SyncDeps:
    """The stores and settings a push or a flush works with, from the function's environment."""
    return SyncDeps(
        connections=DynamoConnections(dynamodb.Table(settings.CONNECTIONS_TABLE_NAME)),
        lease=DynamoLease(dynamodb.Table(settings.SETTINGS_TABLE_NAME)),
        oauth_base_url=settings.INTUIT_OAUTH_BASE_URL,
        notifier=SnsNotifier(sns, settings.NOTIFY_TOPIC_ARN) if sns is not None and settings.NOTIFY_TOPIC_ARN else None,
        reconnect_link=settings.RECONNECT_LINK,
        settings=DynamoSettings(dynamodb.Table(settings.SETTINGS_TABLE_NAME)),
        outbox=DynamoOutbox(dynamodb.Table(settings.OUTBOX_TABLE_NAME)),
        idmap=DynamoIdMap(dynamodb.Table(settings.IDMAP_TABLE_NAME)),
        secrets=SecretsManagerStore(secretsmanager, settings.SECRETS_PREFIX),
        qbo_base_url=settings.QBO_API_BASE_URL,
        hirehop_per_minute=settings.HIREHOP_REQUESTS_PER_MINUTE,
        hirehop_per_second=settings.HIREHOP_REQUESTS_PER_SECOND,
    )


def build_pusher(
    company_id: int, deps: SyncDeps, *, call_deadline: float | None = None, settings: CompanySettings | None = None
) -> Pusher:
    """Raises NeedsSetupError when the company is not set up or has no HireHop token. Pass `settings` when the
    caller has just read them."""
    settings = settings or deps.settings.get(company_id)
    if settings is None:
        raise E.NeedsSetupError(
            f"HireBooks has no set-up for HireHop company {company_id} yet: create an accounting package first"
        )
    token = deps.secrets.get(hirehop_secret_name(company_id))
    if not token:
        raise E.NeedsSetupError(
            f"HireBooks has no HireHop API token for company {company_id}: add the API user's token in the set-up"
        )
    source = HireHopClient(
        base_url=settings.hirehop_url,
        token=token,
        clock=deps.clock,
        pacer=PACERS.for_token(token, deps.clock, deps.hirehop_per_minute, deps.hirehop_per_second),
        retry=RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=4, deadline=call_deadline),
    )
    tokens = deps.tokens()
    clients: dict[str, QboHttpClient] = {}

    def gateway_for(realm_id: str) -> QboHttpClient:
        if realm_id not in clients:
            clients[realm_id] = qbo_client(deps, realm_id, tokens=tokens, call_deadline=call_deadline)
        return clients[realm_id]

    return Pusher(
        company_id=company_id,
        settings=settings,
        source=source,
        gateway_for=gateway_for,
        idmap=deps.idmap,
        clock=deps.clock,
        cache=RunCache(source),
    )


def live_push(company_id: int, entry_ids: list[str], deps: SyncDeps, budget_seconds: float) -> list[dict[str, Any]]:
    """Push just-accepted entries now, within the budget; whatever fails or does not fit waits in the buffer."""
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    entries = [e for e in (deps.outbox.get(company_id, i) for i in entry_ids) if e is not None and e.status not in DONE]
    if not entries:
        return results
    try:
        pusher = build_pusher(company_id, deps, call_deadline=budget_seconds / 2)
    except E.NeedsSetupError as exc:
        for entry in entries:
            deps.outbox.mark(entry, "needs_setup", str(exc), now=deps.clock.time())
            results.append({"entry": entry.entry_id, "status": "needs_setup", "reason": str(exc)})
        return results
    for entry in entries:
        if time.monotonic() - started > budget_seconds:
            results.append({"entry": entry.entry_id, "status": entry.status, "reason": "left for the next sync"})
            continue
        outcome: PushOutcome = push_and_record(pusher, deps.outbox, entry)
        results.append({"entry": entry.entry_id, "status": outcome.status, "reason": outcome.reason})
    return results


def _groups_sharing_realms(realms_of: dict[int, set[str]]) -> list[list[int]]:
    """Companies that share a QuickBooks company must take turns (one lease per realm); the rest need not."""
    groups: list[tuple[set[str], list[int]]] = []
    for company, realms in realms_of.items():
        joined = [g for g in groups if g[0] & realms]
        merged_realms, merged = set(realms), [company]
        for g in joined:
            merged_realms |= g[0]
            merged = g[1] + merged
            groups.remove(g)
        groups.append((merged_realms, merged))
    return [companies for _, companies in groups]


def flush(
    company_ids: list[int],
    deps: SyncDeps,
    lease: Lease,
    time_left: Callable[[], float],
    margin: float = 5.0,
    parallel: int = 8,
    reconnected: bool = False,
) -> list[FlushReport]:
    """Flush companies side by side where they use different QuickBooks companies (realms go in parallel and none
    waits behind another's backlog), one after another where they share one; each stops with the margin."""
    if not company_ids or time_left() < margin:
        return []
    settings_of = {company_id: deps.settings.get(company_id) for company_id in company_ids}
    realms_of = {c: ({p.realm_id for p in s.packages.values()} if s else set()) for c, s in settings_of.items()}

    def one(company_id: int) -> FlushReport:
        def make_pusher() -> Pusher:
            return build_pusher(
                company_id, deps, call_deadline=max(time_left() - margin, 1.0), settings=settings_of[company_id]
            )

        return flush_company(
            company_id,
            outbox=deps.outbox,
            lease=lease,
            realms=sorted(realms_of[company_id]),
            make_pusher=make_pusher,
            clock=deps.clock,
            time_left=time_left,
            margin=margin,
            reconnected=reconnected,
        )

    def in_turn(group: list[int]) -> list[FlushReport]:
        return [one(company_id) for company_id in group if time_left() >= margin]

    groups = _groups_sharing_realms(realms_of)
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(groups)))) as pool:
        return [report for reports in pool.map(in_turn, groups) for report in reports]


def receive_hirehop_event(
    tenant_token: str,
    body: bytes,
    *,
    tenants: TenantDirectory,
    sync: SyncDeps,
    max_bytes: int,
    budget_seconds: float,
) -> tuple[int, dict[str, Any]]:
    """push_document's work: accept (or refuse) the event, then, in live mode, push it within the budget.
    Returns the HTTP status and the JSON answer."""
    try:
        result = accept_hirehop_event(
            tenant_token=tenant_token,
            body=body,
            tenants=tenants,
            outbox=sync.outbox,
            now=time.time(),
            max_bytes=max_bytes,
        )
    except IntakeRejected as rejected:
        metrics.add_metric(name="HireHopEventRejected", unit=MetricUnit.Count, value=1)
        logger.warning("HireHop event rejected", extra={"code": rejected.code, "status": rejected.status})
        return rejected.status, rejected.body()
    answer = result.body()
    if result.entry_ids:
        metrics.add_metric(name="HireHopEventAccepted", unit=MetricUnit.Count, value=1)
        # Live mode: the event is stored; now push it, within what is left of API Gateway's 30 seconds.
        company_id = int(json.loads(body)["company_id"])
        answer["pushed"] = live_push(company_id, result.entry_ids, sync, budget_seconds)
        for pushed in answer["pushed"]:
            name = "DocumentsPushed" if pushed["status"] == "synced" else "DocumentsBuffered"
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="HireHopEventNoted", unit=MetricUnit.Count, value=1)
    logger.info(
        "HireHop event accepted",
        extra={
            "entries": result.entry_ids,
            "kind": result.classification.kind,
            "note": result.classification.reason,
            "duplicate": result.duplicate,
            "pushed": [p["status"] for p in answer.get("pushed", [])],
        },
    )
    return 202, answer


# ====================================================================== QuickBooks to HireHop (qb_webhook)
INTUIT_VERIFIER_SECRET = "intuit-verifier-token"  # noqa: S105 - a secret's name, not a secret


def build_writeback(deps: SyncDeps, ledger: WritebackLedger) -> WriteBack:
    """One per queue batch: each company's HireHop client (its token read once) and each realm's QuickBooks client
    (its access token cached) serve every change of the batch."""
    clients: dict[int, HireHopClient] = {}
    readers: dict[str, QboHttpClient] = {}
    tokens = deps.tokens()

    def reader_for(realm_id: str) -> QboHttpClient:
        if realm_id not in readers:
            readers[realm_id] = qbo_client(deps, realm_id, tokens=tokens)
        return readers[realm_id]

    def hirehop_for(company_id: int, settings: CompanySettings) -> HireHopClient:
        if company_id in clients:
            return clients[company_id]
        token = deps.secrets.get(hirehop_secret_name(company_id))
        if not token:
            raise E.NeedsSetupError(f"HireBooks has no HireHop API token for company {company_id}")
        clients[company_id] = HireHopClient(
            base_url=settings.hirehop_url,
            token=token,
            clock=deps.clock,
            pacer=PACERS.for_token(token, deps.clock, deps.hirehop_per_minute, deps.hirehop_per_second),
        )
        return clients[company_id]

    return WriteBack(
        idmap=deps.idmap,
        ledger=ledger,
        settings=deps.settings,
        reader_for=reader_for,
        hirehop_for=hirehop_for,
        clock=deps.clock,
    )


def realms_to_sweep(deps: SyncDeps, company_ids: list[int]) -> list[str]:
    realms: set[str] = set()
    for company_id in company_ids:
        settings = deps.settings.get(company_id)
        if settings is not None:
            realms |= {p.realm_id for p in settings.packages.values()}
    return sorted(realms)


@dataclass
class InboundDeps:
    """qb_webhook's stores: the sync's, plus its queue, its inbound log and the write-back ledger."""

    sync: SyncDeps
    queue: SqsChangeQueue
    log: DynamoInboundLog
    ledger: WritebackLedger
    lease: Lease
    companies: DynamoCompanies
    _verifier: str | None = None

    def verifier_token(self) -> str:
        if self._verifier is None:
            self._verifier = self.sync.secrets.get(INTUIT_VERIFIER_SECRET) or ""
        return self._verifier


def inbound_deps_from(
    settings: WebhookSettings, dynamodb: Any, secretsmanager: Any, sqs: Any, sns: Any = None
) -> InboundDeps:
    sync = sync_deps_from(settings, dynamodb, secretsmanager, sns)
    settings_table = dynamodb.Table(settings.SETTINGS_TABLE_NAME)
    return InboundDeps(
        sync=sync,
        queue=SqsChangeQueue(sqs, settings.QBO_CHANGES_QUEUE_URL),
        log=DynamoInboundLog(dynamodb.Table(settings.INBOUND_TABLE_NAME)),
        ledger=DynamoWritebackLedger(dynamodb.Table(settings.IDMAP_TABLE_NAME)),
        lease=DynamoLease(settings_table),
        companies=DynamoCompanies(settings_table),
    )


def receive_quickbooks(raw_body: bytes, signature: str | None, deps: InboundDeps) -> tuple[int, dict[str, Any]]:
    """qb_webhook's HTTP work: verify, park or enqueue, answer (no QuickBooks or HireHop call on this path)."""
    metrics.add_metric(name="WebhooksReceived", unit=MetricUnit.Count, value=1)
    answer = receive_quickbooks_webhook(
        raw_body, signature, deps.verifier_token(), queue=deps.queue, log=deps.log, now=time.time()
    )
    if answer.status == 401:
        metrics.add_metric(name="WebhookRejected", unit=MetricUnit.Count, value=1)
        logger.warning("QuickBooks webhook rejected", extra={"reason": answer.body["message"], "bytes": len(raw_body)})
    elif answer.parked:
        metrics.add_metric(name="WebhookParked", unit=MetricUnit.Count, value=1)
        logger.warning("QuickBooks webhook kept for inspection", extra={"parked": answer.parked})
    else:
        metrics.add_metric(name="WebhookEventsQueued", unit=MetricUnit.Count, value=answer.queued)
        logger.info("QuickBooks webhook queued", extra={"queued": answer.queued, "ignored": answer.ignored})
    return answer.status, answer.body


def work_change(change: QboChange, deps: InboundDeps, writeback: WriteBack) -> WritebackOutcome:
    """The queue worker's step for one change, one worker per QuickBooks object at a time (a lease)."""
    name = f"writeback#{change.realm_id}#{change.entity}#{change.entity_id}"
    holder = uuid.uuid4().hex
    if not deps.lease.acquire(name, holder, time.time(), ttl=120):
        raise E.TransientError(f"another worker is applying QuickBooks {change.entity} {change.entity_id}")
    try:
        step = process_change(change, writeback=writeback, log=deps.log, now=time.time())
    finally:
        deps.lease.release(name, holder)
    if step.duplicate:
        metrics.add_metric(name="WebhooksDeduplicated", unit=MetricUnit.Count, value=1)
    elif step.outcome.status == "applied":
        metrics.add_metric(name="PaymentsWrittenBack", unit=MetricUnit.Count, value=1)
        lag = _seconds_since(change.occurred_at)
        if lag is not None:
            metrics.add_metric(name="WritebackLagSeconds", unit=MetricUnit.Seconds, value=lag)
    logger.info(
        "QuickBooks change",
        extra={
            "realm": change.realm_id,
            "entity": change.entity,
            "id": change.entity_id,
            "operation": change.operation,
            "origin": change.origin,
            "status": step.outcome.status,
            "reason": step.outcome.reason,
        },
    )
    return step.outcome


def _seconds_since(iso: str) -> float | None:
    try:
        return max(time.time() - datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp(), 0.0)
    except ValueError:
        return None


def sweep(deps: InboundDeps, realm_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """The CDC sweep over every connected realm (or the ones named): feeds the queue, moves each mark."""
    realms = realm_ids if realm_ids is not None else realms_to_sweep(deps.sync, deps.companies.all())
    reports: list[dict[str, Any]] = []
    for realm_id in realms:
        try:
            report = sweep_realm(
                realm_id,
                qbo_client(deps.sync, realm_id),
                queue=deps.queue,
                log=deps.log,
                now=lambda: datetime.now(UTC),
            )
        except E.HireBooksError as exc:
            logger.warning("CDC sweep failed for a realm", extra={"realm": realm_id, "error": str(exc)})
            reports.append({"realm_id": realm_id, "error": str(exc)})
            continue
        metrics.add_metric(name="CdcChangesQueued", unit=MetricUnit.Count, value=report.queued)
        reports.append({"realm_id": realm_id, "since": report.since, "until": report.until, "queued": report.queued})
    logger.info("CDC sweep done", extra={"realms": reports})
    return reports
