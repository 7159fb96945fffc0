"""Intuit's OAuth 2.0 server, as the reference sheet describes it ("OAuth 2.0 tokens").

- Access tokens live 60 minutes; refresh tokens roll over 100 days and are rotated (by default once a day of
  simulated time; `rotate_after=0` rotates on every refresh): after rotation the old one is dead.
- Every refresh token chain has a hard expiry (5 years from consent); the response carries
  x_refresh_token_hard_expires_in only when the request asks with x-include-refresh-token-hard-expires-in: true.
- A dead refresh token answers 400 {"error":"invalid_grant","error_description":"Incorrect or invalid refresh token"}.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

ACCESS_TTL = 3600
REFRESH_ROLLING = 100 * 86400
HARD_MAX = 157_680_000  # 5 years, reference
CODE_TTL = 600  # ASSUMPTION: authorization codes last 10 minutes


@dataclass
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]


@dataclass
class RefreshToken:
    value: str
    realm_id: str
    client_id: str
    issued_at: float
    hard_expiry: float
    alive: bool = True


@dataclass
class AccessToken:
    value: str
    realm_id: str
    expires_at: float
    refresh: str


@dataclass
class OAuthError(Exception):
    status: int
    error: str
    description: str

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class OAuthServer:
    rotate_after: float = 86400.0
    hard_max: float = HARD_MAX
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, tuple[str, str, str, float]] = field(default_factory=dict)  # code -> client, realm, uri, exp
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refreshes: int = 0
    exchanges: int = 0
    invalid_grants: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_client(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        with self.lock:
            self.clients[client_id] = Client(client_id, client_secret, list(redirect_uris))

    def check_client(self, client_id: str | None, client_secret: str | None) -> Client:
        client = self.clients.get(client_id or "")
        if client is None or not secrets.compare_digest(client.client_secret, client_secret or ""):
            raise OAuthError(401, "invalid_client", "Client authentication failed")
        return client

    def authorize(self, client_id: str, redirect_uri: str, realm_id: str, now: float) -> str:
        with self.lock:
            client = self.clients.get(client_id)
            if client is None:
                raise OAuthError(400, "invalid_client", "Unknown client_id")
            if redirect_uri not in client.redirect_uris:
                raise OAuthError(400, "invalid_request", "redirect_uri is not registered for this app")
            code = "AB" + secrets.token_urlsafe(24)
            self.codes[code] = (client_id, realm_id, redirect_uri, now + CODE_TTL)
            return code

    def _issue(self, client_id: str, realm_id: str, now: float, hard_expiry: float) -> RefreshToken:
        rt = RefreshToken("RT1-" + secrets.token_urlsafe(32), realm_id, client_id, now, hard_expiry)
        self.refresh_tokens[rt.value] = rt
        return rt

    def _access(self, rt: RefreshToken, now: float) -> AccessToken:
        at = AccessToken("eyJ" + secrets.token_urlsafe(48), rt.realm_id, now + ACCESS_TTL, rt.value)
        self.access_tokens[at.value] = at
        return at

    def _answer(self, rt: RefreshToken, at: AccessToken, now: float, want_hard: bool) -> dict[str, Any]:
        rolling_left = int(min(rt.issued_at + REFRESH_ROLLING, rt.hard_expiry) - now)
        body: dict[str, Any] = {
            "access_token": at.value,
            "refresh_token": rt.value,
            "token_type": "bearer",
            "expires_in": ACCESS_TTL,
            "x_refresh_token_expires_in": max(rolling_left, 0),
        }
        if want_hard:
            body["x_refresh_token_hard_expires_in"] = max(int(rt.hard_expiry - now), 0)
        return body

    def exchange(self, client: Client, code: str, redirect_uri: str, now: float, want_hard: bool) -> dict[str, Any]:
        with self.lock:
            entry = self.codes.pop(code, None)  # single use
            if entry is None or entry[0] != client.client_id or entry[2] != redirect_uri or entry[3] < now:
                self.invalid_grants += 1
                raise OAuthError(400, "invalid_grant", "Invalid authorization code")
            self.exchanges += 1
            rt = self._issue(client.client_id, entry[1], now, now + self.hard_max)
            return self._answer(rt, self._access(rt, now), now, want_hard)

    def mint(self, client_id: str, realm_id: str, now: float) -> dict[str, Any]:
        """Control surface: tokens for a realm without the browser dance."""
        with self.lock:
            rt = self._issue(client_id, realm_id, now, now + self.hard_max)
            return self._answer(rt, self._access(rt, now), now, True)

    def refresh(self, client: Client, token: str, now: float, want_hard: bool) -> dict[str, Any]:
        with self.lock:
            rt = self.refresh_tokens.get(token)
            if (
                rt is None
                or not rt.alive
                or rt.client_id != client.client_id
                or now >= rt.issued_at + REFRESH_ROLLING
                or now >= rt.hard_expiry
            ):
                self.invalid_grants += 1
                raise OAuthError(400, "invalid_grant", "Incorrect or invalid refresh token")
            self.refreshes += 1
            if now - rt.issued_at >= self.rotate_after:
                rt.alive = False  # reference: "after which the old one is dead"
                rt = self._issue(client.client_id, rt.realm_id, now, rt.hard_expiry)
            return self._answer(rt, self._access(rt, now), now, want_hard)

    def revoke(self, token: str) -> None:
        with self.lock:
            rt = self.refresh_tokens.get(token)
            if rt is None:
                at = self.access_tokens.get(token)
                rt = self.refresh_tokens.get(at.refresh) if at else None
            if rt is not None:
                rt.alive = False
                for value, at in list(self.access_tokens.items()):
                    if at.refresh == rt.value:
                        del self.access_tokens[value]

    def check_access(self, token: str, realm_id: str, now: float) -> bool:
        at = self.access_tokens.get(token)
        return at is not None and at.realm_id == realm_id and at.expires_at > now

    def expire_access_tokens(self) -> int:
        with self.lock:
            n = len(self.access_tokens)
            for at in self.access_tokens.values():
                at.expires_at = 0
            return n
