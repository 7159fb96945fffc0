"""What every admin route checks: the admin token, a company id, a JSON object body. Errors are BufferError-shaped
(status, code, sentence), so handlers answer them the same way."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hirebooks.observability import metrics
from hirebooks.ports import Outbox, SecretStore, SettingsRepository
from hirebooks.sync.buffer import BufferError, BufferFilter, discard, report, retry

ADMIN_TOKEN_SECRET = "admin-token"  # noqa: S105 - the secret's name, not its value


def check_admin(authorization: str | None, secrets: SecretStore) -> None:
    expected = secrets.get(ADMIN_TOKEN_SECRET) or ""
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise BufferError(401, "unauthorized", "Send the admin token: Authorization: Bearer <token>.")


def company_id(value: Any, *, required: bool = True) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise BufferError(422, "invalid_company", "company_id must be a positive whole number.")
    if int(value) <= 0:
        raise BufferError(422, "invalid_company", "company_id must be a positive whole number.")
    return int(value)


def json_object(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BufferError(400, "invalid_json", "The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise BufferError(400, "invalid_json", "The body must be a JSON object.")
    return body


# ------------------------------------------------------------------ the buffer's routes (served by flush_buffer)
Answer = tuple[int, dict[str, Any]]


def _refused(error: BufferError) -> Answer:
    metrics.add_metric(name="AdminRequestRejected", unit=MetricUnit.Count, value=1)
    return error.status, error.body()


def flush_request(
    authorization: str | None,
    raw_body: str | None,
    secrets: SecretStore,
    all_companies: Callable[[], list[int]],
    run: Callable[[list[int]], list[dict[str, Any]]],
) -> Answer:
    try:
        check_admin(authorization, secrets)
        company = company_id(json_object(raw_body).get("company_id"), required=False)
    except BufferError as error:
        return _refused(error)
    return 200, {"reports": run([company] if company else all_companies())}


def report_request(
    authorization: str | None, query: dict[str, str], secrets: SecretStore, outbox: Outbox, settings: SettingsRepository
) -> Answer:
    try:
        check_admin(authorization, secrets)
        company = company_id(query.get("company_id")) or 0
        flt = BufferFilter.parse(query.get("status"), query.get("type"), query.get("package"))
    except BufferError as error:
        return _refused(error)
    metrics.add_metric(name="BufferReportServed", unit=MetricUnit.Count, value=1)
    return 200, report(company, outbox, settings.get(company), flt).as_dict()


def change_request(
    authorization: str | None, entry_id: str, action: str, raw_body: str | None, secrets: SecretStore, outbox: Outbox
) -> Answer:
    try:
        check_admin(authorization, secrets)
        body = json_object(raw_body)
        company = company_id(body.get("company_id")) or 0
        if action == "retry":
            entry = retry(company, entry_id, outbox, by=str(body.get("by") or "admin API"), now=time.time())
        elif action == "discard":
            entry = discard(
                company, entry_id, outbox, by=str(body.get("by") or ""), why=str(body.get("why") or ""), now=time.time()
            )
        else:
            raise BufferError(404, "not_found", "Buffer entries can be retried or discarded.")
    except BufferError as error:
        return _refused(error)
    metrics.add_metric(name=f"BufferEntry{action.title()}", unit=MetricUnit.Count, value=1)
    return 200, {"id": entry.entry_id, "status": entry.status, "reason": entry.reason}


def sweep_request(
    authorization: str | None,
    raw_body: str | None,
    secrets: SecretStore,
    run: Callable[[list[str] | None], list[dict[str, Any]]],
) -> Answer:
    """POST /quickbooks/sweep (served by qb_webhook): the CDC sweep now, for every realm or the ones named."""
    try:
        check_admin(authorization, secrets)
        realms = json_object(raw_body).get("realm_ids")
        if realms is not None and (
            not isinstance(realms, list) or not all(isinstance(r, str | int) and str(r).isdigit() for r in realms)
        ):
            raise BufferError(422, "invalid_realms", "realm_ids must be a list of QuickBooks company ids (digits).")
    except BufferError as error:
        return _refused(error)
    return 200, {"sweeps": run([str(r) for r in realms] if realms else None)}


def status_request(authorization: str | None, query: dict[str, str], sync: Any) -> Answer:
    """GET /status (served by flush_buffer): per package the connection, its expiries and warnings; the buffer."""
    from hirebooks.connecting import status  # the status view needs the wiring; imported here to keep this light
    from hirebooks.errors import NeedsSetupError

    try:
        check_admin(authorization, sync.secrets)
        company = company_id(query.get("company_id")) or 0
        return 200, status(company, sync)
    except BufferError as error:
        return _refused(error)
    except NeedsSetupError as exc:
        return 404, {"error": "not_set_up", "message": str(exc)}
