"""Flushing the buffer: push what waits, for one company, as QuickBooks allows and no faster.

- Only entries that are due (next_attempt_at has passed) and that no person has to look at first (needs_setup and
  rejected wait for a retry or a discard).
- Only the latest version of each document: a push reads HireHop's current state, so older entries of the same
  document are marked superseded.
- In dependency order: contacts, then invoices and purchase orders, then credit notes, then payments.
- One flush per QuickBooks company (realm) at a time: a lease with an expiry; a second flush leaves.
- It watches the time left (the Lambda context) and stops cleanly with a margin; the next run continues.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from hirebooks import errors as E
from hirebooks.ports import Clock, Lease, Outbox

from .batch import send_in_batches
from .model import OutboxEntry
from .push import Pusher

ORDER = {"contact": 0, "invoice": 1, "purchase_order": 1, "credit_note": 2, "payment": 3}
DUE_STATUSES = ("pending", "retry", "waiting_for_connection")
LEASE_SECONDS = 900.0  # a Lambda lives at most 15 minutes; a crashed flush frees its realms by then


@dataclass
class FlushReport:
    company_id: int
    due: int = 0
    pushed: int = 0
    unchanged: int = 0
    superseded: int = 0
    still_waiting: dict[str, int] = field(default_factory=dict)
    stopped_early: bool = False
    busy: bool = False  # another flush holds this company's realms
    batches: int = 0  # QuickBooks batch calls made

    def as_dict(self) -> dict[str, object]:
        return {
            "company_id": self.company_id,
            "due": self.due,
            "pushed": self.pushed,
            "unchanged": self.unchanged,
            "superseded": self.superseded,
            "still_waiting": self.still_waiting,
            "stopped_early": self.stopped_early,
            "busy": self.busy,
            "batches": self.batches,
        }


def document_key(entry: OutboxEntry) -> tuple[str, str]:
    """Entries about the same document: a payment's events name its deposit or one of its applications."""
    if entry.doc_kind == "payment":
        data = entry.payload.get("data", {})
        return ("payment", str(data.get("OWNER_DEPOSIT") or entry.doc_id))
    return (entry.doc_kind, entry.doc_id)


def latest_per_document(entries: list[OutboxEntry]) -> tuple[list[OutboxEntry], list[tuple[OutboxEntry, str]]]:
    """The newest entry of each document, in dependency order; and the older ones, with what supersedes them."""
    groups: dict[tuple[str, str], list[OutboxEntry]] = {}
    for entry in entries:
        groups.setdefault(document_key(entry), []).append(entry)
    latest: list[OutboxEntry] = []
    older: list[tuple[OutboxEntry, str]] = []
    for group in groups.values():
        group.sort(key=lambda e: (e.event_time, e.received_at, e.entry_id))
        latest.append(group[-1])
        older.extend((e, group[-1].entry_id) for e in group[:-1])
    latest.sort(key=lambda e: (ORDER.get(e.doc_kind, 9), e.event_time, e.received_at, e.entry_id))
    return latest, older


def flush_company(
    company_id: int,
    *,
    outbox: Outbox,
    lease: Lease,
    realms: list[str],
    make_pusher: Callable[[], Pusher],
    clock: Clock,
    time_left: Callable[[], float],
    margin: float = 5.0,
    holder: str | None = None,
    reconnected: bool = False,
) -> FlushReport:
    report = FlushReport(company_id)
    holder = holder or uuid.uuid4().hex
    now = clock.time()
    held: list[str] = []
    try:
        for realm in sorted(set(realms)):  # a fixed order, so two flushes never hold each other's realms
            if not lease.acquire(f"realm:{realm}", holder, now, LEASE_SECONDS):
                report.busy = True
                return report
            held.append(realm)
        # After a reconnect, what waited for the connection is due at once, whatever its backoff said.
        due = [
            e
            for e in outbox.list_waiting(company_id, due_by=None if reconnected else now)
            if e.status in DUE_STATUSES and (e.next_attempt_at <= now or e.status == "waiting_for_connection")
        ]
        report.due = len(due)
        if not due:
            return report
        latest, older = latest_per_document(due)
        try:
            pusher = make_pusher()
        except E.NeedsSetupError as exc:
            for entry in due:
                outbox.mark(entry, "needs_setup", str(exc), now=now)
            report.still_waiting = {"needs_setup": len(due)}
            return report
        for entry, newer in older:
            outbox.mark(entry, "skipped", f"superseded by entry {newer[:10]}: only the latest version is sent", now=now)
            report.superseded += 1
        stages: dict[int, list[OutboxEntry]] = {}
        for entry in latest:
            stages.setdefault(ORDER.get(entry.doc_kind, 9), []).append(entry)
        run = send_in_batches(
            [stages[k] for k in sorted(stages)],
            pusher=pusher,
            outbox=outbox,
            clock=clock,
            time_left=time_left,
            margin=margin,
        )
        report.pushed, report.unchanged, report.batches = run.pushed, run.unchanged, run.batches
        report.still_waiting = dict(run.waiting)
        if run.stopped_early:
            report.stopped_early = True
            left = report.due - report.superseded - run.pushed - run.unchanged - sum(run.waiting.values())
            report.still_waiting["pending"] = report.still_waiting.get("pending", 0) + max(left, 0)
        return report
    finally:
        for realm in held:
            lease.release(f"realm:{realm}", holder)
