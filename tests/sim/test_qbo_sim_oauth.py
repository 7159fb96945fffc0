"""The simulator's OAuth server against ../shared/reference/quickbooks.md, "OAuth 2.0 tokens"."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import requests
from qbosim import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

from tests.conftest import US, QboWorld

BASIC = "Basic " + base64.b64encode(f"{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}".encode()).decode()
REDIRECT = "http://127.0.0.1/callback"


def _authorize(world: QboWorld, state: str = "s1") -> dict[str, list[str]]:
    resp = requests.get(
        f"{world.url}/connect/oauth2",
        params={
            "client_id": DEFAULT_CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting",
            "state": state,
        },
        allow_redirects=False,
    )
    assert resp.status_code == 302
    return parse_qs(urlparse(resp.headers["Location"]).query)


def _token(world: QboWorld, form: dict[str, str], hard: bool = False, auth: str = BASIC) -> requests.Response:
    headers = {"Authorization": auth}
    if hard:
        headers["x-include-refresh-token-hard-expires-in"] = "true"
    return requests.post(f"{world.url}/oauth2/v1/tokens/bearer", data=form, headers=headers)


def test_authorize_redirects_with_code_state_and_realm(qbo: QboWorld) -> None:
    """Reference: 'The callback receives code, state and realmId as query parameters.'"""
    query = _authorize(qbo, "xyz")
    assert query["state"] == ["xyz"]
    assert query["realmId"] == [US]
    assert query["code"][0]


def test_code_exchange_gives_the_documented_fields_and_hard_expiry_only_on_request(qbo: QboWorld) -> None:
    """Reference: 'Response fields: access_token, refresh_token, token_type ("bearer"), expires_in (3600),
    x_refresh_token_expires_in, and, when the request carries the header x-include-refresh-token-hard-expires-in:
    true, x_refresh_token_hard_expires_in (... at most 157,680,000 = 5 years).'"""
    code = _authorize(qbo)["code"][0]
    plain = _token(qbo, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    body = plain.json()
    assert plain.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert 0 < body["x_refresh_token_expires_in"] <= 100 * 86400
    assert "x_refresh_token_hard_expires_in" not in body
    rotated = _token(qbo, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}, hard=True).json()
    assert 0 < rotated["x_refresh_token_hard_expires_in"] <= 157_680_000


def test_token_endpoint_needs_basic_auth(qbo: QboWorld) -> None:
    """Reference: 'Token endpoint calls are POST, application/x-www-form-urlencoded, Authorization: Basic ...'"""
    resp = _token(
        qbo,
        {"grant_type": "refresh_token", "refresh_token": "x"},
        auth="Basic " + base64.b64encode(b"a:b").decode(),
    )
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client"


def test_code_is_single_use(qbo: QboWorld) -> None:
    code = _authorize(qbo)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert _token(qbo, form).status_code == 200
    again = _token(qbo, form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_rotation_kills_the_old_refresh_token_with_invalid_grant(qbo: QboWorld) -> None:
    """Reference: 'a refresh can return a new refresh token (about once a day), after which the old one is dead' and
    'A dead refresh token: HTTP 400 {"error":"invalid_grant",
    "error_description":"Incorrect or invalid refresh token"}'."""
    first = qbo.control.mint_tokens(US)["refresh_token"]
    same = _token(qbo, {"grant_type": "refresh_token", "refresh_token": first}).json()
    assert same["refresh_token"] == first  # less than a day old: not rotated
    qbo.control.advance(86400 + 1)
    rotated = _token(qbo, {"grant_type": "refresh_token", "refresh_token": first}).json()
    assert rotated["refresh_token"] != first
    dead = _token(qbo, {"grant_type": "refresh_token", "refresh_token": first})
    assert dead.status_code == 400
    assert dead.json() == {
        "error": "invalid_grant",
        "error_description": "Incorrect or invalid refresh token",
    }


def test_refresh_token_dies_after_100_days_unused(qbo: QboWorld) -> None:
    """Reference: 'Refresh token: rolling 100 days'."""
    token = qbo.control.mint_tokens(US)["refresh_token"]
    qbo.control.advance(100 * 86400 + 5)
    resp = _token(qbo, {"grant_type": "refresh_token", "refresh_token": token})
    assert resp.json()["error"] == "invalid_grant"


def test_hard_expiry_stops_refresh_even_with_rotation(qbo: QboWorld) -> None:
    """Reference: 'every refresh token also has a 5-year hard maximum ... sync stops on the day'."""
    qbo.control.oauth(hard_max=3 * 86400, rotate_after=0)
    token = qbo.control.mint_tokens(US)["refresh_token"]
    for _ in range(2):
        qbo.control.advance(86400)
        token = _token(qbo, {"grant_type": "refresh_token", "refresh_token": token}).json()["refresh_token"]
    qbo.control.advance(86400 + 1)
    assert _token(qbo, {"grant_type": "refresh_token", "refresh_token": token}).json()["error"] == "invalid_grant"


def test_revoke_kills_refresh_and_access_tokens(qbo: QboWorld) -> None:
    """Reference: 'revoke | https://developer.api.intuit.com/v2/oauth2/tokens/revoke'."""
    minted = qbo.control.mint_tokens(US)
    resp = requests.post(
        f"{qbo.url}/v2/oauth2/tokens/revoke",
        json={"token": minted["refresh_token"]},
        headers={"Authorization": BASIC},
    )
    assert resp.status_code == 200
    assert _token(qbo, {"grant_type": "refresh_token", "refresh_token": minted["refresh_token"]}).status_code == 400
    api = requests.get(f"{qbo.api(US)}/preferences", headers={"Authorization": f"Bearer {minted['access_token']}"})
    assert api.status_code == 401


def test_expired_access_token_gets_lowercase_3200_fault(qbo: QboWorld) -> None:
    """Reference: 'An expired access token on an API call: HTTP 401 with lowercase keys
    {"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401",...'"""
    session = qbo.raw(US)
    assert session.get(f"{qbo.api(US)}/preferences").status_code == 200
    qbo.control.advance(3601)
    resp = session.get(f"{qbo.api(US)}/preferences")
    assert resp.status_code == 401
    err = resp.json()["fault"]["error"][0]
    assert err["code"] == "3200" and "AuthenticationFailed" in err["message"]
    assert resp.json()["fault"]["type"] == "AUTHENTICATION"


def test_auth_fault_can_come_as_xml(qbo: QboWorld) -> None:
    """Reference: 'Some auth faults come back as XML (<Fault type="AuthenticationFault"><Error code="100">).'"""
    qbo.control.oauth(auth_fault_format="xml")
    resp = requests.get(f"{qbo.api(US)}/preferences", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
    assert '<Fault type="AuthenticationFault"><Error code="100">' in resp.text


def test_consent_refused_redirects_with_error(qbo: QboWorld) -> None:
    qbo.control.oauth(consent_error="access_denied")
    query = _authorize(qbo, "st")
    assert query["error"] == ["access_denied"] and query["state"] == ["st"]
