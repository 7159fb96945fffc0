"""token_refresh: the QuickBooks connection, and the only scheduled writer of tokens.

- Schedule: renew access tokens that expire within 20 minutes through the locked path (a lease per realm and a
  conditional write on the connection's version); mark a dead connection "needs reconnect"; send each expiry warning
  once (SNS).
- GET /quickbooks/connect?company_id=..&package=..: redirect to Intuit's consent page with a signed state.
- GET /quickbooks/callback: check the state, exchange the code, store the connection, and start a flush of what
  waited for it.

The work is in hirebooks.qbo.connection and hirebooks.connecting.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from hirebooks.config import token_settings
from hirebooks.connecting import FunctionInvoker, Page, callback, connect_link
from hirebooks.observability import logger, metrics, tracer
from hirebooks.store.dynamo import DynamoInboundLog
from hirebooks.store.invoke import HttpInvoker, LambdaInvoker
from hirebooks.wiring import SyncDeps, sync_deps_from

app = APIGatewayHttpResolver()


@dataclass(frozen=True)
class Deps:
    sync: SyncDeps
    log: DynamoInboundLog
    invoker: FunctionInvoker
    flush_function: str


@lru_cache(maxsize=1)
def build_deps() -> Deps:
    settings = token_settings()
    dynamodb = boto3.resource("dynamodb")
    local = settings.LOCAL_INVOKE_URL
    return Deps(
        sync=sync_deps_from(settings, dynamodb, boto3.client("secretsmanager"), boto3.client("sns")),
        log=DynamoInboundLog(dynamodb.Table(settings.INBOUND_TABLE_NAME)),
        invoker=HttpInvoker(local) if local else LambdaInvoker(boto3.client("lambda")),
        flush_function=settings.FLUSH_FUNCTION_NAME,
    )


def _page(page: Page) -> Response[dict[str, Any]]:
    if page.location:
        return Response(status_code=302, headers={"Location": page.location}, body="")
    metrics.add_metric(name=f"Connect{page.title.replace(' ', '')}", unit=MetricUnit.Count, value=1)
    if "application/json" in (app.current_event.headers or {}).get("accept", ""):
        return Response(status_code=page.status, content_type="application/json", body=json.dumps(page.as_dict()))
    body = f"<!doctype html><title>HireBooks</title><h1>{html.escape(page.title)}</h1><p>{html.escape(page.message)}"
    return Response(status_code=page.status, content_type="text/html; charset=utf-8", body=body)


@app.get("/quickbooks/connect")
def connect() -> Response[dict[str, Any]]:
    deps: Deps = app.context["deps"]
    return _page(connect_link(app.current_event.query_string_parameters or {}, deps.sync, deps.log))


@app.get("/quickbooks/callback")
def intuit_callback() -> Response[dict[str, Any]]:
    deps: Deps = app.context["deps"]
    query = app.current_event.query_string_parameters or {}
    page = callback(query, deps.sync, deps.log, deps.invoker, deps.flush_function)
    logger.info(
        "QuickBooks callback", extra={"status": page.status, "title": page.title, "realm": query.get("realmId")}
    )
    return _page(page)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, deps: Deps | None = None) -> dict[str, Any]:
    deps = deps or build_deps()
    if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        keeper = deps.sync.keeper()
        if keeper is None:
            logger.warning("token_refresh: the Intuit app's credentials are not set up (secret intuit-app)")
            return {"refreshed": [], "error": "the Intuit app's credentials are not set up"}
        result = keeper.run_schedule()
        logger.info("token_refresh run", extra=result)
        return result
    app.append_context(deps=deps)
    return app.resolve(event, context)
