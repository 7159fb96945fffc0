"""A thin QuickBooks Online client on `requests`.

- `minorversion=75` on every call (reference: "Send minorversion=75 on every call").
- Every write carries a deterministic `requestid`; retries (429, 5xx, timeouts, resets) reuse it, so a write whose
  answer was lost is replayed by QuickBooks, not written twice.
- Faults in any shape become domain errors (hirebooks.errors); the caller acts on the kind.
- Each call holds a slot of the realm's pacer, so concurrent callers stay under the realm's limits.
- A 401 asks the token provider for a fresh token once (through its single locked refresh path), then gives up.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests

from hirebooks import errors as E
from hirebooks.clock import SystemClock
from hirebooks.ports import Clock, TokenProvider
from hirebooks.retry import RetryPolicy, run_with_retries
from hirebooks.stats import Stats

from .faults import fault_from_json, parse_fault, to_error
from .pacing import DEFAULT_PACERS, RealmPacer
from .requestid import batch_id, derived

MINOR_VERSION = "75"
BATCH_LIMIT = 30  # reference: "operations in one batch: 30 (one newer Intuit tutorial says 50; use 30)"
QUERY_PAGE = 1000  # reference: "MAXRESULTS up to 1000"
CDC_CAP = 1000  # reference: "at most 1000 objects per response, no cursor: split the window"


__all__ = ["BatchItem", "BatchOutcome", "CdcResult", "QboHttpClient", "RetryPolicy", "escape"]


@dataclass
class ClientStats(Stats):
    calls: int = 0
    http_requests: int = 0
    retries: int = 0
    throttled: int = 0
    unknown_outcomes: int = 0
    conflicts_reread: int = 0
    token_refreshes: int = 0


@dataclass
class BatchItem:
    key: str  # the caller's name for this item (a document id); also feeds the batch's request id
    operation: str  # create, update, delete, void
    entity: str
    body: dict[str, Any]


@dataclass
class BatchOutcome:
    key: str
    entity: str
    obj: dict[str, Any] | None = None
    error: E.HireBooksError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class CdcResult:
    objects: dict[str, list[dict[str, Any]]]
    time: str  # QuickBooks' own time of the answer: the next high-water mark
    complete_since: dict[str, str] = field(default_factory=dict)  # per entity, when halving was needed


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(body: Any) -> str:
    return json.dumps(body, default=_json_default, separators=(",", ":"))


def escape(value: str) -> str:
    """Quote a value for the query language: ' becomes \\' (reference: "Query strings must escape ' as \\'")."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


class QboHttpClient:
    """The QuickBooks Online Accounting API for one realm."""

    def __init__(
        self,
        *,
        base_url: str,
        realm_id: str,
        tokens: TokenProvider,
        session: requests.Session | None = None,
        pacer: RealmPacer | None = None,
        clock: Clock | None = None,
        timeout: tuple[float, float] = (3.05, 30.0),
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.realm_id = realm_id
        self.tokens = tokens
        self.session = session or requests.Session()
        self.pacer = pacer or DEFAULT_PACERS.for_realm(realm_id)
        self.clock: Clock = clock or SystemClock()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.rng = rng or random.Random()
        self.stats = ClientStats()

    # ------------------------------------------------------------------ transport
    def _url(self, path: str) -> str:
        return f"{self.base_url}/v3/company/{self.realm_id}/{path}"

    def _once(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        data: str | None,
        content_type: str,
        write: bool,
        batch: bool,
    ) -> Any:
        token = self.tokens.access_token(self.realm_id)
        refreshed = False
        while True:
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Content-Type": content_type,
            }
            self.stats.add("http_requests")
            try:
                with self.pacer.slot(batch=batch):
                    resp = self.session.request(
                        method,
                        self._url(path),
                        params=params,
                        data=data,
                        headers=headers,
                        timeout=self.timeout,
                    )
            except requests.ConnectTimeout as exc:
                raise E.TransientError(f"QuickBooks did not accept the connection: {exc}", source="quickbooks") from exc
            except (requests.Timeout, requests.ConnectionError) as exc:
                if write:
                    self.stats.add("unknown_outcomes")
                    raise E.UnknownOutcomeError(
                        f"No answer from QuickBooks ({type(exc).__name__}); the write may have happened",
                        source="quickbooks",
                    ) from exc
                raise E.TransientError(
                    f"No answer from QuickBooks ({type(exc).__name__})", source="quickbooks"
                ) from exc
            if resp.status_code == 401 and not refreshed:
                refreshed = True
                self.stats.add("token_refreshes")
                token = self.tokens.refresh_after_unauthorized(self.realm_id, token)
                continue
            break
        text = resp.text
        if resp.status_code >= 400:
            err = to_error(resp.status_code, parse_fault(text), raw=text)
            if isinstance(err, E.ThrottledError):
                self.stats.add("throttled")
                retry_after = resp.headers.get("Retry-After")
                if retry_after and retry_after.isdigit():
                    err.retry_after = float(retry_after)
            raise err
        try:
            body = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise E.TransientError(f"QuickBooks answered {resp.status_code} with a body that is not JSON") from exc
        fault = fault_from_json(body)
        if fault is not None:  # a fault inside an HTTP 200
            raise to_error(400, fault)
        return body

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        text: str | None = None,
        write: bool = False,
        batch: bool = False,
        request_id: str | None = None,
    ) -> Any:
        """One API call with retries. Transient failures are retried with the same request id."""
        self.stats.add("calls")
        query = {"minorversion": MINOR_VERSION, **(params or {})}
        if request_id is not None:
            query["requestid"] = request_id
        data = dumps(body) if body is not None else text
        ctype = "application/json" if text is None else "application/text"
        return run_with_retries(
            self._once,
            policy=self.retry,
            clock=self.clock,
            rng=self.rng,
            on_retry=lambda: self.stats.add("retries"),
            method=method,
            path=path,
            params=query,
            data=data,
            content_type=ctype,
            write=write,
            batch=batch,
        )

    # ------------------------------------------------------------------ entities
    def create(
        self, entity: str, body: dict[str, Any], *, request_id: str, allow_duplicate_docnum: bool = False
    ) -> dict[str, Any]:
        params = {"include": "allowduplicatedocnum"} if allow_duplicate_docnum else None
        answer = self.call("POST", entity.lower(), body=body, params=params, write=True, request_id=request_id)
        return dict(answer[entity])

    def update(
        self,
        entity: str,
        body: dict[str, Any],
        *,
        request_id: str,
        sparse: bool = True,
        reread_on_conflict: bool = True,
    ) -> dict[str, Any]:
        """Update with the SyncToken in `body`. On a stale token (5010) read the object once and retry once."""
        if not body.get("Id") or body.get("SyncToken") is None:
            raise ValueError("an update needs Id and SyncToken")
        payload = {**body, "sparse": sparse}
        try:
            answer = self.call("POST", entity.lower(), body=payload, write=True, request_id=request_id)
        except E.ConflictError:
            if not reread_on_conflict:
                raise
            self.stats.add("conflicts_reread")
            current = self.read(entity, str(body["Id"]))
            payload["SyncToken"] = current["SyncToken"]
            retry_id = derived(request_id, f"synctoken-{current['SyncToken']}")
            answer = self.call("POST", entity.lower(), body=payload, write=True, request_id=retry_id)
        return dict(answer[entity])

    def delete(self, entity: str, entity_id: str, sync_token: str, *, request_id: str) -> dict[str, Any]:
        answer = self.call(
            "POST",
            entity.lower(),
            params={"operation": "delete"},
            body={"Id": entity_id, "SyncToken": sync_token},
            write=True,
            request_id=request_id,
        )
        return dict(answer[entity])

    def void(self, entity: str, entity_id: str, sync_token: str, *, request_id: str) -> dict[str, Any]:
        answer = self.call(
            "POST",
            entity.lower(),
            params={"operation": "void"},
            body={"Id": entity_id, "SyncToken": sync_token},
            write=True,
            request_id=request_id,
        )
        return dict(answer[entity])

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"{entity.lower()}/{entity_id}")[entity])

    def preferences(self) -> dict[str, Any]:
        return dict(self.call("GET", "preferences")["Preferences"])

    def company_info(self) -> dict[str, Any]:
        return dict(self.call("GET", f"companyinfo/{self.realm_id}")["CompanyInfo"])

    # ------------------------------------------------------------------ queries
    def query(self, statement: str) -> dict[str, Any]:
        if len(statement) > 1500:  # long IN lists: POST the statement as application/text
            return dict(self.call("POST", "query", text=statement)["QueryResponse"])
        return dict(self.call("GET", "query", params={"query": statement})["QueryResponse"])

    def count(self, entity: str, where: str = "") -> int:
        statement = f"select count(*) from {entity}" + (f" where {where}" if where else "")
        return int(self.query(statement).get("totalCount", 0))

    def query_all(self, entity: str, where: str = "", *, page_size: int = QUERY_PAGE) -> Iterator[dict[str, Any]]:
        """Every matching object, page by page (STARTPOSITION is 1-based, MAXRESULTS at most 1000)."""
        page_size = max(1, min(page_size, QUERY_PAGE))
        start = 1
        while True:
            statement = f"select * from {entity}" + (f" where {where}" if where else "")
            page = self.query(f"{statement} orderby Id startposition {start} maxresults {page_size}")
            rows = page.get(entity, [])
            yield from rows
            if len(rows) < page_size:
                return
            start += page_size

    def find_by(self, entity: str, field_name: str, value: str) -> list[dict[str, Any]]:
        return list(self.query_all(entity, f"{field_name} = '{escape(value)}'"))

    # ------------------------------------------------------------------ batch
    def batch(self, items: list[BatchItem]) -> dict[str, BatchOutcome]:
        """Run items through /batch, 30 at a time, matching answers on bId (their order is not guaranteed).

        Items in one batch cannot see each other's creations (reference): put dependencies in an earlier batch.
        Each chunk's request id derives from its items' keys, so a retried chunk is replayed, not re-applied.
        """
        outcomes: dict[str, BatchOutcome] = {}
        for start in range(0, len(items), BATCH_LIMIT):
            chunk = items[start : start + BATCH_LIMIT]
            by_bid = {str(i + 1): item for i, item in enumerate(chunk)}
            request = {
                "BatchItemRequest": [
                    {"bId": bid, "operation": item.operation, item.entity: item.body} for bid, item in by_bid.items()
                ]
            }
            rid = batch_id([f"{item.operation}:{item.entity}:{item.key}" for item in chunk])
            answer = self.call("POST", "batch", body=request, write=True, batch=True, request_id=rid)
            seen: set[str] = set()
            for resp in answer.get("BatchItemResponse", []):
                bid = str(resp.get("bId", ""))
                item = by_bid.get(bid)
                if item is None:
                    continue
                seen.add(bid)
                if "Fault" in resp:
                    fault = fault_from_json({"Fault": resp["Fault"]})
                    outcomes[item.key] = BatchOutcome(item.key, item.entity, error=to_error(400, fault))
                else:
                    outcomes[item.key] = BatchOutcome(item.key, item.entity, obj=resp.get(item.entity))
            for bid, item in by_bid.items():
                if bid not in seen:
                    outcomes[item.key] = BatchOutcome(
                        item.key,
                        item.entity,
                        error=E.UnknownOutcomeError("QuickBooks' batch answer left this item out"),
                    )
        return outcomes

    # ------------------------------------------------------------------ change data capture
    def cdc_once(self, entities: list[str], since: datetime) -> CdcResult:
        answer = self.call(
            "GET",
            "cdc",
            params={"entities": ",".join(entities), "changedSince": since.isoformat(timespec="seconds")},
        )
        objects: dict[str, list[dict[str, Any]]] = {e: [] for e in entities}
        for block in answer.get("CDCResponse", []):
            for part in block.get("QueryResponse", []):
                for entity in entities:
                    objects[entity].extend(part.get(entity, []))
        return CdcResult(objects, str(answer.get("time", "")))

    def cdc(
        self,
        entities: list[str],
        since: datetime,
        now: Callable[[], datetime] | None = None,
        cap: int = CDC_CAP,
    ) -> CdcResult:
        """Changes since `since`, per entity. When an entity's answer hits the 1000-object cap, the window is
        halved (changedSince moved halfway to now) until the answer is complete; the older part of the window is
        then read with paged queries on MetaData.LastUpdatedTime (which cannot show deletions in that part: the
        webhooks are the primary path for those). The result's time is the earliest answer's time."""
        clock_now = now or (lambda: datetime.fromtimestamp(self.clock.time(), since.tzinfo))
        merged: dict[str, list[dict[str, Any]]] = {}
        times: list[str] = []
        complete_since: dict[str, str] = {}
        for entity in entities:
            lo = since
            result = self.cdc_once([entity], lo)
            times.append(result.time)
            while len(result.objects[entity]) >= cap:
                lo = lo + (clock_now() - lo) / 2
                result = self.cdc_once([entity], lo)
            rows = list(result.objects[entity])
            if lo != since:
                complete_since[entity] = lo.isoformat()
                where = (
                    f"MetaData.LastUpdatedTime >= '{since.isoformat(timespec='seconds')}' "
                    f"and MetaData.LastUpdatedTime < '{lo.isoformat(timespec='seconds')}'"
                )
                known = {r["Id"] for r in rows}
                rows.extend(r for r in self.query_all(entity, where) if r["Id"] not in known)
            merged[entity] = rows
        return CdcResult(merged, min(times) if times else "", complete_since)
