"""The QuickBooks connection: one locked refresh path, rotation, a dead connection and reconnecting, the connect
link's state. Against the QuickBooks simulator's OAuth server and moto's DynamoDB (reference quickbooks.md,
"OAuth 2.0 tokens")."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from hirebooks.clock import SystemClock
from hirebooks.config import live_settings, token_settings
from hirebooks.qbo.client import QboHttpClient, RetryPolicy
from hirebooks.qbo.connection import CONNECTED, NEEDS_RECONNECT, TokenKeeper
from hirebooks.qbo.oauth import OAuthEndpoints, QboOAuthClient
from hirebooks.qbo.tokens import StoredTokenProvider
from hirebooks.store.dynamo import DynamoConnections, DynamoLease
from hirebooks.store.notify import SnsNotifier

from tests.conftest import US, LiveWorld, store_tokens

CLIENT_ID, CLIENT_SECRET = "hirebooks-test-app", "test-app-secret"


@dataclass
class TokenWorld:
    live: LiveWorld
    realm: str
    connections: DynamoConnections
    lease: DynamoLease
    notices: Any  # an SQS queue subscribed to the notifications topic
    topic: str

    @property
    def sim(self) -> Any:
        return self.live.qbo.sim

    def oauth(self) -> QboOAuthClient:
        return QboOAuthClient(CLIENT_ID, CLIENT_SECRET, OAuthEndpoints.on(self.live.qbo.url))

    def keeper(self, clock: Any = None) -> TokenKeeper:
        sns = self.live.intake.aws.aws.client("sns")
        return TokenKeeper(
            store=self.connections,
            oauth=self.oauth(),
            lease=self.lease,
            clock=clock or SystemClock(),
            notifier=SnsNotifier(sns, self.topic),
            reconnect_link="https://hirebooks.example/quickbooks/connect?company_id={company}&package={package}",
        )

    def client(self, provider: StoredTokenProvider) -> QboHttpClient:
        return QboHttpClient(
            base_url=self.live.qbo.url,
            realm_id=self.realm,
            tokens=provider,
            retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2),
        )

    def notifications(self) -> list[str]:
        sqs = self.live.intake.aws.aws.client("sqs")
        got = sqs.receive_message(QueueUrl=self.notices, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"])["Message"] for m in got]


@pytest.fixture
def tokens(live: LiveWorld) -> Iterator[TokenWorld]:
    qbo = live.qbo
    qbo.sim.oauth.add_client(CLIENT_ID, CLIENT_SECRET, [f"{live.intake.gateway_url}/quickbooks/callback"])
    realm = US
    oauth = QboOAuthClient(CLIENT_ID, CLIENT_SECRET, OAuthEndpoints.on(qbo.url))
    # A connection made with this app (the simulator ties refresh tokens to the app that got them).
    resp = requests.get(
        oauth.authorize_url(f"{live.intake.gateway_url}/quickbooks/callback", "x"), allow_redirects=False, timeout=5
    )
    code = parse_qs(urlparse(resp.headers["Location"]).query)["code"][0]
    first = oauth.exchange_code(code, f"{live.intake.gateway_url}/quickbooks/callback", time.time())
    store_tokens(live.connections, realm, first, live.intake.company_id, "us")
    aws = live.intake.aws.aws
    topic = aws.client("sns").create_topic(Name=f"notices-{uuid.uuid4().hex[:6]}")["TopicArn"]
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName=f"notices-{uuid.uuid4().hex[:6]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    live.secrets.put(
        "intuit-app",
        json.dumps(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uri": f"{live.intake.gateway_url}/quickbooks/callback",
            }
        ),
    )
    os.environ["INTUIT_OAUTH_BASE_URL"] = qbo.url
    os.environ["NOTIFY_TOPIC_ARN"] = topic
    live_settings.cache_clear()
    token_settings.cache_clear()
    try:
        yield TokenWorld(
            live, realm, live.connections, DynamoLease(live.intake.aws.table("SettingsTable")), queue, topic
        )
    finally:
        for key in ("INTUIT_OAUTH_BASE_URL", "NOTIFY_TOPIC_ARN"):
            os.environ.pop(key, None)
        live_settings.cache_clear()
        token_settings.cache_clear()


def test_token_refresh_fifty_workers_cause_one_refresh(tokens: TokenWorld) -> None:
    """Reference: 'The most common failure in the field is two workers refreshing the same realm at once'."""
    # Given an access token QuickBooks no longer accepts (each worker has its own cache, as Lambda containers do)
    providers = [StoredTokenProvider(tokens.connections, keeper=tokens.keeper()) for _ in range(50)]
    for p in providers:
        p.access_token(tokens.realm)  # warm each cache with the token about to die
    tokens.live.qbo.control.expire_access_tokens()
    before = tokens.sim.oauth.refreshes
    results: list[Any] = []
    barrier = threading.Barrier(50)

    def work(provider: StoredTokenProvider) -> None:
        barrier.wait()
        try:
            results.append(tokens.client(provider).company_info()["CompanyName"])
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=work, args=(p,)) for p in providers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then QuickBooks saw exactly one refresh, and every worker succeeded with the new token
    assert tokens.sim.oauth.refreshes - before == 1
    assert all(isinstance(r, str) for r in results), [r for r in results if not isinstance(r, str)][:3]
    assert tokens.sim.oauth.invalid_grants == 0


def test_token_refresh_a_year_of_daily_rotation_stays_connected(tokens: TokenWorld) -> None:
    """Reference: 'a refresh can return a new refresh token (about once a day), after which the old one is dead'."""
    sim = tokens.sim
    sim.oauth.rotate_after = 0  # rotate on every refresh: the hardest case
    keeper = tokens.keeper(clock=sim.clock)
    first = tokens.connections.get(tokens.realm)
    assert first is not None and first.tokens is not None
    refresh_tokens = {first.tokens.refresh_token}
    for _day in range(365):
        tokens.live.qbo.control.advance(86400)
        result = keeper.run_schedule()
        assert tokens.realm in result["refreshed"] and tokens.realm not in result["needs_reconnect"]
        conn = tokens.connections.get(tokens.realm)
        assert conn is not None and conn.tokens is not None
        refresh_tokens.add(conn.tokens.refresh_token)
    conn = tokens.connections.get(tokens.realm)
    assert conn is not None and conn.status == CONNECTED
    assert len(refresh_tokens) == 366  # rotated every day, and every rotation was kept
    provider = StoredTokenProvider(tokens.connections, sim.clock, keeper=keeper)
    assert tokens.client(provider).company_info()["CompanyName"]


def test_token_refresh_a_revoked_connection_needs_reconnect_and_says_so(tokens: TokenWorld) -> None:
    """Reference: 'A dead refresh token: HTTP 400 {"error":"invalid_grant", ...}. Not transient.'"""
    conn = tokens.connections.get(tokens.realm)
    assert conn is not None and conn.tokens is not None
    tokens.oauth().revoke(conn.tokens.refresh_token)
    keeper = tokens.keeper()
    tokens.live.qbo.control.expire_access_tokens()
    provider = StoredTokenProvider(tokens.connections, keeper=keeper)
    with pytest.raises(Exception, match="reconnect"):
        tokens.client(provider).company_info()
    dead = tokens.connections.get(tokens.realm)
    assert dead is not None and dead.status == NEEDS_RECONNECT and "refresh token" in dead.reason
    messages = tokens.notifications()
    assert len(messages) == 1 and "Reconnect" in messages[0] and "package=us" in messages[0]
    # a second worker meeting the dead connection does not call Intuit again, nor send a second message
    before = tokens.sim.oauth.invalid_grants
    with pytest.raises(Exception, match="reconnect"):
        StoredTokenProvider(tokens.connections, keeper=keeper).access_token(tokens.realm)
    assert tokens.sim.oauth.invalid_grants == before and tokens.notifications() == []


def _invoice_event(intake: Any) -> Any:
    inv = intake.act("create_invoice", job_id=intake.ids["jobs"][0], lines=[{"QUANTITY": 1, "UNIT_PRICE": "80.00"}])
    return intake.act("approve_invoice", invoice_id=inv["ID"])


def test_token_refresh_reconnect_sends_what_waited_without_a_flush(tokens: TokenWorld) -> None:
    intake = tokens.live.intake
    conn = tokens.connections.get(tokens.realm)
    assert conn is not None and conn.tokens is not None
    tokens.keeper().mark_dead(conn, "QuickBooks no longer accepts this connection's refresh token")
    # Documents approved while the connection is dead wait in the buffer, with that reason
    invoices = [_invoice_event(intake) for _ in range(3)]
    tokens.live.delivered(3)
    waiting = [e for e in intake.entries() if e.doc_id in {str(i["ID"]) for i in invoices}]
    assert len(waiting) == 3 and all(e.status == "waiting_for_connection" for e in waiting)
    assert all("reconnect" in e.reason for e in waiting)
    # When a person opens the connect link and approves in QuickBooks
    gateway = intake.gateway_url
    resp = requests.get(
        f"{gateway}/quickbooks/connect",
        params={"company_id": intake.company_id, "package": "us"},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 302
    tokens.live.qbo.control.oauth(consent_realm=tokens.realm)
    to_intuit = requests.get(resp.headers["Location"], allow_redirects=False, timeout=10)
    back = requests.get(to_intuit.headers["Location"], headers={"Accept": "application/json"}, timeout=30)
    assert back.status_code == 200, back.text
    assert back.json()["waiting"] >= 3
    # Then they reach QuickBooks without anyone pressing flush
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [intake.outbox.get(intake.company_id, e.entry_id) for e in waiting]
        if all(e is not None and e.status == "synced" for e in done):
            break
        time.sleep(0.2)
    assert all(e is not None and e.status == "synced" for e in done), [e.status for e in done if e]
    fresh = tokens.connections.get(tokens.realm)
    assert fresh is not None and fresh.status == CONNECTED and fresh.tokens and fresh.tokens.hard_expires_in


def _callback(tokens: TokenWorld, **query: str) -> requests.Response:
    return requests.get(
        f"{tokens.live.intake.gateway_url}/quickbooks/callback",
        params=query,
        headers={"Accept": "application/json"},
        timeout=10,
    )


def _state(tokens: TokenWorld) -> tuple[str, str]:
    intake = tokens.live.intake
    resp = requests.get(
        f"{intake.gateway_url}/quickbooks/connect",
        params={"company_id": intake.company_id, "package": "us"},
        allow_redirects=False,
        timeout=10,
    )
    tokens.live.qbo.control.oauth(consent_realm=tokens.realm)
    back = requests.get(resp.headers["Location"], allow_redirects=False, timeout=10).headers["Location"]
    query = parse_qs(urlparse(back).query)
    return query["state"][0], query["code"][0]


def _version(tokens: TokenWorld) -> int:
    conn = tokens.connections.get(tokens.realm)
    assert conn is not None
    return conn.version


def test_token_refresh_callback_refuses_tampered_replayed_and_refused_states(tokens: TokenWorld) -> None:
    before = _version(tokens)
    state, code = _state(tokens)
    body, _, mac = state.partition(".")
    tampered = f"{body[:-2]}xx.{mac}"
    resp = _callback(tokens, state=tampered, code=code, realmId=tokens.realm)
    assert resp.status_code == 400 and "not one HireBooks signed" in resp.json()["message"]
    resp = _callback(tokens, error="access_denied", state=state)
    assert resp.status_code == 400 and "did not approve" in resp.json()["message"]
    assert _version(tokens) == before  # nothing stored
    assert _callback(tokens, state=state, code=code, realmId=tokens.realm).status_code == 200
    after = _version(tokens)
    replay = _callback(tokens, state=state, code=code, realmId=tokens.realm)
    assert replay.status_code == 400 and "used already" in replay.json()["message"]
    assert _version(tokens) == after


def test_token_refresh_callback_refuses_an_expired_state(tokens: TokenWorld) -> None:
    from hirebooks.connecting import _state_key
    from hirebooks.qbo.connection import sign_state

    key = _state_key({"client_secret": CLIENT_SECRET})
    old, _ = sign_state(key, tokens.live.intake.company_id, "us", time.time() - 3600)
    before = _version(tokens)
    resp = _callback(tokens, state=old, code="whatever", realmId=tokens.realm)
    assert resp.status_code == 400 and "expired" in resp.json()["message"]
    assert _version(tokens) == before


def test_token_refresh_connect_link_needs_a_known_package(tokens: TokenWorld) -> None:
    url = f"{tokens.live.intake.gateway_url}/quickbooks/connect"
    resp = requests.get(url, params={"company_id": "abc"}, headers={"Accept": "application/json"}, timeout=10)
    assert resp.status_code == 400
    resp = requests.get(
        url,
        params={"company_id": tokens.live.intake.company_id, "package": "nope"},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert resp.status_code == 404 and "no accounting package 'nope'" in resp.json()["message"]


def test_token_refresh_status_shows_connections_expiries_and_the_buffer(tokens: TokenWorld) -> None:
    from hirebooks.cli import app as cli
    from typer.testing import CliRunner

    from tests.conftest import ADMIN_TOKEN

    tokens.live.secrets.put("admin-token", ADMIN_TOKEN)
    intake = tokens.live.intake
    conn = tokens.connections.get(tokens.realm)
    assert conn is not None
    tokens.keeper().mark_dead(conn, "QuickBooks no longer accepts this connection's refresh token")
    _invoice_event(intake)
    tokens.live.delivered(1)
    url = f"{intake.gateway_url}/status"
    assert requests.get(url, params={"company_id": intake.company_id}, timeout=10).status_code == 401
    bad = requests.get(url, params={"company_id": "x"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    assert bad.status_code == 422
    body = requests.get(
        url, params={"company_id": intake.company_id}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
    ).json()
    us = next(p for p in body["packages"] if p["package"] == "us")
    assert us["connection"]["status"] == NEEDS_RECONNECT and us["connection"]["warnings"][0]["key"] == "reconnect"
    assert us["connection"]["hard_days_left"] > 1000 and body["buffer"]["by_status"]["waiting_for_connection"] >= 1
    env = {"HIREBOOKS_API_URL": intake.gateway_url, "HIREBOOKS_ADMIN_TOKEN": ADMIN_TOKEN}
    shown = CliRunner().invoke(cli, ["status", "--company", str(intake.company_id)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "needs" in shown.output and "waiting_for_connection" in shown.output
    assert "Reconnect QuickBooks company" in shown.output


def test_token_refresh_warns_30_and_7_days_before_the_hard_limit_once_each(tokens: TokenWorld) -> None:
    """Reference: 'Intuit's sample warns the customer 30 days and 7 days before it, and sync stops on the day'."""
    sim = tokens.sim
    sim.oauth.hard_max = 40 * 86400  # a chain that ends in 40 days
    oauth = tokens.oauth()
    resp = requests.get(
        oauth.authorize_url(f"{tokens.live.intake.gateway_url}/quickbooks/callback", "x"),
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlparse(resp.headers["Location"]).query)["code"][0]
    short = oauth.exchange_code(code, f"{tokens.live.intake.gateway_url}/quickbooks/callback", sim.clock.time())
    assert short.hard_expires_in is not None and short.hard_expires_in <= 40 * 86400
    store_tokens(tokens.connections, tokens.realm, short, tokens.live.intake.company_id, "us")
    keeper = tokens.keeper(clock=sim.clock)
    sent: list[str] = []
    for _day in range(36):  # from 40 days left to 4
        tokens.live.qbo.control.advance(86400)
        keeper.run_schedule()
        sent += tokens.notifications()
    hard = [m for m in sent if "5-year limit" in m]
    assert len(hard) == 2, sent
    assert "in 30 days" in hard[0] or "in 29 days" in hard[0]
    assert "in 7 days" in hard[1] or "in 6 days" in hard[1]
    conn = tokens.connections.get(tokens.realm)
    assert conn is not None and {"hard-30", "hard-7"} <= set(conn.warnings_sent)


def test_token_refresh_rolling_expiry_warns_when_nothing_refreshes(tokens: TokenWorld) -> None:
    conn = tokens.connections.get(tokens.realm)
    assert conn is not None and conn.tokens is not None
    from dataclasses import replace as _replace

    old = _replace(conn.tokens, obtained_at=time.time() - 90 * 86400, expires_in=90 * 86400 + 7200)
    store_tokens(tokens.connections, tokens.realm, old, tokens.live.intake.company_id, "us")
    keeper = tokens.keeper()
    keeper.run_schedule()
    keeper.run_schedule()
    rolling = [m for m in tokens.notifications() if "has not been refreshed" in m]
    assert len(rolling) == 1
