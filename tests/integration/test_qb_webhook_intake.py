"""qb_webhook's intake through the gateway: the signature over the raw bytes, both formats, and what is kept.

Reference quickbooks.md, "Webhooks (QuickBooks calls us)"."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import requests
from hblocal.gateway import LocalGateway
from hirebooks.config import webhook_settings
from hirebooks.store.dynamo import DynamoInboundLog
from qbosim.webhooks import sign

from tests.conftest import InboundWorld


def event(world: InboundWorld, entity: str = "Payment", verb: str = "created", n: int = 1) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"evt-{entity}-{verb}-{n}",
        "source": "intuit.test",
        "type": f"qbo.{entity.lower()}.{verb}.v1",
        "datacontenttype": "application/json",
        "time": "2026-12-04T10:00:00.000Z",
        "intuitentityid": str(1000 + n),
        "intuitaccountid": world.realm,
        "data": {},
    }


def post(url: str, raw: bytes, signature: str | None, ctype: str = "application/cloudevents+json") -> Any:
    headers = {"Content-Type": ctype}
    if signature is not None:
        headers["intuit-signature"] = signature
    return requests.post(url, data=raw, headers=headers, timeout=10)


def queued(world: InboundWorld) -> int:
    world.poller.stop()
    return world.poller.depth()


def test_qb_webhook_rejects_a_bad_signature_and_queues_nothing(inbound: InboundWorld) -> None:
    """Reference: '401 only for a bad signature'; 'Compare in constant time'."""
    inbound.poller.stop()
    raw = json.dumps([event(inbound)]).encode()
    resp = post(inbound.webhook_url, raw, sign(raw, "not-the-verifier"))
    assert resp.status_code == 401 and resp.json()["error"] == "bad_signature"
    assert queued(inbound) == 0


def test_qb_webhook_rejects_a_missing_signature(inbound: InboundWorld) -> None:
    inbound.poller.stop()
    raw = json.dumps([event(inbound)]).encode()
    resp = post(inbound.webhook_url, raw, None)
    assert resp.status_code == 401 and "missing" in resp.json()["message"]
    assert queued(inbound) == 0


def test_qb_webhook_rejects_a_signature_over_a_reserialized_body(inbound: InboundWorld) -> None:
    """Reference: 'Never verify a re-serialized body': the bytes sent differ from the bytes signed."""
    inbound.poller.stop()
    payload = [event(inbound)]
    signed = json.dumps(payload, separators=(",", ":")).encode()
    sent = json.dumps(payload, indent=2).encode()  # the same JSON, other bytes
    assert json.loads(signed) == json.loads(sent)
    assert post(inbound.webhook_url, sent, sign(signed, inbound.verifier)).status_code == 401
    assert queued(inbound) == 0


def test_qb_webhook_keeps_a_signed_payload_it_cannot_read(inbound: InboundWorld) -> None:
    """Reference: 'Return 200 for a well-signed payload even when it can't be processed (log it and park it)'."""
    inbound.poller.stop()
    raw = b'{"eventNotifications": "not a list"}'
    resp = post(inbound.webhook_url, raw, sign(raw, inbound.verifier), "application/json")
    assert resp.status_code == 200 and "kept for inspection" in resp.json()["note"]
    log = DynamoInboundLog(inbound.live.intake.aws.table("InboundTable"))
    assert any(p["body"] == raw and "eventNotifications" in p["reason"] for p in log.parked())
    assert queued(inbound) == 0


def test_qb_webhook_queues_one_message_per_payment_or_credit_change(inbound: InboundWorld) -> None:
    """Reference: 'Up to 100 events ... per POST'; only Payment and CreditMemo changes are written back."""
    inbound.poller.stop()
    events = [event(inbound, n=n) for n in range(60)]
    events += [event(inbound, "CreditMemo", "updated", n) for n in range(30)]
    events += [event(inbound, "Customer", "updated", n) for n in range(10)]
    raw = json.dumps(events).encode()
    resp = post(inbound.webhook_url, raw, sign(raw, inbound.verifier))
    assert resp.status_code == 200 and resp.json() == {"accepted": 90, "ignored": 10}
    assert queued(inbound) == 90


def test_qb_webhook_accepts_the_legacy_format_as_json(inbound: InboundWorld) -> None:
    """Reference: legacy format, a JSON object with eventNotifications."""
    inbound.poller.stop()
    payload = {
        "eventNotifications": [
            {
                "realmId": inbound.realm,
                "dataChangeEvent": {
                    "entities": [
                        {"name": "Payment", "id": "163", "operation": "Create", "lastUpdated": "2026-12-04T10:00:00Z"}
                    ]
                },
            }
        ]
    }
    raw = json.dumps(payload).encode()
    resp = post(inbound.webhook_url, raw, sign(raw, inbound.verifier), "application/json")
    assert resp.status_code == 200 and resp.json()["accepted"] == 1
    assert queued(inbound) == 1


def test_qb_webhook_verifies_api_gateways_base64_bodies_on_the_decoded_bytes(inbound: InboundWorld) -> None:
    """Reference: 'on API Gateway decode isBase64Encoded bodies first'."""
    inbound.poller.stop()
    gateway = LocalGateway(inbound.live.intake.aws.tables, force_base64=True)
    os.environ["QBO_CHANGES_QUEUE_URL"] = inbound.poller.queue_url  # this test's queue, not the template's
    webhook_settings.cache_clear()
    url = gateway.start()
    try:
        raw = json.dumps([event(inbound)]).encode()
        assert post(f"{url}/quickbooks/webhook", raw, sign(raw, inbound.verifier)).status_code == 200
        # the signature over the base64 text is not the signature over the body
        b64 = base64.b64encode(raw)
        assert post(f"{url}/quickbooks/webhook", raw, sign(b64, inbound.verifier)).status_code == 401
    finally:
        gateway.stop()
    assert queued(inbound) == 1
