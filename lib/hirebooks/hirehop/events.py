"""HireHop's webhook payload and what it means for the sync.

Reference, "Webhooks (HireHop calls us)": an HTTP POST with
  {"time","user_id","user_name","user_email","company_id","export_key","event","data":{...},"changes":{...}}
`data` is the record after the change, in HireHop's UPPER_SNAKE names. Event names seen: invoice.status.updated
(HireHop's own example), job.*, contact.* (observed); the full list is unknown: route on the prefix, accept unknown
events with 202 and a note, never fail on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

APPROVED = 2  # reference: '"Approved or higher" means status >= 2'

# Prefixes to document kinds. ASSUMPTION beyond invoice and contact: HireHop's names for credit notes, payments and
# purchase orders are not public; these are the simulator's and are easy to extend here.
PREFIXES = {
    "invoice": "invoice",
    "credit_note": "credit_note",
    "credit": "credit_note",
    "payment": "payment",
    "deposit": "payment",
    "purchase_order": "purchase_order",
    "po": "purchase_order",
    "contact": "contact",
}


class HireHopWebhookPayload(BaseModel):
    """The body HireHop posts. Their field names; unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    time: str = Field(min_length=1, max_length=40)
    user_id: int | None = None
    user_name: str | None = None
    user_email: str | None = None
    company_id: int = Field(gt=0)
    export_key: str = Field(min_length=1, max_length=200)
    event: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
    data: dict[str, Any]
    changes: dict[str, Any] | list[Any] | None = None  # PHP sends [] for an empty map


@dataclass(frozen=True)
class Classification:
    kind: str | None  # invoice, credit_note, payment, purchase_order, contact; None when it is no document of ours
    doc_id: str | None
    syncs: bool
    reason: str


def _status(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def classify(payload: HireHopWebhookPayload) -> Classification:
    prefix = payload.event.split(".", 1)[0].lower()
    kind = PREFIXES.get(prefix)
    data = payload.data
    if kind is None:
        if prefix == "job":
            return Classification(None, None, False, "job events do not sync by themselves; their documents do")
        return Classification(
            None, None, False, f"unknown event {payload.event!r}: accepted and noted, nothing to sync"
        )
    doc_id = data.get("ID")
    if doc_id in (None, "", 0, "0"):
        return Classification(kind, None, False, f"{payload.event} carries no data.ID: nothing to sync")
    doc = str(doc_id)
    if kind in ("invoice", "credit_note", "purchase_order"):
        status = _status(data.get("STATUS"))
        before = None
        if isinstance(payload.changes, dict) and isinstance(payload.changes.get("STATUS"), dict):
            before = _status(payload.changes["STATUS"].get("from"))
        # Unknown status values >= 2 count as approved (reference); a document leaving approval still matters.
        if (status is not None and status >= APPROVED) or (before is not None and before >= APPROVED):
            return Classification(kind, doc, True, f"{kind.replace('_', ' ')} at status {status}")
        return Classification(kind, doc, False, f"{kind.replace('_', ' ')} at status {status}: syncs once approved")
    if kind == "contact":
        if _status(data.get("CLIENT")) or _status(data.get("SUBCONTRACTOR")):
            return Classification(kind, doc, True, "contact is a client or supplier")
        return Classification(kind, doc, False, "contact is neither a client nor a supplier: nothing to sync")
    return Classification(kind, doc, True, "payment")
