"""qb_webhook: QuickBooks to HireHop.

- POST /quickbooks/webhook: verify intuit-signature over the raw body, enqueue one message per change, answer 200
  (401 for a bad signature; a signed payload we cannot read is kept for inspection and answered 200).
- SQS (QboChangesQueue): the worker writes payments and credits back to HireHop; partial batch failures.
- Schedule (daily) and POST /quickbooks/sweep (admin): the CDC sweep that catches what webhooks missed.

The work is in hirebooks.sync.inbound, hirebooks.sync.writeback and hirebooks.wiring.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from hirebooks.adminapi import sweep_request
from hirebooks.config import webhook_settings
from hirebooks.observability import logger, metrics, tracer
from hirebooks.sync.writeback import QboChange
from hirebooks.wiring import InboundDeps, build_writeback, inbound_deps_from, receive_quickbooks, sweep, work_change

app = APIGatewayHttpResolver()
processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def build_deps() -> InboundDeps:
    settings = webhook_settings()
    return inbound_deps_from(
        settings, boto3.resource("dynamodb"), boto3.client("secretsmanager"), boto3.client("sqs"), boto3.client("sns")
    )


def _json(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


@app.post("/quickbooks/webhook")
def quickbooks_webhook() -> Response[dict[str, Any]]:
    event = app.current_event
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()  # the raw bytes Intuit signed
    return _json(*receive_quickbooks(body, (event.headers or {}).get("intuit-signature"), app.context["deps"]))


@app.post("/quickbooks/sweep")
def sweep_now() -> Response[dict[str, Any]]:
    deps: InboundDeps = app.context["deps"]
    auth = (app.current_event.headers or {}).get("authorization")
    return _json(*sweep_request(auth, app.current_event.body, deps.sync.secrets, lambda realms: sweep(deps, realms)))


def _record(record: SQSRecord) -> None:
    work_change(QboChange.from_message(json.loads(record.body)), app.context["deps"], app.context["writeback"])


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, deps: InboundDeps | None = None) -> dict[str, Any]:
    deps = deps or build_deps()
    app.append_context(deps=deps)
    if "Records" in event:
        app.append_context(writeback=build_writeback(deps.sync, deps.ledger))  # one per batch of changes
        return process_partial_response(event=event, record_handler=_record, processor=processor, context=context)
    if event.get("source") == "aws.events" or event.get("detail-type") == "Scheduled Event":
        return {"sweeps": sweep(deps)}
    return app.resolve(event, context)
