"""An in-process token provider: one lock per realm, so one thread refreshes and the rest wait and re-read.

This is the single-writer rule of DESIGN.md inside one process. The durable, cross-process store (Secrets Manager
with a versioned, conditional write) implements the same TokenProvider port.
"""

from __future__ import annotations

import threading

from hirebooks import errors as E
from hirebooks.clock import SystemClock
from hirebooks.ports import Clock, ConnectionStore

from .connection import NEEDS_RECONNECT, Connection, TokenKeeper
from .oauth import QboOAuthClient, TokenSet

EARLY_REFRESH = 300.0  # refresh an access token five minutes before it expires


class InMemoryTokenProvider:
    def __init__(self, oauth: QboOAuthClient, clock: Clock | None = None) -> None:
        self.oauth = oauth
        self.clock: Clock = clock or SystemClock()
        self._tokens: dict[str, TokenSet] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.refreshes = 0

    def put(self, realm_id: str, tokens: TokenSet) -> None:
        with self._guard:
            self._tokens[realm_id] = tokens

    def tokens(self, realm_id: str) -> TokenSet:
        current = self._tokens.get(realm_id)
        if current is None:
            raise E.ReconnectNeededError(f"QuickBooks company {realm_id} is not connected")
        return current

    def _lock(self, realm_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(realm_id, threading.Lock())

    def access_token(self, realm_id: str) -> str:
        current = self.tokens(realm_id)
        if current.access_expires_at - EARLY_REFRESH > self.clock.time():
            return current.access_token
        return self._refresh(realm_id, current.access_token)

    def refresh_after_unauthorized(self, realm_id: str, rejected_token: str) -> str:
        return self._refresh(realm_id, rejected_token)

    def _refresh(self, realm_id: str, seen_token: str) -> str:
        with self._lock(realm_id):
            current = self.tokens(realm_id)  # re-read under the lock: a sibling may have refreshed already
            if current.access_token != seen_token and current.access_expires_at - EARLY_REFRESH > self.clock.time():
                return current.access_token
            try:
                fresh = self.oauth.refresh(current.refresh_token, self.clock.time())
            except E.ReconnectNeededError:
                latest = self.tokens(realm_id)  # re-read once more before declaring the connection dead
                if latest.refresh_token != current.refresh_token:
                    return latest.access_token
                raise
            self.refreshes += 1
            self.put(realm_id, fresh)  # persist the (possibly rotated) refresh token before using the access token
            return fresh.access_token


class StoredTokenProvider:
    """Tokens as the connection store holds them, through a short cache. It never refreshes by itself: an expired or
    refused token goes through the TokenKeeper's locked path (invariant 6), whoever holds the realm's lock refreshes,
    and the rest wait and re-read. Without a keeper (a reader only) a refused token is re-read once."""

    def __init__(
        self,
        store: ConnectionStore,
        clock: Clock | None = None,
        *,
        keeper: TokenKeeper | None = None,
        cache_seconds: float = 30.0,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.keeper = keeper
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Connection]] = {}

    def _load(self, realm_id: str, fresh: bool = False) -> Connection:
        now = self.clock.time()
        cached = self._cache.get(realm_id)
        if cached is not None and not fresh and now - cached[0] < self.cache_seconds:
            return cached[1]
        conn = self.store.get(realm_id)
        if conn is None or conn.tokens is None:
            raise E.ReconnectNeededError(f"QuickBooks company {realm_id} is not connected: connect it in HireBooks")
        if conn.status == NEEDS_RECONNECT:
            raise E.ReconnectNeededError(f"QuickBooks company {realm_id} needs reconnecting: {conn.reason}")
        self._cache[realm_id] = (now, conn)
        return conn

    def _renewed(self, realm_id: str, seen: str) -> str:
        if self.keeper is not None:
            conn = self.keeper.refresh(realm_id, seen)
            self._cache[realm_id] = (self.clock.time(), conn)
            assert conn.tokens is not None
            return conn.tokens.access_token
        conn = self._load(realm_id, fresh=True)
        assert conn.tokens is not None
        if conn.tokens.access_token != seen and conn.fresh(self.clock.time(), 0):
            return conn.tokens.access_token
        raise E.AuthError(
            f"QuickBooks refused the access token of company {realm_id}; token_refresh renews it, "
            "and what waits is retried"
        )

    def access_token(self, realm_id: str) -> str:
        conn = self._load(realm_id)
        assert conn.tokens is not None
        if conn.fresh(self.clock.time()):
            return conn.tokens.access_token
        return self._renewed(realm_id, conn.tokens.access_token)

    def refresh_after_unauthorized(self, realm_id: str, rejected_token: str) -> str:
        return self._renewed(realm_id, rejected_token)
