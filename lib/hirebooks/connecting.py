"""Connecting a QuickBooks company to an accounting package: the connect link, Intuit's callback, the status page.

- GET /quickbooks/connect?company_id=..&package=.. redirects to Intuit's consent page with a signed, expiring,
  single-use `state` naming the package.
- GET /quickbooks/callback checks the state (tampered, expired or replayed: 400, nothing stored), exchanges the code,
  asks for the hard expiry (the header from the reference sheet), stores the connection with its tokens (a
  conditional write), and asks flush_buffer to send what waited for the connection.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any, Protocol

from hirebooks import errors as E
from hirebooks.qbo.connection import CONNECTED, STATE_TTL, Connection, StateError, read_state, sign_state
from hirebooks.store.dynamo import DynamoInboundLog
from hirebooks.sync.model import WAITING
from hirebooks.wiring import SyncDeps, intuit_app, qbo_client


class FunctionInvoker(Protocol):
    def invoke_async(self, function_name: str, event: dict[str, Any]) -> None: ...


@dataclass
class Page:
    status: int
    title: str
    message: str
    location: str | None = None
    data: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.status < 400 else "error", "title": self.title, "message": self.message} | (
            self.data or {}
        )


def _app(deps: SyncDeps) -> dict[str, str]:
    app = intuit_app(deps.secrets)
    if not app or not app.get("client_id") or not app.get("client_secret") or not app.get("redirect_uri"):
        raise E.NeedsSetupError(
            "The Intuit app's credentials are not set up: store {client_id, client_secret, redirect_uri} in the "
            "secret <prefix>/intuit-app"
        )
    return app


def _state_key(app: dict[str, str]) -> bytes:
    return hmac.new(app["client_secret"].encode(), b"hirebooks connect state", hashlib.sha256).digest()


def connect_link(query: dict[str, str], deps: SyncDeps, log: DynamoInboundLog) -> Page:
    company, package_id = str(query.get("company_id") or ""), str(query.get("package") or "")
    if not company.isdigit() or not package_id:
        return Page(400, "Not connected", "Open the connect link with ?company_id=<HireHop company>&package=<id>.")
    settings = deps.settings.get(int(company))
    if settings is None or package_id not in settings.packages:
        return Page(404, "Not connected", f"HireHop company {company} has no accounting package {package_id!r}.")
    try:
        app = _app(deps)
    except E.NeedsSetupError as exc:
        return Page(503, "Not connected", str(exc))
    now = time.time()
    state, nonce = sign_state(_state_key(app), int(company), package_id, now)
    log.remember_state(nonce, now + STATE_TTL)
    url = deps.oauth_client(app).authorize_url(app["redirect_uri"], state)
    return Page(302, "Connecting", "Redirecting to QuickBooks to approve the connection.", location=url)


def callback(query: dict[str, str], deps: SyncDeps, log: DynamoInboundLog, invoker: FunctionInvoker | None,
             flush_function: str) -> Page:  # fmt: skip
    if query.get("error"):
        return Page(
            400,
            "Not connected",
            f"QuickBooks did not approve the connection ({query['error']}). Nothing was stored; open the connect "
            "link again to retry.",
        )
    try:
        app = _app(deps)
        state = read_state(_state_key(app), str(query.get("state") or ""), time.time())
    except E.NeedsSetupError as exc:
        return Page(503, "Not connected", str(exc))
    except StateError as exc:
        return Page(400, "Not connected", f"{exc} Nothing was stored.")
    code, realm = str(query.get("code") or ""), str(query.get("realmId") or "")
    if not code or not realm.isdigit():
        return Page(400, "Not connected", "The callback lacks code or realmId. Nothing was stored.")
    if not log.use_state(str(state["n"])):
        return Page(400, "Not connected", "This connect link was used already. Nothing was stored; start again.")
    company_id, package_id = int(state["c"]), str(state["p"])
    settings = deps.settings.get(company_id)
    package = settings.packages.get(package_id) if settings else None
    if package is None:
        return Page(404, "Not connected", f"Package {package_id!r} no longer exists. Nothing was stored.")
    if package.realm_id != realm:
        return Page(
            409,
            "Not connected",
            f"Package '{package.name}' keeps its books in QuickBooks company {package.realm_id}, but you chose "
            f"company {realm}. Nothing was stored: connect the right company, or change the package's company.",
        )
    try:
        tokens = deps.oauth_client(app).exchange_code(code, app["redirect_uri"], time.time())
    except E.HireBooksError as exc:
        return Page(400, "Not connected", f"QuickBooks refused the code: {exc}. Nothing was stored.")
    existing = deps.connections.get(realm)
    conn = Connection(realm, company_id, package_id, CONNECTED, tokens, connected_at=time.time())
    conn.company_name = existing.company_name if existing else ""
    if not deps.connections.save(conn, existing.version if existing else None):
        return Page(409, "Not connected", "The connection changed while saving; open the connect link again.")
    try:
        info = qbo_client(deps, realm).company_info()
        conn.company_name = str(info.get("CompanyName") or "")
        deps.connections.save(conn, conn.version)
    except E.HireBooksError:
        pass  # the name is for people; the connection stands without it
    waiting = sum(1 for e in deps.outbox.list_waiting(company_id) if e.status in WAITING)
    if invoker is not None and flush_function:
        invoker.invoke_async(flush_function, {"source": "hirebooks.reconnect", "company_ids": [company_id]})
    return Page(
        200,
        "Connected",
        f"QuickBooks company {conn.company_name or realm} is connected to package '{package.name}'. "
        f"{waiting} documents waiting in the buffer are being sent now.",
        data={"realm_id": realm, "package": package_id, "waiting": waiting},
    )


def status(company_id: int, deps: SyncDeps) -> dict[str, Any]:
    """Per package: the connected company, mode, expiries, warnings; the buffer's depth; the last successful sync."""
    settings = deps.settings.get(company_id)
    if settings is None:
        raise E.NeedsSetupError(f"HireHop company {company_id} has no set-up")
    now = time.time()
    entries = deps.outbox.list_company(company_id)
    waiting: dict[str, int] = {}
    last_sync = 0.0
    for entry in entries:
        if entry.status in WAITING:
            waiting[entry.status] = waiting.get(entry.status, 0) + 1
        elif entry.status == "synced":
            last_sync = max([last_sync, *(float(h["at"]) for h in entry.history if h.get("what") == "synced")])
    packages = []
    for package in settings.packages.values():
        conn = deps.connections.get(package.realm_id)
        packages.append(
            {
                "package": package.package_id,
                "name": package.name,
                "mode": package.mode,
                "connection": conn.summary(now)
                if conn
                else {"realm_id": package.realm_id, "status": "not_connected", "warnings": []},
            }
        )
    return {
        "company_id": company_id,
        "packages": packages,
        "buffer": {"waiting": sum(waiting.values()), "by_status": waiting},
        "last_successful_sync": last_sync or None,
    }
