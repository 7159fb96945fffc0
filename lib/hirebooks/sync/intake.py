"""Intake of HireHop events: authenticate twice, validate, classify, write ahead to the outbox, answer.

Nothing is stored for a rejected request; an accepted event is stored before the answer; the same event delivered
twice (or ten times at once) is one entry, because the entry id is derived from the event itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hirebooks.hirehop.events import Classification, HireHopWebhookPayload, classify
from hirebooks.ports import Outbox, TenantDirectory
from hirebooks.sync.model import OutboxEntry


@dataclass
class IntakeRejected(Exception):
    """A request we refuse: HTTP status, a stable code, and a sentence that says what to do."""

    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            out["details"] = self.details
        return out


@dataclass(frozen=True)
class IntakeResult:
    entry_ids: list[str]
    classification: Classification
    duplicate: bool

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"accepted": True, "entries": self.entry_ids, "note": self.classification.reason}
        if self.duplicate:
            out["duplicate"] = True
        return out


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def entry_id(payload: HireHopWebhookPayload) -> str:
    """Derived from the whole event, so a repeat of the same event maps to the same entry."""
    canonical = json.dumps(
        {"c": payload.company_id, "e": payload.event, "t": payload.time, "d": payload.data, "x": payload.changes},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]} for err in exc.errors()]


def accept_hirehop_event(
    *,
    tenant_token: str,
    body: bytes,
    tenants: TenantDirectory,
    outbox: Outbox,
    now: float,
    max_bytes: int,
) -> IntakeResult:
    if len(body) > max_bytes:
        raise IntakeRejected(
            413, "payload_too_large", f"The event is {len(body)} bytes; at most {max_bytes} are accepted."
        )
    tenant = tenants.find(tenant_token)
    if tenant is None:
        raise IntakeRejected(
            401, "unknown_tenant", "This webhook URL is not known. Copy the HireHop webhook URL from HireBooks again."
        )
    if not body.strip():
        raise IntakeRejected(400, "empty_body", "The request has no body; HireHop sends a JSON event.")
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntakeRejected(400, "invalid_json", f"The body is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise IntakeRejected(400, "invalid_json", "The body must be a JSON object, as HireHop sends.")
    try:
        payload = HireHopWebhookPayload.model_validate(raw)
    except ValidationError as exc:
        raise IntakeRejected(
            422, "invalid_event", "The event is missing fields or has fields of the wrong type.", _field_errors(exc)
        ) from exc
    if not hmac.compare_digest(sha256_hex(payload.export_key), tenant.export_key_sha256):
        raise IntakeRejected(
            401, "bad_export_key", "The export_key does not match this company's. Check it in HireHop's settings."
        )
    if payload.company_id != tenant.company_id:
        raise IntakeRejected(403, "wrong_company", "This webhook URL belongs to another HireHop company.")
    verdict = classify(payload)
    if not verdict.syncs or verdict.kind is None or verdict.doc_id is None:
        return IntakeResult([], verdict, False)
    entry = OutboxEntry(
        company_id=payload.company_id,
        entry_id=entry_id(payload),
        doc_kind=verdict.kind,
        doc_id=verdict.doc_id,
        event=payload.event,
        event_time=payload.time,
        received_at=now,
        payload={"data": payload.data, "changes": payload.changes},
        history=[{"at": now, "what": "received", "event": payload.event}],
    )
    new = outbox.put_if_absent(entry)
    return IntakeResult([entry.entry_id], verdict, duplicate=not new)
