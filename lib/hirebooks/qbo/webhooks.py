"""QuickBooks webhooks: verify the signature on the raw bytes, then parse either format into one event type.

Reference, "Webhooks (QuickBooks calls us)":
- intuit-signature = base64(HMAC-SHA256(key = verifier token, message = raw body)); compare in constant time;
  never verify a re-serialized body; decode API Gateway's base64 bodies first.
- Legacy: {"eventNotifications":[{"realmId":..,"dataChangeEvent":{"entities":[{name,id,operation,lastUpdated}]}}]}
- CloudEvents: a JSON array of {specversion,id,type:"qbo.payment.created.v1",intuitentityid,intuitaccountid,time,...}
- Dedupe on the CloudEvents id; legacy: realm + entity + id + operation + lastUpdated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

KNOWN_ENTITIES = {
    name.lower(): name
    for name in (
        "Account",
        "Bill",
        "BillPayment",
        "Budget",
        "Class",
        "CreditMemo",
        "Currency",
        "Customer",
        "Department",
        "Deposit",
        "Employee",
        "Estimate",
        "Invoice",
        "Item",
        "JournalCode",
        "JournalEntry",
        "Payment",
        "PaymentMethod",
        "Preferences",
        "Purchase",
        "PurchaseOrder",
        "RefundReceipt",
        "SalesReceipt",
        "TaxAgency",
        "Term",
        "TimeActivity",
        "Transfer",
        "Vendor",
        "VendorCredit",
    )
}
VERBS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "voided": "Void",
    "merged": "Merge",
    "emailed": "Emailed",
}
OPERATIONS = {"Create", "Update", "Delete", "Merge", "Void", "Emailed"}


class MalformedWebhook(ValueError):
    """Signed, but not a payload we can read: accept it (200), log it, keep it for inspection."""


@dataclass(frozen=True)
class QboChangeEvent:
    event_id: str
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    occurred_at: str
    format: str


def verify_signature(raw_body: bytes, signature: str | None, verifier_token: str) -> bool:
    if not signature or not verifier_token:
        return False
    expected = hmac.new(verifier_token.encode(), raw_body, hashlib.sha256).digest()
    try:
        given = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(expected, given)


def _entity(name: str) -> str:
    return KNOWN_ENTITIES.get(name.lower(), name[:1].upper() + name[1:])


def _parse_cloudevent(ev: Any) -> QboChangeEvent:
    if not isinstance(ev, dict):
        raise MalformedWebhook("a CloudEvents item is not an object")
    missing = [k for k in ("id", "type", "intuitentityid", "intuitaccountid") if not ev.get(k)]
    if missing:
        raise MalformedWebhook(f"a CloudEvents item lacks {', '.join(missing)}")
    parts = str(ev["type"]).split(".")
    # qbo.<entity>.<verb>.v<N>
    if len(parts) < 3 or parts[0] != "qbo":
        raise MalformedWebhook(f"unrecognised event type {ev['type']!r}")
    verb = VERBS.get(parts[2].lower())
    if verb is None:
        raise MalformedWebhook(f"unrecognised verb in event type {ev['type']!r}")
    return QboChangeEvent(
        event_id=str(ev["id"]),
        realm_id=str(ev["intuitaccountid"]),
        entity=_entity(parts[1]),
        entity_id=str(ev["intuitentityid"]),
        operation=verb,
        occurred_at=str(ev.get("time", "")),
        format="cloudevents",
    )


def _parse_legacy(body: dict[str, Any]) -> list[QboChangeEvent]:
    notes = body.get("eventNotifications")
    if not isinstance(notes, list):
        raise MalformedWebhook("eventNotifications is missing or not a list")
    events: list[QboChangeEvent] = []
    for note in notes:
        if not isinstance(note, dict) or not note.get("realmId"):
            raise MalformedWebhook("an eventNotification lacks realmId")
        entities = (note.get("dataChangeEvent") or {}).get("entities")
        if not isinstance(entities, list):
            raise MalformedWebhook("dataChangeEvent.entities is missing or not a list")
        for ent in entities:
            if not isinstance(ent, dict) or not all(ent.get(k) for k in ("name", "id", "operation")):
                raise MalformedWebhook("an entity lacks name, id or operation")
            operation = str(ent["operation"])
            if operation not in OPERATIONS:
                raise MalformedWebhook(f"unrecognised operation {operation!r}")
            realm = str(note["realmId"])
            name = _entity(str(ent["name"]))
            when = str(ent.get("lastUpdated", ""))
            events.append(
                QboChangeEvent(
                    event_id=f"{realm}:{name}:{ent['id']}:{operation}:{when}",
                    realm_id=realm,
                    entity=name,
                    entity_id=str(ent["id"]),
                    operation=operation,
                    occurred_at=when,
                    format="legacy",
                )
            )
    return events


def parse_notifications(raw_body: bytes) -> list[QboChangeEvent]:
    """Both formats, told apart by shape (an array is CloudEvents, an object the legacy format)."""
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedWebhook(f"the body is not JSON: {exc}") from exc
    if isinstance(body, list):
        return [_parse_cloudevent(ev) for ev in body]
    if isinstance(body, dict):
        return _parse_legacy(body)
    raise MalformedWebhook("the body is neither a CloudEvents array nor a legacy object")
