"""push_document: HireHop's webhook intake, POST /hirehop/{tenant}/events.

Authenticates (URL token and export_key), validates, writes the event ahead to the outbox, and answers 202.
The work is in hirebooks.sync.intake; this file parses the event, wires the adapters once, and shapes the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext
from hirebooks.config import live_settings
from hirebooks.observability import logger, metrics, tracer
from hirebooks.ports import TenantDirectory
from hirebooks.store.dynamo import DynamoTenantDirectory
from hirebooks.wiring import SyncDeps, receive_hirehop_event, sync_deps_from

app = APIGatewayHttpResolver()


@dataclass(frozen=True)
class Deps:
    tenants: TenantDirectory
    sync: SyncDeps
    max_bytes: int
    budget_seconds: float
    margin_seconds: float


@lru_cache(maxsize=1)
def build_deps() -> Deps:
    settings = live_settings()
    dynamodb = boto3.resource("dynamodb")
    settings_table = dynamodb.Table(settings.SETTINGS_TABLE_NAME)
    return Deps(
        tenants=DynamoTenantDirectory(settings_table),
        sync=sync_deps_from(settings, dynamodb, boto3.client("secretsmanager"), boto3.client("sns")),
        max_bytes=settings.MAX_EVENT_BYTES,
        budget_seconds=settings.LIVE_PUSH_BUDGET_SECONDS,
        margin_seconds=settings.LIVE_PUSH_MARGIN_SECONDS,
    )


def _json(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


@app.post("/hirehop/<tenant>/events")
def hirehop_event(tenant: str) -> Response[dict[str, Any]]:
    deps: Deps = app.context["deps"]
    event = app.current_event
    raw = event.decoded_body or ""
    body = raw.encode() if isinstance(raw, str) else raw
    left = app.lambda_context.get_remaining_time_in_millis() / 1000 - deps.margin_seconds
    status, answer = receive_hirehop_event(
        tenant,
        body,
        tenants=deps.tenants,
        sync=deps.sync,
        max_bytes=deps.max_bytes,
        budget_seconds=min(deps.budget_seconds, left),
    )
    return _json(status, answer)


@app.not_found
def not_found(_: NotFoundError) -> Response[dict[str, Any]]:
    return _json(404, {"error": "not_found", "message": "HireHop events go to POST /hirehop/{tenant}/events."})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, deps: Deps | None = None) -> dict[str, Any]:
    app.append_context(deps=deps or build_deps())
    return app.resolve(event, context)
