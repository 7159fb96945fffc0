"""Sending a flush's documents through QuickBooks' batch endpoint, without giving up exactly once.

Each document is planned (hirebooks.sync.push.Pusher.plan): dependencies are written at once, and the document's
own create or update comes back unsent. Plans go out 30 to a batch (reference: "operations in one batch: 30"),
per realm, stage by stage in dependency order, since items of one batch cannot see each other's creations.

Exactly once, still:
- each create's intent is in the id map before the batch is sent;
- a batch's request id derives from its items' request ids, which carry each document's content hash and
  generation: a retried batch is replayed, and a batch with newer content is never mistaken for an old one;
- an item QuickBooks refuses as a duplicate (6140), stale (5010) or gone (610) is pushed again by the single-call
  path, which looks up, re-reads or re-creates as it should; an item left out of the answer stays an intent, so
  the next attempt looks it up by DocNumber before creating anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hirebooks import errors as E
from hirebooks.ports import Clock, Outbox
from hirebooks.qbo.client import BATCH_LIMIT, BatchItem

from .model import OutboxEntry
from .push import PlannedWrite, Pusher, PushOutcome, _outcome, push_and_record, record_failure, record_outcome

FALLBACK = (E.DuplicateError, E.ConflictError, E.NotFoundError)


@dataclass
class BatchRun:
    pushed: int = 0
    unchanged: int = 0
    waiting: dict[str, int] = field(default_factory=dict)
    stopped_early: bool = False
    batches: int = 0

    def count(self, outcome: PushOutcome) -> None:
        if outcome.status == "synced":
            self.pushed += 1
        elif outcome.status == "skipped":
            self.unchanged += 1
        else:
            self.waiting[outcome.status] = self.waiting.get(outcome.status, 0) + 1


def send_in_batches(
    stages: list[list[OutboxEntry]],
    *,
    pusher: Pusher,
    outbox: Outbox,
    clock: Clock,
    time_left: Callable[[], float],
    margin: float,
) -> BatchRun:
    run = BatchRun()
    for stage in stages:
        plans: dict[str, list[tuple[OutboxEntry, PlannedWrite]]] = {}
        for entry in stage:
            if time_left() < margin:
                run.stopped_early = True
                return run
            now = clock.time()
            try:
                planned = pusher.plan(entry, force=True)
            except E.HireBooksError as exc:
                run.count(record_failure(outbox, entry, exc, now=now))
                continue
            if isinstance(planned, PushOutcome):
                run.count(record_outcome(outbox, entry, planned, now=now))
            else:
                plans.setdefault(planned.gateway.realm_id, []).append((entry, planned))
        for realm_plans in plans.values():
            for start in range(0, len(realm_plans), BATCH_LIMIT):
                if time_left() < margin:
                    run.stopped_early = True  # the unsent wait as they were; the next run plans them again
                    return run
                _send(realm_plans[start : start + BATCH_LIMIT], pusher, outbox, clock, run)
    return run


def _send(
    chunk: list[tuple[OutboxEntry, PlannedWrite]], pusher: Pusher, outbox: Outbox, clock: Clock, run: BatchRun
) -> None:
    gateway = chunk[0][1].gateway
    for _, plan in chunk:
        if plan.op == "create":
            pusher.idmap.put(plan.link)  # the intent, before the write
    items = [BatchItem(plan.request_id, plan.op, plan.entity, plan.batch_body()) for _, plan in chunk]
    run.batches += 1
    try:
        outcomes = gateway.batch(items)  # type: ignore[attr-defined]
    except E.HireBooksError as exc:
        for entry, _ in chunk:
            run.count(record_failure(outbox, entry, exc, now=clock.time()))
        return
    for entry, plan in chunk:
        result = outcomes[plan.request_id]
        now = clock.time()
        if result.ok and result.obj is not None:
            pusher._save(plan.link, result.obj, plan.digest)
            what = "created" if plan.op == "create" else "updated"
            outcome = _outcome(what, plan.entity, plan.label, plan.package, str(result.obj["Id"]))
            if plan.after is not None:
                try:
                    outcome = PushOutcome(
                        outcome.status,
                        outcome.reason + plan.after(str(result.obj["Id"])),
                        outcome.qbo_entity,
                        outcome.qbo_id,
                    )
                except E.HireBooksError as exc:
                    # The document is in QuickBooks (linked above), its follow-up (a credit note's application to
                    # its invoice) is not: the entry waits and is retried, which finds the twin and does just that.
                    # Marking it synced here lost the application for good (found by the demo, in an outage).
                    run.count(record_failure(outbox, entry, exc, now=now))
                    continue
            run.count(record_outcome(outbox, entry, outcome, now=now))
        elif isinstance(result.error, FALLBACK):
            run.count(push_and_record(pusher, outbox, entry, force=True))
        else:
            run.count(record_failure(outbox, entry, result.error or E.UnknownOutcomeError("no answer"), now=now))
