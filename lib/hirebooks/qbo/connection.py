"""The QuickBooks connection: one record per realm with its tokens, and the one locked path that refreshes them.

Reference quickbooks.md, "OAuth 2.0 tokens":
- access tokens last 60 minutes; the refresh token rolls over 100 days and is rotated (the old one then dies);
  every refresh token chain also has a 5-year hard maximum (warn 30 and 7 days before it);
- "Always persist whatever refresh token came back, atomically, before using the new access token";
- "Refresh once per realm under a lock; after taking the lock re-read the store; on invalid_grant re-read once more
  (a sibling may have rotated it) before declaring the connection dead."

Invariant 6 (one token writer): every refresh goes through `TokenKeeper.refresh`, which holds a lease per realm and
writes the new tokens with a conditional write on the record's version. Workers that find the lease taken wait and
re-read instead of refreshing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hirebooks import errors as E
from hirebooks.observability import logger, metrics
from hirebooks.ports import Clock, ConnectionStore, Lease, Notifier

from .oauth import QboOAuthClient, TokenSet

EARLY_REFRESH = 300.0  # a token with less than five minutes left counts as expired
REFRESH_AHEAD = 1200.0  # the schedule refreshes tokens with less than 20 minutes left
DAY = 86400.0
HARD_WARNINGS = (30, 7)  # days before the 5-year hard expiry (reference: Intuit's sample warns 30 and 7 days before)
ROLLING_WARNING_DAYS = 14  # the rolling expiry is 100 days and moves on every refresh: under 14 days, nothing refreshes
CONNECTED, NEEDS_RECONNECT = "connected", "needs_reconnect"


@dataclass
class Connection:
    realm_id: str
    company_id: int
    package_id: str
    status: str
    tokens: TokenSet | None
    version: int = 0
    company_name: str = ""
    connected_at: float = 0.0
    last_refresh_at: float = 0.0
    reason: str = ""
    warnings_sent: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # never a token in a log line
        return f"Connection(realm={self.realm_id!r}, status={self.status!r}, version={self.version})"

    def fresh(self, now: float, ahead: float = EARLY_REFRESH) -> bool:
        return self.tokens is not None and self.tokens.access_expires_at - ahead > now

    def summary(self, now: float) -> dict[str, Any]:
        """What the status page shows: no token, only dates and days left."""
        t = self.tokens

        def days(at: float | None) -> float | None:
            return None if at is None else round((at - now) / DAY, 1)

        return {
            "realm_id": self.realm_id,
            "company_name": self.company_name,
            "status": self.status,
            "reason": self.reason,
            "connected_at": self.connected_at,
            "access_expires_at": t.access_expires_at if t else None,
            "rolling_expires_at": t.refresh_expires_at if t else None,
            "hard_expires_at": t.hard_expires_at if t else None,
            "rolling_days_left": days(t.refresh_expires_at) if t else None,
            "hard_days_left": days(t.hard_expires_at) if t else None,
            "warnings": warnings_for(self, now),
        }


def warnings_for(conn: Connection, now: float) -> list[dict[str, str]]:
    """Each warning that applies now: a key (sent once each) and words for a person."""
    out: list[dict[str, str]] = []
    if conn.status == NEEDS_RECONNECT:
        out.append({"key": "reconnect", "message": f"Reconnect QuickBooks company {conn.realm_id}: {conn.reason}"})
        return out
    tokens = conn.tokens
    if tokens is None:
        return out
    hard = tokens.hard_expires_at
    if hard is not None:
        left = (hard - now) / DAY
        for threshold in sorted(HARD_WARNINGS):  # the nearest one that applies
            if left <= threshold:
                out.append(
                    {
                        "key": f"hard-{threshold}",
                        "message": f"The QuickBooks connection to {conn.company_name or conn.realm_id} reaches "
                        f"Intuit's 5-year limit in {max(left, 0):.0f} days: reconnect it before then, or sync stops "
                        "on that day.",
                    }
                )
                break
    rolling_left = (tokens.refresh_expires_at - now) / DAY
    if rolling_left <= ROLLING_WARNING_DAYS:
        out.append(
            {
                "key": "rolling",
                "message": f"The QuickBooks connection to {conn.company_name or conn.realm_id} has not been "
                f"refreshed and expires in {max(rolling_left, 0):.0f} days: check that token_refresh runs.",
            }
        )
    return out


class TokenKeeper:
    """The one locked refresh path, used by the schedule and by any worker that met a 401."""

    def __init__(
        self,
        *,
        store: ConnectionStore,
        oauth: QboOAuthClient,
        lease: Lease,
        clock: Clock,
        notifier: Notifier | None = None,
        reconnect_link: str = "",
        wait_seconds: float = 20.0,
    ) -> None:
        self.store = store
        self.oauth = oauth
        self.lease = lease
        self.clock = clock
        self.notifier = notifier
        self.reconnect_link = reconnect_link
        self.wait_seconds = wait_seconds
        self.refreshes = 0

    def _connection(self, realm_id: str) -> Connection:
        conn = self.store.get(realm_id)
        if conn is None or conn.tokens is None:
            raise E.ReconnectNeededError(f"QuickBooks company {realm_id} is not connected: connect it in HireBooks")
        if conn.status == NEEDS_RECONNECT:
            raise E.ReconnectNeededError(f"QuickBooks company {realm_id} needs reconnecting: {conn.reason}")
        return conn

    def refresh(self, realm_id: str, seen_access: str | None) -> Connection:
        """Make sure the realm has an access token newer than `seen_access` (the one the caller found expired or
        refused). Whoever holds the realm's lease refreshes; the others wait for it and re-read."""
        holder = uuid.uuid4().hex
        name = f"token#{realm_id}"
        started = self.clock.monotonic()
        while not self.lease.acquire(name, holder, self.clock.time(), ttl=60.0):
            conn = self._connection(realm_id)
            if conn.tokens is not None and conn.tokens.access_token != seen_access and conn.fresh(self.clock.time()):
                return conn  # a sibling refreshed it
            if self.clock.monotonic() - started > self.wait_seconds:
                raise E.TransientError(f"Another worker is refreshing QuickBooks company {realm_id}; try again")
            self.clock.sleep(0.05)
        try:
            conn = self._connection(realm_id)  # re-read under the lock
            assert conn.tokens is not None
            now = self.clock.time()
            if conn.tokens.access_token != seen_access and conn.fresh(now):
                return conn
            try:
                fresh = self.oauth.refresh(conn.tokens.refresh_token, now)
            except E.ReconnectNeededError as exc:
                latest = self._connection(realm_id)  # re-read once more: a sibling may have rotated it
                if latest.tokens is not None and latest.tokens.refresh_token != conn.tokens.refresh_token:
                    return latest
                self.mark_dead(latest, str(exc))
                raise
            updated = replace(conn, tokens=fresh, last_refresh_at=now)
            updated.warnings_sent = [w for w in conn.warnings_sent if w != "rolling"]  # the rolling window moved
            if not self.store.save(updated, conn.version):
                # Only possible if our lease ran out mid-refresh and someone else wrote: theirs stands.
                raise E.ConflictError(f"The tokens of QuickBooks company {realm_id} changed while refreshing")
            self.refreshes += 1
            return updated
        finally:
            self.lease.release(name, holder)

    def mark_dead(self, conn: Connection, why: str) -> None:
        for _ in range(3):
            dead = replace(conn, status=NEEDS_RECONNECT, reason=why)
            if self.store.save(dead, conn.version):
                metrics.add_metric(name="ConnectionNeedsReconnect", unit=MetricUnit.Count, value=1)
                logger.warning("QuickBooks connection needs reconnecting", extra={"realm": conn.realm_id, "why": why})
                self._notify_once(dead, "reconnect")
                return
            latest = self.store.get(conn.realm_id)
            if latest is None or latest.status == NEEDS_RECONNECT:
                return
            conn = latest

    def _notify_once(self, conn: Connection, key: str) -> None:
        if self.notifier is None:
            return
        for warning in warnings_for(conn, self.clock.time()):
            if warning["key"] != key:
                continue
            link = self.reconnect_link.format(realm_id=conn.realm_id, package=conn.package_id, company=conn.company_id)
            self.notifier.notify(
                f"HireBooks: QuickBooks company {conn.company_name or conn.realm_id}",
                f"{warning['message']}\n\nReconnect: {link}" if link else warning["message"],
            )

    def run_schedule(self) -> dict[str, Any]:
        """token_refresh's scheduled run: refresh what expires soon; send each warning that applies, once."""
        refreshed: list[str] = []
        dead: list[str] = []
        warned: list[str] = []
        for conn in self.store.all():
            if conn.status == CONNECTED and not conn.fresh(self.clock.time(), REFRESH_AHEAD):
                try:
                    conn = self.refresh(conn.realm_id, conn.tokens.access_token if conn.tokens else None)
                    refreshed.append(conn.realm_id)
                except E.ReconnectNeededError:
                    dead.append(conn.realm_id)
                    continue
            latest = self.store.get(conn.realm_id) or conn
            due = [w for w in warnings_for(latest, self.clock.time()) if w["key"] not in latest.warnings_sent]
            if due and latest.status == CONNECTED:
                for warning in due:
                    self._notify_once(latest, warning["key"])
                metrics.add_metric(name="ConnectionWarningsSent", unit=MetricUnit.Count, value=len(due))
                marked = replace(latest, warnings_sent=[*latest.warnings_sent, *(w["key"] for w in due)])
                if self.store.save(marked, latest.version):
                    warned.extend(f"{latest.realm_id}:{w['key']}" for w in due)
        return {"refreshed": refreshed, "needs_reconnect": dead, "warned": warned}


# ====================================================================== the connect link's state
STATE_TTL = 600.0


class StateError(ValueError):
    """A callback's state that is tampered, expired or used before: refuse, store nothing."""


def sign_state(key: bytes, company_id: int, package_id: str, now: float) -> tuple[str, str]:
    """A signed, expiring state naming the package; returns (state, nonce). The nonce is stored to refuse replays."""
    nonce = secrets.token_urlsafe(12)
    payload = {"c": company_id, "p": package_id, "n": nonce, "e": int(now + STATE_TTL)}
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
    mac = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}", nonce


def read_state(key: bytes, state: str, now: float) -> dict[str, Any]:
    body, _, mac = (state or "").partition(".")
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(mac.encode(), expected.encode()):
        raise StateError("The connect link's state is not one HireBooks signed: start again from the connect link.")
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError as exc:
        raise StateError("The connect link's state cannot be read: start again from the connect link.") from exc
    if float(payload["e"]) < now:
        raise StateError("The connect link has expired (10 minutes): start again from the connect link.")
    return dict(payload)
