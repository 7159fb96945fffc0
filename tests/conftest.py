"""Shared fixtures: a QuickBooks simulator on a loopback port with a US and a UK company, and clients for it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from hirebooks.qbo.client import QboHttpClient, RetryPolicy
from hirebooks.qbo.oauth import OAuthEndpoints, QboOAuthClient, TokenSet
from hirebooks.qbo.pacing import Limits, RealmPacer
from hirebooks.qbo.tokens import InMemoryTokenProvider
from qbosim import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, QboSimulator
from qbosim.control import SimControl

US = "9130350000000001"
UK = "9130350000000002"


def token_set(body: dict[str, Any], now: float | None = None) -> TokenSet:
    return TokenSet(
        body["access_token"],
        body["refresh_token"],
        int(body["expires_in"]),
        int(body["x_refresh_token_expires_in"]),
        body.get("x_refresh_token_hard_expires_in"),
        time.time() if now is None else now,
    )


@dataclass
class QboWorld:
    sim: QboSimulator
    url: str
    control: SimControl
    oauth: QboOAuthClient
    tokens: InMemoryTokenProvider

    def connect(self, realm_id: str) -> None:
        self.tokens.put(realm_id, token_set(self.control.mint_tokens(realm_id), self.sim.clock.time()))

    def client(self, realm_id: str = US, *, pacer: RealmPacer | None = None, **kw: Any) -> QboHttpClient:
        kw.setdefault("retry", RetryPolicy(max_attempts=6, base_delay=0.02, max_delay=0.2))
        return QboHttpClient(
            base_url=self.url,
            realm_id=realm_id,
            tokens=self.tokens,
            pacer=pacer or RealmPacer(Limits(), self.sim.clock),
            clock=self.sim.clock,
            **kw,
        )

    def raw(self, realm_id: str = US) -> requests.Session:
        """A bare HTTP session with a valid bearer token, for speaking to the simulator as any client would."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.tokens.access_token(realm_id)}"
        session.headers["Accept"] = "application/json"
        return session

    def api(self, realm_id: str = US) -> str:
        return f"{self.url}/v3/company/{realm_id}"

    def first(self, realm_id: str, entity: str, **match: Any) -> dict[str, Any]:
        for obj in self.control.objects(realm_id, entity):
            if all(obj.get(k) == v for k, v in match.items()):
                return obj
        raise LookupError(f"no {entity} with {match}")


@pytest.fixture
def qbo() -> Iterator[QboWorld]:
    sim = QboSimulator(seed=11)
    url = sim.start()
    sim.add_realm("US", US)
    sim.add_realm("UK", UK)
    oauth = QboOAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, OAuthEndpoints.on(url))
    world = QboWorld(sim, url, SimControl(url), oauth, InMemoryTokenProvider(oauth, sim.clock))
    world.connect(US)
    world.connect(UK)
    try:
        yield world
    finally:
        sim.stop()
