"""push_document's intake over real HTTP: HireHop simulator -> local gateway -> handler -> moto's DynamoDB."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest
import requests
from hblocal.gateway import LocalGateway

from tests.conftest import IntakeWorld

LINE = {"QUANTITY": 2, "UNIT_PRICE": "45.00", "VAT_RATE": 7, "NOMINAL_GROUP": 1, "TAX_GROUP": 1}


def event(world: IntakeWorld, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "time": "2026-12-04 10:00:00",
        "user_id": 1,
        "user_name": "Demo User",
        "user_email": "demo@example.com",
        "company_id": world.company_id,
        "export_key": world.export_key,
        "event": "invoice.status.updated",
        "data": {"ID": 555, "STATUS": 2, "NUMBER": "INV-1", "JOB_ID": 1},
        "changes": {"STATUS": {"from": 0, "to": 2}},
    }
    body.update(overrides)
    return body


def test_approving_an_invoice_in_hirehop_lands_one_outbox_entry(intake: IntakeWorld) -> None:
    """Given a draft invoice in HireHop, when the user approves it, then HireHop's webhook travels over loopback
    through the gateway into push_document, and one outbox entry for that invoice exists in DynamoDB."""
    inv = intake.act("create_invoice", job_id=intake.ids["jobs"][0], lines=[LINE])
    assert intake.entries() == []  # a draft sends nothing
    intake.act("approve_invoice", invoice_id=inv["ID"])
    entries = intake.wait_for_entries(1)
    assert [(e.doc_kind, e.doc_id) for e in entries] == [("invoice", str(inv["ID"]))]
    # This company has no accounting package yet, so live mode leaves the entry waiting, saying what to do.
    assert entries[0].status == "needs_setup" and "create an accounting package" in entries[0].reason
    assert entries[0].payload["data"]["NUMBER"] == "INV-12245"
    assert entries[0].event == "invoice.status.updated"
    assert intake.hirehop.counters.get("webhooks_sent") == 1


def test_every_document_kind_arrives_in_the_outbox(intake: IntakeWorld) -> None:
    job = intake.ids["jobs"][2]
    inv = intake.act("create_invoice", job_id=job, lines=[LINE])
    intake.act("approve_invoice", invoice_id=inv["ID"])
    intake.act("edit_invoice", invoice_id=inv["ID"], lines=[{**LINE, "QUANTITY": 3}])
    intake.act("credit_note", invoice_id=inv["ID"], lines=[{**LINE, "QUANTITY": 1}])
    intake.act("take_payment", job_id=job, amount="50.00", apply=[[inv["ID"], "50.00"]])
    intake.act("issue_purchase_order", job_id=job, supplier_id=intake.ids["contacts"][2], lines=[LINE])
    intake.act("add_contact", company="New Client Co", email="new@example.com")
    kinds = sorted(e.doc_kind for e in intake.wait_for_entries(7))
    assert kinds == sorted(["invoice", "invoice", "credit_note", "payment", "payment", "purchase_order", "contact"])


def test_same_event_twice_or_ten_at_once_is_one_entry(intake: IntakeWorld) -> None:
    body = json.dumps(event(intake))
    first = requests.post(intake.events_url, data=body, headers={"Content-Type": "application/json"})
    assert first.status_code == 202
    again = requests.post(intake.events_url, data=body, headers={"Content-Type": "application/json"})
    assert again.status_code == 202 and again.json()["duplicate"] is True
    assert again.json()["entries"] == first.json()["entries"]
    other = json.dumps(event(intake, data={"ID": 556, "STATUS": 2}))
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(requests.post(intake.events_url, data=other).status_code))
        for _ in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [202] * 10
    assert sorted(e.doc_id for e in intake.entries()) == ["555", "556"]


def _bad_cases(world: IntakeWorld) -> list[tuple[str, str, bytes | None, int, str]]:
    good = event(world)
    url = world.events_url

    def dumps(**kw: Any) -> bytes:
        return json.dumps({**good, **kw}).encode()

    missing = {k: v for k, v in good.items() if k != "data"}
    return [
        ("no body", url, None, 400, "empty_body"),
        ("not JSON", url, b"{this is not json", 400, "invalid_json"),
        ("a JSON array", url, b"[1, 2]", 400, "invalid_json"),
        ("wrong export_key", url, dumps(export_key="guess"), 401, "bad_export_key"),
        ("unknown tenant token", url.replace(world.tenant_token, "not-a-tenant"), dumps(), 401, "unknown_tenant"),
        ("oversized body", url, dumps(data={"ID": 1, "STATUS": 2, "BLOB": "x" * 300_000}), 413, "payload_too_large"),
        ("missing data", url, json.dumps(missing).encode(), 422, "invalid_event"),
        ("mistyped company_id", url, dumps(company_id="abc"), 422, "invalid_event"),
        ("mistyped data", url, dumps(data="not an object"), 422, "invalid_event"),
        ("bad event name", url, dumps(event="drop table;"), 422, "invalid_event"),
        ("another company", url, dumps(company_id=world.company_id + 1000), 403, "wrong_company"),
    ]


@pytest.mark.parametrize("case", range(11))
def test_bad_input_gets_a_clear_4xx_and_writes_nothing(intake: IntakeWorld, case: int) -> None:
    name, url, body, status, code = _bad_cases(intake)[case]
    resp = requests.post(url, data=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == status, f"{name}: {resp.text}"
    answer = resp.json()
    assert answer["error"] == code and answer["message"], name
    assert intake.entries() == [], name


def test_field_errors_name_the_field(intake: IntakeWorld) -> None:
    resp = requests.post(intake.events_url, json={**event(intake), "company_id": "abc"})
    assert {"field": "company_id"}.items() <= resp.json()["details"][0].items()


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("warehouse.robot.exploded", "unknown event"),
        ("job.status.updated", "job events do not sync"),
    ],
)
def test_unknown_or_non_document_events_are_accepted_and_noted(intake: IntakeWorld, name: str, note: str) -> None:
    resp = requests.post(intake.events_url, json=event(intake, event=name))
    assert resp.status_code == 202
    assert resp.json()["entries"] == [] and note in resp.json()["note"]
    assert intake.entries() == []


def test_draft_invoice_event_is_noted_not_stored(intake: IntakeWorld) -> None:
    resp = requests.post(intake.events_url, json=event(intake, data={"ID": 9, "STATUS": 0}, changes=[]))
    assert resp.status_code == 202 and "syncs once approved" in resp.json()["note"]
    assert intake.entries() == []


def test_base64_bodies_are_decoded(intake: IntakeWorld) -> None:
    """API Gateway may hand the body over base64-encoded (isBase64Encoded): the handler decodes it first."""
    gateway = LocalGateway(intake.aws.tables, force_base64=True)
    url = gateway.start()
    try:
        resp = requests.post(f"{url}/hirehop/{intake.tenant_token}/events", json=event(intake))
    finally:
        gateway.stop()
    assert resp.status_code == 202
    assert [e.doc_id for e in intake.entries()] == ["555"]


def test_unknown_route_is_a_json_404(intake: IntakeWorld) -> None:
    resp = requests.post(f"{intake.gateway_url}/hirehop/{intake.tenant_token}/other")
    assert resp.status_code == 404


def test_the_raw_base64_event_shape(intake: IntakeWorld) -> None:
    """The event the gateway builds is API Gateway's HTTP API payload 2.0, base64 body included."""
    gateway = LocalGateway(intake.aws.tables, force_base64=True)
    route = gateway.routes[0]
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    req = Request(EnvironBuilder(path="/hirehop/t/events", method="POST", data=b'{"a":1}').get_environ())
    ev = gateway.event(req, route, {"tenant": "t"})
    assert ev["version"] == "2.0" and ev["isBase64Encoded"] is True
    assert base64.b64decode(ev["body"]) == b'{"a":1}'
    assert ev["pathParameters"] == {"tenant": "t"} and ev["routeKey"] == "POST /hirehop/{tenant}/events"
