"""Domain records of the sync."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TenantRecord:
    company_id: int
    export_key_sha256: str
    name: str = ""


@dataclass
class Link:
    """The id map: one HireHop thing and its QuickBooks twin in one realm.

    state "creating" is written before a create (with the request id): if the answer is lost, the next attempt sees
    the intent and looks the document up by DocNumber before creating anything (invariant 2, "exactly once").
    """

    company_id: int
    realm_id: str
    key: str  # "invoice:1012", "contact:1004:customer", "item:account:57", "creditapply:1015", ...
    qbo_entity: str
    state: str  # "creating" or "synced"
    request_id: str
    content_hash: str
    qbo_id: str | None = None
    sync_token: str | None = None
    doc_number: str | None = None
    generation: int = 0
    origin: str = "hirebooks"
    updated_at: float = 0.0
    job_id: int = 0  # the HireHop job of a document (HireHop reads billing per job; the write-back needs it)


@dataclass
class OutboxEntry:
    """One accepted HireHop event about a document: pending until synced; its reason says why it waits."""

    company_id: int
    entry_id: str
    doc_kind: str
    doc_id: str
    event: str
    event_time: str
    received_at: float
    payload: dict[str, Any]
    status: str = "pending"
    reason: str = ""
    attempts: int = 0
    next_attempt_at: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)


# The MEMO of every deposit and application the write-back puts into HireHop starts with this: a lost answer is found
# by it, and the push never sends such a deposit back to QuickBooks (it came from there).
WRITEBACK_MEMO_PREFIX = "HireBooks QBO "


@dataclass
class WritebackRecord:
    """What HireHop holds of one QuickBooks payment: the version last applied and the jobs it touched."""

    realm_id: str
    entity: str
    qbo_id: str
    company_id: int
    version: int  # the QuickBooks SyncToken applied
    deleted: bool = False
    jobs: list[int] = field(default_factory=list)
    updated_at: float = 0.0


# Outbox statuses. "synced" and "skipped" are done; the rest wait in the buffer, each with a reason.
DONE = ("synced", "skipped", "discarded")
WAITING = ("pending", "retry", "needs_setup", "waiting_for_connection", "rejected")
# These wait for a person (fix the set-up, then retry or discard), so no flush picks them up by itself.
PARKED_STATUSES = ("needs_setup", "rejected")
PARKED = 9.0e15  # "due" never: the Waiting index sorts them last
