"""Deterministic request ids for QuickBooks writes.

The id is derived from what is written (company, document kind and id, content version) and a generation number,
so every retry of the same write carries the same id and QuickBooks replays the first answer instead of writing twice
(reference: "A repeat of the same id returns the original response"). A deliberate re-push (after the object was
deleted in QuickBooks) bumps the generation: "the original response is replayed even after the object was deleted,
so a deliberate re-push needs a new id".

It is a UUID-5 string: 36 characters, which fits both the 50-character limit on a single write and the 36-character
limit on a batch's request id.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("0b5f6a3e-2f4d-5c1e-9a7b-6d2c4e8f1a90")


def request_id(company: str, kind: str, doc_id: str, version: str, generation: int = 0) -> str:
    if not all((company, kind, doc_id, version)):
        raise ValueError("company, kind, doc_id and version are all needed for a request id")
    if generation < 0:
        raise ValueError("generation cannot be negative")
    return str(uuid.uuid5(_NAMESPACE, f"{company}|{kind}|{doc_id}|{version}|{generation}"))


def derived(base: str, purpose: str) -> str:
    """A second deterministic id for a follow-up write of the same intent (e.g. the retry after a 5010 re-read)."""
    return str(uuid.uuid5(_NAMESPACE, f"{base}|{purpose}"))


def batch_id(item_ids: list[str]) -> str:
    """A batch's request id from its items' ids: the same items in the same order replay the same answer."""
    return str(uuid.uuid5(_NAMESPACE, "batch|" + "|".join(item_ids)))
