"""flush_buffer: empties the buffer toward QuickBooks, on the EventBridge schedule and on POST /buffer/flush.

The work is in hirebooks.sync.flush (one company) and hirebooks.wiring.flush (each company while time lasts).
POST /buffer/flush needs the admin token (Authorization: Bearer ...), kept in Secrets Manager as <prefix>/admin-token.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from hirebooks.config import flush_settings
from hirebooks.observability import logger, metrics, tracer
from hirebooks.ports import Lease
from hirebooks.store.dynamo import DynamoCompanies, DynamoIdMap, DynamoLease, DynamoOutbox, DynamoSettings
from hirebooks.store.secrets import SecretsManagerStore
from hirebooks.wiring import SyncDeps, flush

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
        sync=SyncDeps(
            settings=DynamoSettings(settings_table),
            outbox=DynamoOutbox(dynamodb.Table(settings.OUTBOX_TABLE_NAME)),
            idmap=DynamoIdMap(dynamodb.Table(settings.IDMAP_TABLE_NAME)),
            secrets=SecretsManagerStore(boto3.client("secretsmanager"), settings.SECRETS_PREFIX),
            qbo_base_url=settings.QBO_API_BASE_URL,
            hirehop_per_minute=settings.HIREHOP_REQUESTS_PER_MINUTE,
            hirehop_per_second=settings.HIREHOP_REQUESTS_PER_SECOND,
        ),
        lease=DynamoLease(settings_table),
        companies=DynamoCompanies(settings_table),
        margin_seconds=settings.FLUSH_MARGIN_SECONDS,
    )


def _run(deps: Deps, context: LambdaContext, company_ids: list[int]) -> list[dict[str, Any]]:
    reports = flush(
        company_ids, deps.sync, deps.lease, lambda: context.get_remaining_time_in_millis() / 1000, deps.margin_seconds
    )
    for report in reports:
        metrics.add_metric(name="DocumentsFlushed", unit=MetricUnit.Count, value=report.pushed)
    logger.info("flush done", extra={"reports": [r.as_dict() for r in reports]})
    return [r.as_dict() for r in reports]


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


@app.post("/buffer/flush")
def flush_route() -> Response:
    deps: Deps = app.context["deps"]
    expected = deps.sync.secrets.get("admin-token") or ""
    given = (app.current_event.headers or {}).get("authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        metrics.add_metric(name="AdminRequestRejected", unit=MetricUnit.Count, value=1)
        return _json(401, {"error": "unauthorized", "message": "Send the admin token: Authorization: Bearer <token>."})
    body = app.current_event.json_body if app.current_event.body else {}
    company = body.get("company_id") if isinstance(body, dict) else None
    if company is not None and (not isinstance(company, int) or company <= 0):
        metrics.add_metric(name="AdminRequestRejected", unit=MetricUnit.Count, value=1)
        return _json(422, {"error": "invalid_company", "message": "company_id must be a positive whole number."})
    ids = [company] if company else deps.companies.all()
    return _json(200, {"reports": _run(deps, app.lambda_context, ids)})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, deps: Deps | None = None) -> dict[str, Any]:
    deps = deps or build_deps()
    if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        return {"reports": _run(deps, context, deps.companies.all())}
    app.append_context(deps=deps)
    return app.resolve(event, context)
