"""The local stack in one object: moto's AWS with the template's tables and queues, the QuickBooks and HireHop
simulators, the gateway in front of the real handlers, the SQS poller standing in for the event source mapping, and
the scheduler standing in for EventBridge. Used by `make demo`, `make up` and the end-to-end tests."""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
from hhsim import HireHopSimulator
from hirebooks.config import live_settings, token_settings, webhook_settings
from hirebooks.store.dynamo import DynamoOutbox, DynamoTenantDirectory
from hirebooks.store.secrets import SecretsManagerStore
from qbosim import QboSimulator

from .aws import LocalAws, create_queues, create_tables
from .gateway import LOCAL_STACK_NAME, LocalGateway
from .queues import QueuePoller
from .scheduler import Scheduler

LOCAL_APP = ("hirebooks-local-app", "local-app-secret")  # the Intuit app the local stack registers (not a secret)


@dataclass
class HireHopTenant:
    company_id: int
    export_key: str
    api_token: str
    tenant_token: str
    ids: dict[str, Any]


@dataclass
class LocalStack:
    aws: LocalAws = field(default_factory=LocalAws)
    qbo: QboSimulator = field(default_factory=QboSimulator)
    hirehop: HireHopSimulator = field(default_factory=HireHopSimulator)
    tables: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    gateway: LocalGateway | None = None
    poller: QueuePoller | None = None
    scheduler: Scheduler | None = None
    admin_token: str = ""
    hirehop_scale: float = 60.0  # the HireHop simulator's clock: its 60 calls a minute pass in a second
    schedule_speed: float = 180.0  # EventBridge's clock: a 15-minute schedule fires every 5 seconds

    def __enter__(self) -> LocalStack:
        self.hirehop.clock.set_scale(self.hirehop_scale)
        # HireBooks paces HireHop calls at 60 a minute and 3 a second; against a simulator whose clock runs faster
        # the same limits, in real seconds, are proportionally higher.
        os.environ["HIREHOP_REQUESTS_PER_MINUTE"] = str(int(60 * self.hirehop_scale))
        os.environ["HIREHOP_REQUESTS_PER_SECOND"] = str(int(3 * self.hirehop_scale))
        self.aws.start()
        prefix = f"hirebooks-{uuid.uuid4().hex[:6]}"
        self.tables = create_tables(self.aws.client("dynamodb"), prefix)
        self.tables.update(create_queues(self.aws.client("sqs"), prefix))
        self.urls = {"aws": self.aws.url, "quickbooks": self.qbo.start(), "hirehop": self.hirehop.start()}
        # The functions talk to the simulators instead of Intuit (deployment points these at Intuit's hosts).
        os.environ["QBO_API_BASE_URL"] = self.urls["quickbooks"]
        os.environ["INTUIT_OAUTH_BASE_URL"] = self.urls["quickbooks"]
        self.gateway = LocalGateway(self.tables)
        self.urls["gateway"] = self.gateway.start()
        for cached in (live_settings, webhook_settings, token_settings):
            cached.cache_clear()
        self._secrets_and_intuit_app()
        self.poller = QueuePoller(
            self.aws.client("sqs"),
            self.tables["QboChangesQueue"],
            lambda event: self.invoke("QbWebhookFunction", event),
        ).start()
        self.scheduler = Scheduler(self.invoke, self.schedule_speed)
        return self

    def _secrets_and_intuit_app(self) -> None:
        """What a deployer puts in Secrets Manager, and the Intuit app (the simulator's, with our callback)."""
        store = self.secrets
        self.admin_token = secrets.token_urlsafe(24)
        store.put("admin-token", self.admin_token)
        callback = f"{self.urls['gateway']}/quickbooks/callback"
        self.qbo.oauth.add_client(*LOCAL_APP, [callback])
        store.put(
            "intuit-app",
            json.dumps({"client_id": LOCAL_APP[0], "client_secret": LOCAL_APP[1], "redirect_uri": callback}),
        )
        verifier = secrets.token_urlsafe(16)
        store.put("intuit-verifier-token", verifier)
        cfg = self.qbo.webhooks.config
        cfg.url, cfg.verifier_token, cfg.enabled = f"{self.urls['gateway']}/quickbooks/webhook", verifier, True

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        assert self.gateway is not None
        return self.gateway.invoke(function, event)

    def __exit__(self, *exc: object) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.poller is not None:
            self.poller.stop()
        self.hirehop.stop()
        self.qbo.stop()
        if self.gateway is not None:
            self.gateway.stop()
        self.aws.stop()

    @property
    def secrets(self) -> SecretsManagerStore:
        return SecretsManagerStore(self.aws.client("secretsmanager"), LOCAL_STACK_NAME)

    def table(self, logical: str) -> Any:
        return boto3.resource("dynamodb", endpoint_url=self.aws.url).Table(self.tables[logical])

    @property
    def outbox(self) -> DynamoOutbox:
        return DynamoOutbox(self.table("OutboxTable"))

    def add_hirehop_company(self, company_id: int = 1, name: str = "Acme Stage Hire") -> HireHopTenant:
        """A HireHop company, registered as a HireBooks tenant, whose webhooks come to the gateway."""
        export_key = secrets.token_hex(6)
        tenant_token = DynamoTenantDirectory(self.table("SettingsTable")).register(company_id, export_key, name)
        _, api_token, ids = self.hirehop.add_company(company_id, name, export_key)
        self.hirehop.webhook_url = f"{self.urls['gateway']}/hirehop/{tenant_token}/events"
        return HireHopTenant(company_id, export_key, api_token, tenant_token, ids)
