"""The local stack in one object: moto's AWS with the template's tables, the QuickBooks and HireHop simulators, and
the gateway in front of the real handlers. Used by `make demo` and the end-to-end tests."""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
from hhsim import HireHopSimulator
from hirebooks.store.dynamo import DynamoOutbox, DynamoTenantDirectory
from qbosim import QboSimulator

from .aws import LocalAws, create_queues, create_tables
from .gateway import LocalGateway


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
    hirehop_scale: float = 60.0  # the HireHop simulator's clock: its 60 calls a minute pass in a second

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
        self.gateway = LocalGateway(self.tables)
        self.urls = {
            "aws": self.aws.url,
            "gateway": self.gateway.start(),
            "quickbooks": self.qbo.start(),
            "hirehop": self.hirehop.start(),
        }
        return self

    def __exit__(self, *exc: object) -> None:
        self.hirehop.stop()
        self.qbo.stop()
        if self.gateway is not None:
            self.gateway.stop()
        self.aws.stop()

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
