"""setup_api: the set-up steps as admin routes (reference hirehop.md, "Set-up steps"), and the API's OpenAPI document.

All routes under /setup need the admin token (Authorization: Bearer ...). The work is in hirebooks.setup; this file
wires the stores once and maps each route to one step.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from hirebooks.config import live_settings
from hirebooks.observability import logger, metrics, tracer
from hirebooks.setupapi import SetupApi
from hirebooks.store.dynamo import DynamoTenantDirectory
from hirebooks.wiring import sync_deps_from

app = APIGatewayHttpResolver()
OPENAPI = Path(__file__).with_name("openapi.json")


@lru_cache(maxsize=1)
def build_deps() -> SetupApi:
    settings = live_settings()
    dynamodb = boto3.resource("dynamodb")
    sync = sync_deps_from(settings, dynamodb, boto3.client("secretsmanager"), boto3.client("sns"))
    return SetupApi(sync, DynamoTenantDirectory(dynamodb.Table(settings.SETTINGS_TABLE_NAME)))


def _answer(company: str, step: Any) -> Response[dict[str, Any]]:
    api: SetupApi = app.context["api"]
    event = app.current_event
    status, body = api.run((event.headers or {}).get("authorization"), event.body, company, step)
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def _api() -> SetupApi:
    return app.context["api"]  # type: ignore[no-any-return]


@app.get("/setup/<company>")
def show(company: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, _: _api().setup.company(c))


@app.put("/setup/<company>")
def put_company(company: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, b: _api().put_company(c, b))


@app.post("/setup/<company>/tenant")
def tenant(company: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, b: _api().register_tenant(c, b))


@app.put("/setup/<company>/packages/<package>")
def put_package(company: str, package: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, b: _api().setup.put_package(c, package, b))


@app.post("/setup/<company>/packages/<package>/accounts/sync")
def sync_accounts(company: str, package: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, _: _api().setup.sync_accounts(c, package, _api().qbo(c, package)))


@app.patch("/setup/<company>/packages/<package>/accounts")
def set_accounts(company: str, package: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, b: _api().setup.set_accounts(c, package, b))


@app.post("/setup/<company>/packages/<package>/tax-codes/sync")
def sync_tax_codes(company: str, package: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, _: _api().setup.sync_tax_codes(c, package, _api().qbo(c, package)))


@app.patch("/setup/<company>/packages/<package>/tax-codes")
def set_tax_codes(company: str, package: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, b: _api().setup.set_tax_codes(c, package, b))


@app.get("/setup/<company>/packages/<package>/contacts")
def contacts(company: str, package: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, _: _api().setup.contacts(c, package, _api().qbo(c, package), _api().hirehop(c)))


@app.post("/setup/<company>/packages/<package>/contacts/import")
def import_contacts(company: str, package: str) -> Response[dict[str, Any]]:
    return _answer(
        company,
        lambda c, b: _api().setup.import_contacts(c, package, b, _api().qbo(c, package), _api().hirehop(c)),
    )


@app.put("/setup/<company>/assignments")
def assign(company: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, b: _api().setup.assign(c, b))


@app.get("/setup/<company>/preflight")
def preflight(company: str) -> Response[dict[str, Any]]:
    return _answer(company, lambda c, _: _api().setup.preflight(c, _api().deps.outbox))


@app.get("/openapi.json")
def openapi() -> Response[dict[str, Any]]:
    return Response(status_code=200, content_type="application/json", body=OPENAPI.read_text())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext, deps: SetupApi | None = None) -> dict[str, Any]:
    app.append_context(api=deps or build_deps())
    return app.resolve(event, context)
