"""QuickBooks calls us: the webhook's intake, the queue worker's step, and the CDC sweep that catches what webhooks
missed (reference quickbooks.md, "Webhooks (QuickBooks calls us)").

- Intake: verify the signature over the raw bytes; 401 when it is bad or missing (nothing stored, nothing queued);
  a well-signed payload we cannot read is kept for inspection and answered 200 (Intuit would otherwise hold back every
  later event); one queue message per entity change; 200 well inside Intuit's 3 seconds (no QuickBooks or HireHop
  call on this path).
- Worker: an event id seen before (with a TTL) is skipped without a metered QuickBooks read; otherwise the write-back
  applies the newest version, and only then is the id remembered (a failure is retried, never lost).
- CDC sweep: per realm, Payments and CreditMemos changed since the last high-water mark (taken from QuickBooks'
  answer time, not our clock), fed to the same worker with the object attached (no second read).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from hirebooks.qbo.webhooks import MalformedWebhook, parse_notifications, verify_signature

from .writeback import QboChange, WriteBack, WritebackOutcome

WRITEBACK_ENTITIES = ("Payment", "CreditMemo")
CDC_LOOKBACK = timedelta(days=30)  # reference: CDC "looks back at most 30 days"
DEDUPE_TTL_SECONDS = 14 * 86400  # Intuit retries "every 6 h" for days; remember ids for two weeks


class ChangeQueue(Protocol):
    def send(self, changes: list[QboChange]) -> None:
        """Queue every change or raise (then nothing is acknowledged to QuickBooks)."""
        ...


class InboundLog(Protocol):
    """Webhook event ids already applied, payloads kept for inspection, and the sweep's high-water marks."""

    def seen(self, event_id: str) -> bool: ...

    def remember(self, event_id: str, ttl_seconds: int, now: float) -> None: ...

    def park(self, body: bytes, reason: str, now: float) -> str: ...

    def mark(self, realm_id: str) -> str | None: ...

    def set_mark(self, realm_id: str, when: str) -> None: ...


@dataclass
class WebhookAnswer:
    status: int
    body: dict[str, Any]
    queued: int = 0
    ignored: int = 0
    parked: str | None = None


def receive_quickbooks_webhook(
    raw_body: bytes, signature: str | None, verifier_token: str, *, queue: ChangeQueue, log: InboundLog, now: float
) -> WebhookAnswer:
    if not verify_signature(raw_body, signature, verifier_token):
        what = "missing" if not signature else "does not match the body"
        return WebhookAnswer(401, {"error": "bad_signature", "message": f"The intuit-signature header is {what}."})
    try:
        events = parse_notifications(raw_body)
    except MalformedWebhook as exc:
        parked = log.park(raw_body, str(exc), now)
        return WebhookAnswer(200, {"accepted": 0, "note": f"kept for inspection as {parked}: {exc}"}, parked=parked)
    changes = [
        QboChange(e.realm_id, e.entity, e.entity_id, e.operation, e.event_id, e.occurred_at, "webhook")
        for e in events
        if e.entity in WRITEBACK_ENTITIES
    ]
    queue.send(changes)
    ignored = len(events) - len(changes)
    return WebhookAnswer(200, {"accepted": len(changes), "ignored": ignored}, queued=len(changes), ignored=ignored)


@dataclass
class WorkerStep:
    outcome: WritebackOutcome
    duplicate: bool = False


def process_change(change: QboChange, *, writeback: WriteBack, log: InboundLog, now: float) -> WorkerStep:
    if log.seen(change.event_id):
        return WorkerStep(WritebackOutcome("unchanged", f"event {change.event_id} was applied before"), True)
    outcome = writeback.apply(change)
    log.remember(change.event_id, DEDUPE_TTL_SECONDS, now)
    return WorkerStep(outcome)


@dataclass
class SweepReport:
    realm_id: str
    since: str
    until: str
    queued: int
    by_entity: dict[str, int] = field(default_factory=dict)


class CdcSource(Protocol):
    def cdc(self, entities: list[str], since: datetime) -> Any: ...


def sweep_realm(
    realm_id: str, source: CdcSource, *, queue: ChangeQueue, log: InboundLog, now: Callable[[], datetime]
) -> SweepReport:
    """Feed a realm's changes since the high-water mark to the worker; move the mark to QuickBooks' answer time."""
    floor = now() - CDC_LOOKBACK + timedelta(minutes=5)
    mark = log.mark(realm_id)
    since = max(datetime.fromisoformat(mark), floor) if mark else floor
    result = source.cdc(list(WRITEBACK_ENTITIES), since)
    changes: list[QboChange] = []
    by_entity: dict[str, int] = {}
    for entity, objects in result.objects.items():
        by_entity[entity] = len(objects)
        for obj in objects:
            deleted = obj.get("status") == "Deleted"
            stamp = (obj.get("MetaData") or {}).get("LastUpdatedTime", "")
            version = "deleted" if deleted else str(obj.get("SyncToken", ""))
            changes.append(
                QboChange(
                    realm_id,
                    entity,
                    str(obj["Id"]),
                    "Delete" if deleted else "Update",
                    f"cdc:{realm_id}:{entity}:{obj['Id']}:{version}",
                    stamp,
                    "cdc",
                    obj,
                )
            )
    queue.send(changes)
    until = _iso(result.time)
    if until is not None:  # the mark moves only to a time QuickBooks gave (reference: not the local clock)
        log.set_mark(realm_id, until)
    return SweepReport(realm_id, since.isoformat(), until or since.isoformat(), len(changes), by_entity)


def _iso(text: str) -> str | None:
    """QuickBooks' times carry an offset ("-07:00"); keep them as UTC ISO text."""
    try:
        return datetime.fromisoformat(text).astimezone(UTC).isoformat()
    except ValueError:
        return None


def changes_from_messages(bodies: Iterable[str]) -> list[QboChange]:
    return [QboChange.from_message(json.loads(body)) for body in bodies]
