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
    history: list[dict[str, Any]] = field(default_factory=list)
