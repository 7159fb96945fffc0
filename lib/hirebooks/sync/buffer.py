"""The buffer as a bookkeeper sees it: HireHop's "Invoices to export" report, and retrying or discarding an entry.

Every entry that waits is listed with why it waits, in words; totals by status. Retry makes an entry due now (after
someone fixed what it waited for); discard takes it out of the buffer for good, keeping who and why in its history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hirebooks.errors import NeedsSetupError
from hirebooks.ports import Outbox

from .model import DONE, PARKED, WAITING, OutboxEntry
from .settings import CompanySettings

KINDS = ("invoice", "credit_note", "payment", "purchase_order", "contact")


@dataclass
class BufferError(Exception):
    status: int
    code: str
    message: str

    def body(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


@dataclass
class BufferFilter:
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    package: str | None = None

    @classmethod
    def parse(cls, status: str | None, kind: str | None, package: str | None) -> BufferFilter:
        statuses = tuple(s for s in (status or "").split(",") if s)
        kinds = tuple(k for k in (kind or "").split(",") if k)
        bad = [s for s in statuses if s not in WAITING]
        if bad:
            raise BufferError(400, "bad_filter", f"Unknown status {', '.join(bad)}; one of {', '.join(WAITING)}.")
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise BufferError(400, "bad_filter", f"Unknown document type {', '.join(bad)}; one of {', '.join(KINDS)}.")
        return cls(statuses, kinds, package or None)


def _when(ts: float) -> str | None:
    if ts >= PARKED:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


def _package_of(entry: OutboxEntry, settings: CompanySettings | None) -> str | None:
    if settings is None:
        return None
    depot = entry.payload.get("data", {}).get("DEPOT_ID")
    if not depot:
        return None
    try:
        tree = settings.depot_tree() if settings.depot_parents is not None else {}
        return settings.package_for_depot(depot, tree).package_id
    except NeedsSetupError:  # an unassigned depot has no package to show yet
        return None


@dataclass
class BufferReport:
    company_id: int
    totals: dict[str, int] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"company_id": self.company_id, "totals": self.totals, "entries": self.entries}


def report(company_id: int, outbox: Outbox, settings: CompanySettings | None, flt: BufferFilter) -> BufferReport:
    waiting = outbox.list_waiting(company_id)
    out = BufferReport(company_id, totals=dict(Counter(e.status for e in waiting)))
    for entry in sorted(waiting, key=lambda e: (e.received_at, e.entry_id)):
        package = _package_of(entry, settings)
        if (flt.statuses and entry.status not in flt.statuses) or (flt.kinds and entry.doc_kind not in flt.kinds):
            continue
        if flt.package and package != flt.package:
            continue
        data = entry.payload.get("data", {})
        out.entries.append(
            {
                "id": entry.entry_id,
                "document": entry.doc_kind,
                "hirehop_id": entry.doc_id,
                "number": data.get("NUMBER") or "",
                "package": package,
                "event": entry.event,
                "status": entry.status,
                "reason": entry.reason or "waiting for the next sync",
                "attempts": entry.attempts,
                "next_attempt": _when(entry.next_attempt_at),
                "received": _when(entry.received_at),
            }
        )
    return out


def _waiting_entry(outbox: Outbox, company_id: int, entry_id: str) -> OutboxEntry:
    entry = outbox.get(company_id, entry_id)
    if entry is None:
        raise BufferError(404, "unknown_entry", f"No buffer entry {entry_id} for company {company_id}.")
    if entry.status in DONE:
        raise BufferError(409, "wrong_state", f"Entry {entry_id} is {entry.status}: only waiting entries can change.")
    return entry


def retry(company_id: int, entry_id: str, outbox: Outbox, *, by: str, now: float) -> OutboxEntry:
    entry = _waiting_entry(outbox, company_id, entry_id)
    outbox.mark(entry, "pending", f"retry asked by {by}", next_attempt_at=0.0, now=now)
    return entry


def discard(company_id: int, entry_id: str, outbox: Outbox, *, by: str, why: str, now: float) -> OutboxEntry:
    if not by.strip() or not why.strip():
        raise BufferError(422, "reason_needed", "A discard needs who discards it (by) and why (why).")
    entry = _waiting_entry(outbox, company_id, entry_id)
    outbox.mark(entry, "discarded", f"discarded by {by.strip()}: {why.strip()}", now=now)
    return entry
