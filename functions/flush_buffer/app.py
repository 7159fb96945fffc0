"""flush_buffer: the buffer. Flushes it on the EventBridge schedule and on POST /buffer/flush; serves the
"Invoices to export" report (GET /buffer), POST /buffer/{id}/retry and POST /buffer/{id}/discard.

The work is in hirebooks.sync.flush, hirebooks.sync.buffer and hirebooks.wiring. The HTTP routes need the admin token
(Authorization: Bearer ...), kept in Secrets Manager as <prefix>/admin-token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from hirebooks.adminapi import change_request, flush_request, report_request, status_request
from hirebooks.config import flush_settings
from hirebooks.observability import logger, metrics, tracer
from hirebooks.ports import Lease
from hirebooks.store.dynamo import DynamoCompanies, DynamoLease
from hirebooks.wiring import SyncDeps, flush, sync_deps_from

app = APIGatewayHttpResolver()


@dataclass(frozen=True)
class Deps:
    sync: SyncDeps
    lease: Lease
    companies: DynamoCompanies
    margin_seconds: float


@lru_cache(maxsize=1)
def build_deps() -> Deps:
    settings = flush_settings()
    dynamodb = boto3.resource("dynamodb")
    settings_table = dynamodb.Table(settings.SETTINGS_TABLE_NAME)
    return Deps(
        sync=sync_deps_from(settings, dynamodb, boto3.client("secretsmanager"), boto3.client("sns")),
        lease=DynamoLease(settings_table),
        companies=DynamoCompanies(settings_table),
        margin_seconds=settings.FLUSH_MARGIN_SECONDS,
    )


def _run(deps: Deps, context: LambdaContext, company_ids: list[int], reconnected: bool = False) -> list[dict[str, Any]]:
    left = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
    reports = flush(company_ids, deps.sync, deps.lease, left, deps.margin_seconds, reconnected=reconnected)
    for done in reports:
        metrics.add_metric(name="DocumentsFlushed", unit=MetricUnit.Count, value=done.pushed)
    logger.info("flush done", extra={"reports": [r.as_dict() for r in reports]})
    return [r.as_dict() for r in reports]


def _json(answer: tuple[int, dict[str, Any]]) -> Response[dict[str, Any]]:
    return Response(status_code=answer[0], content_type="application/json", body=json.dumps(answer[1]))


def _auth() -> str | None:
    return (app.current_event.headers or {}).get("authorization")


@app.post("/buffer/flush")
def flush_route() -> Response[dict[str, Any]]:
    deps: Deps = app.context["deps"]
    return _json(
        flush_request(
            _auth(),
            app.current_event.body,
            deps.sync.secrets,
            deps.companies.all,
            lambda ids: _run(deps, app.lambda_context, ids),
        )
    )


@app.get("/buffer")
def report_route() -> Response[dict[str, Any]]:
    deps: Deps = app.context["deps"]
    query = app.current_event.query_string_parameters or {}
    return _json(report_request(_auth(), query, deps.sync.secrets, deps.sync.outbox, deps.sync.settings))


@app.post("/buffer/<entry_id>/<action>")
def change_route(entry_id: str, action: str) -> Response[dict[str, Any]]:
    deps: Deps = app.context["deps"]
    return _json(change_request(_auth(), entry_id, action, app.current_event.body, deps.sync.secrets, deps.sync.outbox))


@app.get("/status")
def status_route() -> Response[dict[str, Any]]:
    deps: Deps = app.context["deps"]
    query = app.current_event.query_string_parameters or {}
    return _json(status_request(_auth(), query, deps.sync))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, deps: Deps | None = None) -> dict[str, Any]:
    deps = deps or build_deps()
    if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        return {"reports": _run(deps, context, deps.companies.all())}
    if event.get("source") == "hirebooks.reconnect":  # token_refresh, after a QuickBooks company is connected again
        return {"reports": _run(deps, context, [int(c) for c in event.get("company_ids", [])], reconnected=True)}
    app.append_context(deps=deps)
    return app.resolve(event, context)
