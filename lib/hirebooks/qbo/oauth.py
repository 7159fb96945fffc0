"""Intuit's OAuth 2.0 endpoints, on `requests` (not intuit-oauth: its AuthClient fetches a discovery document over the
network with no timeout every time it is built; reference, "Libraries").

- POST, form-encoded, Basic base64(client_id:client_secret) (reference, "OAuth 2.0 tokens").
- The hard expiry comes back only when asked for with x-include-refresh-token-hard-expires-in: true.
- invalid_grant is not transient: the refresh token is dead (ReconnectNeededError).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from hirebooks import errors as E

SCOPE = "com.intuit.quickbooks.accounting"


@dataclass(frozen=True)
class OAuthEndpoints:
    authorize: str = "https://appcenter.intuit.com/connect/oauth2"
    token: str = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL
    revoke: str = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"

    @classmethod
    def on(cls, base_url: str) -> OAuthEndpoints:
        """All three on one host, as the local simulator serves them."""
        base = base_url.rstrip("/")
        return cls(f"{base}/connect/oauth2", f"{base}/oauth2/v1/tokens/bearer", f"{base}/v2/oauth2/tokens/revoke")


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    hard_expires_in: int | None
    obtained_at: float

    @property
    def access_expires_at(self) -> float:
        return self.obtained_at + self.expires_in

    @property
    def refresh_expires_at(self) -> float:
        return self.obtained_at + self.refresh_expires_in

    @property
    def hard_expires_at(self) -> float | None:
        return None if self.hard_expires_in is None else self.obtained_at + self.hard_expires_in

    def __repr__(self) -> str:  # never show a token in a log or a traceback
        return f"TokenSet(expires_in={self.expires_in}, refresh_expires_in={self.refresh_expires_in})"

    def to_secret(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_in": self.expires_in,
                "refresh_expires_in": self.refresh_expires_in,
                "hard_expires_in": self.hard_expires_in,
                "obtained_at": self.obtained_at,
            }
        )

    @classmethod
    def from_secret(cls, text: str) -> TokenSet:
        data = json.loads(text)
        return cls(
            str(data["access_token"]),
            str(data["refresh_token"]),
            int(data["expires_in"]),
            int(data["refresh_expires_in"]),
            None if data.get("hard_expires_in") is None else int(data["hard_expires_in"]),
            float(data["obtained_at"]),
        )


class QboOAuthClient:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        endpoints: OAuthEndpoints | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 15.0),
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.endpoints = endpoints or OAuthEndpoints()
        self.session = session or requests.Session()
        self.timeout = timeout

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self.endpoints.authorize}?{urlencode(query)}"

    def _post_token(self, form: dict[str, str], now: float) -> TokenSet:
        try:
            resp = self.session.post(
                self.endpoints.token,
                data=form,
                auth=(self.client_id, self._secret),
                headers={"Accept": "application/json", "x-include-refresh-token-hard-expires-in": "true"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise E.TransientError(
                f"Intuit's token endpoint did not answer ({type(exc).__name__})", source="intuit-oauth"
            ) from exc
        body: Any
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code >= 500:
            raise E.TransientError(
                f"Intuit's token endpoint failed with HTTP {resp.status_code}", source="intuit-oauth"
            )
        if resp.status_code >= 400 or not isinstance(body, dict) or "access_token" not in body:
            error = str(body.get("error", "")) if isinstance(body, dict) else ""
            description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
            if error == "invalid_grant":
                raise E.ReconnectNeededError(
                    "QuickBooks no longer accepts this connection's refresh token: reconnect the company",
                    code=error,
                    detail=description,
                    source="intuit-oauth",
                )
            if error == "invalid_client" or resp.status_code == 401:
                raise E.NeedsSetupError(
                    "Intuit refused the app's client id or secret: check the app settings",
                    code=error or "401",
                    detail=description,
                    source="intuit-oauth",
                )
            raise E.AuthError(
                f"Intuit's token endpoint refused the request: {error or resp.status_code}",
                code=error or str(resp.status_code),
                detail=description,
                source="intuit-oauth",
            )
        hard = body.get("x_refresh_token_hard_expires_in")
        return TokenSet(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_in=int(body.get("expires_in", 3600)),
            refresh_expires_in=int(body.get("x_refresh_token_expires_in", 0)),
            hard_expires_in=None if hard is None else int(hard),
            obtained_at=now,
        )

    def exchange_code(self, code: str, redirect_uri: str, now: float) -> TokenSet:
        return self._post_token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}, now)

    def refresh(self, refresh_token: str, now: float) -> TokenSet:
        return self._post_token({"grant_type": "refresh_token", "refresh_token": refresh_token}, now)

    def revoke(self, token: str) -> None:
        try:
            resp = self.session.post(
                self.endpoints.revoke,
                json={"token": token},
                auth=(self.client_id, self._secret),
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise E.TransientError("Intuit's revoke endpoint did not answer", source="intuit-oauth") from exc
        if resp.status_code >= 400:
            raise E.AuthError(f"Intuit refused to revoke the token (HTTP {resp.status_code})", source="intuit-oauth")
