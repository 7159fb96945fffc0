"""flush_buffer: the buffer. Flushes it on the EventBridge schedule and on POST /buffer/flush; serves the
"Invoices to export" report (GET /buffer), POST /buffer/{id}/retry and POST /buffer/{id}/discard.

The work is in hirebooks.sync.flush, hirebooks.sync.buffer and hirebooks.wiring. The HTTP routes need the admin token
(Authorization: Bearer ...), kept in Secrets Manager as <prefix>/admin-token.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from hirebooks.adminapi import check_admin, company_id, json_object
from hirebooks.config import flush_settings
from hirebooks.observability import logger, metrics, tracer
from hirebooks.ports import Lease
from hirebooks.store.dynamo import DynamoCompanies, DynamoLease
from hirebooks.sync.buffer import BufferError, BufferFilter, discard, report, retry
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
        sync=sync_deps_from(settings, dynamodb, boto3.client("secretsmanager")),
        lease=DynamoLease(settings_table),
        companies=DynamoCompanies(settings_table),
        margin_seconds=settings.FLUSH_MARGIN_SECONDS,
    )


def _run(deps: Deps, context: LambdaContext, company_ids: list[int]) -> list[dict[str, Any]]:
    reports = flush(
        company_ids, deps.sync, deps.lease, lambda: context.get_remaining_time_in_millis() / 1000, deps.margin_seconds
    )
    for done in reports:
        metrics.add_metric(name="DocumentsFlushed", unit=MetricUnit.Count, value=done.pushed)
    logger.info("flush done", extra={"reports": [r.as_dict() for r in reports]})
    return [r.as_dict() for r in reports]


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def _refused(error: BufferError) -> Response:
    metrics.add_metric(name="AdminRequestRejected", unit=MetricUnit.Count, value=1)
    return _json(error.status, error.body())


def _admin(deps: Deps) -> None:
    check_admin((app.current_event.headers or {}).get("authorization"), deps.sync.secrets)


@app.post("/buffer/flush")
def flush_route() -> Response:
    deps: Deps = app.context["deps"]
    try:
        _admin(deps)
        company = company_id(json_object(app.current_event.body).get("company_id"), required=False)
    except BufferError as error:
        return _refused(error)
    ids = [company] if company else deps.companies.all()
    return _json(200, {"reports": _run(deps, app.lambda_context, ids)})


@app.get("/buffer")
def report_route() -> Response:
    deps: Deps = app.context["deps"]
    query = app.current_event.query_string_parameters or {}
    try:
        _admin(deps)
        company = company_id(query.get("company_id")) or 0
        flt = BufferFilter.parse(query.get("status"), query.get("type"), query.get("package"))
    except BufferError as error:
        return _refused(error)
    result = report(company, deps.sync.outbox, deps.sync.settings.get(company), flt)
    metrics.add_metric(name="BufferReportServed", unit=MetricUnit.Count, value=1)
    return _json(200, result.as_dict())


@app.post("/buffer/<entry_id>/<action>")
def change_route(entry_id: str, action: str) -> Response:
    deps: Deps = app.context["deps"]
    try:
        _admin(deps)
        body = json_object(app.current_event.body)
        company = company_id(body.get("company_id")) or 0
        by = str(body.get("by") or "admin API")
        if action == "retry":
            entry = retry(company, entry_id, deps.sync.outbox, by=by, now=time.time())
        elif action == "discard":
            entry = discard(
                company,
                entry_id,
                deps.sync.outbox,
                by=str(body.get("by") or ""),
                why=str(body.get("why") or ""),
                now=time.time(),
            )
        else:
            raise BufferError(404, "not_found", "Buffer entries can be retried or discarded.")
    except BufferError as error:
        return _refused(error)
    metrics.add_metric(name=f"BufferEntry{action.title()}", unit=MetricUnit.Count, value=1)
    return _json(200, {"id": entry.entry_id, "status": entry.status, "reason": entry.reason})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, deps: Deps | None = None) -> dict[str, Any]:
    deps = deps or build_deps()
    if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        return {"reports": _run(deps, context, deps.companies.all())}
    app.append_context(deps=deps)
    return app.resolve(event, context)
