"""The HireHop simulator as a WSGI application: HireHop's API as the reference sheet knows it, webhooks in HireHop's
shape, and a control surface (/_sim) that acts as a HireHop user would.

API calls (reference, "REST API (we call HireHop)"):
  GET  /php_functions/billing_list.php?main_id=<job>&type=1    confirmed
  POST /php_functions/billing_deposit_save.php                 confirmed
  POST /php_functions/billing_payments_save.php                confirmed
  GET  /api/job_data.php?job=<n>                               confirmed
  GET  /modules/contacts/list.php?page=&rows=                  confirmed (200 rows a page at most)
  GET  /php_functions/get_depots.php                           one third-party document only
  GET  /php_functions/purchase_orders_list.php?main_id=<job>   ASSUMPTION: no public call reads purchase orders
Quirks: the `token` parameter; an HTML body for a refused token; {"error": N} with HTTP 200; 327 (or HTTP 429) over
60 requests a minute or 3 a second per token; `no_webhook=1` on writes.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from decimal import Decimal
from typing import Any

import requests
from hirebooks.clock import ScaledClock
from simcore import jsonutil
from simcore.chaos import Chaos
from simcore.server import DropConnection, ServerThread, drop_connection
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .model import Company, HireHopError, Webhook
from .seed import seed_company

LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>HireHop - Login</title></head>"
    "<body><form action='/login.php' method='post'>Please log in</form></body></html>"
)
HH_KINDS = ("http_500", "http_502", "http_503", "http_504", "reset", "timeout", "lost_answer", "latency", "silent_noop")


class HireHopSimulator:
    def __init__(self, *, scale: float = 1.0, seed: int = 5) -> None:
        self.clock = ScaledClock(scale)
        self.companies: dict[int, Company] = {}
        self.tokens: dict[str, int] = {}
        self.chaos = Chaos(seed, HH_KINDS)
        self.per_minute = 60  # reference: "60 requests per rolling minute and 3 per second per token" (observed)
        self.per_second = 3
        self.throttle_style = "327"  # or "429" (reference: "over it: HTTP 429 or error 327")
        self.webhook_url: str | None = None
        self.counters: dict[str, int] = {}
        self.log: deque[dict[str, Any]] = deque(maxlen=20000)
        self.sent: deque[dict[str, Any]] = deque(maxlen=5000)
        self._windows: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._sender: threading.Thread | None = None
        self._session = requests.Session()
        self._server: ServerThread | None = None
        self.url_map = Map(
            [
                Rule("/php_functions/billing_list.php", endpoint="billing_list", methods=["GET", "POST"]),
                Rule("/php_functions/billing_deposit_save.php", endpoint="deposit_save", methods=["POST"]),
                Rule("/php_functions/billing_payments_save.php", endpoint="payments_save", methods=["POST"]),
                Rule("/api/job_data.php", endpoint="job_data", methods=["GET", "POST"]),
                Rule("/modules/contacts/list.php", endpoint="contacts", methods=["GET", "POST"]),
                Rule("/php_functions/get_depots.php", endpoint="depots", methods=["GET", "POST"]),
                Rule("/php_functions/purchase_orders_list.php", endpoint="purchase_orders", methods=["GET", "POST"]),
                Rule("/php_functions/contacts_save.php", endpoint="contact_save", methods=["POST"]),
                Rule("/_sim/health", endpoint="c_health", methods=["GET"]),
                Rule("/_sim/companies", endpoint="c_companies", methods=["POST"]),
                Rule("/_sim/companies/<int:company_id>", endpoint="c_state", methods=["GET"]),
                Rule("/_sim/companies/<int:company_id>/act", endpoint="c_act", methods=["POST"]),
                Rule("/_sim/companies/<int:company_id>/events", endpoint="c_events", methods=["PATCH"]),
                Rule("/_sim/faults", endpoint="c_faults", methods=["GET", "PUT", "DELETE"]),
                Rule("/_sim/limits", endpoint="c_limits", methods=["GET", "PATCH"]),
                Rule("/_sim/webhooks", endpoint="c_webhooks", methods=["GET", "PATCH"]),
                Rule("/_sim/counters", endpoint="c_counters", methods=["GET", "DELETE"]),
                Rule("/_sim/log", endpoint="c_log", methods=["GET"]),
                Rule("/_sim/clock/advance", endpoint="c_advance", methods=["POST"]),
            ]
        )

    # ================================================================== lifecycle
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = ServerThread(self, host, port).start()
        self._sender = threading.Thread(target=self._send_loop, name="hirehop-webhooks", daemon=True)
        self._sender.start()
        return self._server.url

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._sender is not None:
            self._sender.join(timeout=5)
        if self._server is not None:
            self._server.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def add_company(
        self,
        company_id: int = 1,
        name: str = "Acme Stage Hire",
        export_key: str | None = None,
        token: str | None = None,
    ) -> tuple[Company, str, dict[str, Any]]:
        company = Company(company_id, name, export_key or secrets.token_hex(6), self.clock.time, emit=self._emit)
        ids = seed_company(company)
        token = token or secrets.token_urlsafe(24)
        with self._lock:
            self.companies[company_id] = company
            self.tokens[token] = company_id
        return company, token, ids

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + n

    # ================================================================== webhooks: fire and forget
    def _emit(self, company: Company, hook: Webhook) -> None:
        if not self.webhook_url:
            return
        body = {
            "time": company.stamp(),  # reference: "time is UTC"
            "user_id": 1,
            "user_name": "Demo User",
            "user_email": "demo@example.com",
            "company_id": company.company_id,
            "export_key": company.export_key,
            "event": hook.event,
            "data": hook.data,
            "changes": hook.changes,
        }
        with self._lock:
            self._outbox.append((self.webhook_url, jsonutil.dumps(body).encode()))
        self._wake.set()

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                item = self._outbox.popleft() if self._outbox else None
            if item is None:
                self._wake.wait(0.05)
                self._wake.clear()
                continue
            url, body = item
            status = "error"
            try:
                # Reference: "HireHop does not wait for the answer and does not appear to retry" (observed).
                resp = self._session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=(1, 10))
                status = str(resp.status_code)
                self.count("webhooks_sent")
            except requests.RequestException as exc:
                status = type(exc).__name__
                self.count("webhooks_failed")
            event = json.loads(body).get("event")
            self.sent.append({"event": event, "status": status, "url": url})

    def pending_webhooks(self) -> int:
        with self._lock:
            return len(self._outbox)

    # ================================================================== WSGI
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except DropConnection:
            drop_connection(environ)
            response = Response(b"", status=500)
        return response(environ, start_response)

    def _json(self, body: Any, status: int = 200) -> Response:
        return Response(jsonutil.dumps(body), status=status, content_type="application/json")

    def dispatch(self, request: Request) -> Response:
        try:
            endpoint, args = self.url_map.bind_to_environ(request.environ).match()
        except NotFound:
            return Response("<html><body>Not found</body></html>", status=404, content_type="text/html")
        if endpoint.startswith("c_"):
            try:
                return self._control(endpoint, request, **args)
            except (ValueError, KeyError, TypeError, HireHopError) as exc:
                return self._json({"error": f"{type(exc).__name__}: {exc}"}, 400)
        return self._api(endpoint, request)

    def _throttled(self, token: str) -> bool:
        now = self.clock.time()
        with self._lock:
            window = self._windows.setdefault(token, deque())
            while window and window[0] <= now - 60:
                window.popleft()
            last_second = sum(1 for t in window if t > now - 1)
            if len(window) >= self.per_minute or last_second >= self.per_second:
                return True
            window.append(now)
            return False

    def _api(self, endpoint: str, request: Request) -> Response:
        params = {**request.args.to_dict(), **request.form.to_dict()}
        token = params.get("token", "")
        entry: dict[str, Any] = {"t": self.clock.time(), "endpoint": endpoint, "method": request.method}
        self.count("requests")
        try:
            company_id = self.tokens.get(token)
            if company_id is None:
                self.count("refused_tokens")
                entry["status"] = "refused"
                # Reference: "An HTML body means the token was refused". ASSUMPTION: with HTTP 200.
                return Response(LOGIN_PAGE, status=200, content_type="text/html")
            if self._throttled(token):
                self.count("throttled")
                entry["status"] = "throttled"
                if self.throttle_style == "429":
                    return self._json({"error": 327}, 429)
                return self._json({"error": 327})  # reference: "327 (and 329) too many requests"
            write = endpoint in ("deposit_save", "payments_save", "contact_save")
            self.count("writes" if write else "reads")
            rule = self.chaos.pick(request.method, request.path, None)
            after = None
            if rule is not None:
                self.count("faults_injected")
                entry["fault"] = rule.kind
                if rule.kind.startswith("http_"):
                    entry["status"] = rule.kind
                    return Response(
                        "<html><body>Server error</body></html>", status=int(rule.kind[5:]), content_type="text/html"
                    )
                if rule.kind == "reset":
                    raise DropConnection()
                if rule.kind in ("timeout", "latency"):
                    time.sleep(rule.delay)
                if rule.kind == "lost_answer":
                    after = "drop"
                if rule.kind == "silent_noop" and write:
                    # Reference: "Some writes answer success and did nothing (observed)".
                    entry["status"] = "silent"
                    return self._json({"ID": 0, "success": True})
            company = self.companies[company_id]
            try:
                with company.lock:
                    body = self._handle(endpoint, company, params)
                entry["status"] = "ok"
                response = self._json(body)
            except HireHopError as exc:
                self.count("errors")
                entry["status"] = f"error {exc.code}"
                response = self._json({"error": exc.code})  # reference: errors "often with HTTP 200"
            if after == "drop":
                raise DropConnection()
            return response
        finally:
            self.log.append(entry)

    @staticmethod
    def _int(params: dict[str, str], name: str) -> int:
        try:
            return int(params[name])
        except (KeyError, ValueError) as exc:
            raise HireHopError(3, f"missing or wrong parameter {name}") from exc  # reference: error 3

    def _handle(self, endpoint: str, company: Company, params: dict[str, str]) -> Any:
        notify = params.get("no_webhook") != "1"  # reference: "HireHop write calls accept no_webhook=1"
        if endpoint == "billing_list":
            job_id = self._int(params, "main_id")
            return {
                "rows": company.billing_rows(job_id),
                "banks": company.banks,
                "tax_codes": company.tax_codes,
                "nominal_codes": company.nominal_codes,
                "currency": company.currency,
                "package_name": "QuickBooks Online",
            }
        if endpoint == "job_data":
            job = company.jobs.get(self._int(params, "job"))
            if job is None:
                raise HireHopError(3, "no such job")
            return job
        if endpoint == "contacts":
            page = max(int(params.get("page", "1") or 1), 1)
            rows = min(max(int(params.get("rows", "50") or 50), 1), 200)  # reference: 200 rows a page at most
            contacts = sorted(company.contacts.values(), key=lambda c: c["ID"])
            total_pages = max((len(contacts) + rows - 1) // rows, 1)
            # ASSUMPTION: a jqGrid-style page (page, total, records, rows), as HireHop's grids use.
            return {
                "page": page,
                "total": total_pages,
                "records": len(contacts),
                "rows": contacts[(page - 1) * rows : page * rows],
            }
        if endpoint == "depots":
            return list(company.depots.values())
        if endpoint == "purchase_orders":
            job_id = self._int(params, "main_id")
            return {"rows": [po for po in company.purchase_orders.values() if po["JOB_ID"] == job_id]}
        if endpoint == "deposit_save":
            if params.get("ID", "0") != "0":  # ASSUMPTION (FIDELITY.md): ID=<n> edits deposit n
                edits = {k: params[k] for k in ("AMOUNT", "DATE", "DESCRIPTION", "MEMO") if k in params}
                deposit = company.edit_deposit(self._int(params, "ID"), notify=notify, **edits)
                return {"ID": deposit["ID"], "success": True}
            deposit = company.save_deposit(
                job_id=self._int(params, "JOB_ID"),
                amount=params.get("AMOUNT", "0"),
                bank_id=self._int(params, "ACC_ACCOUNT_ID"),
                date=params.get("DATE", ""),
                description=params.get("DESCRIPTION", ""),
                memo=params.get("MEMO", ""),
                client_id=int(params["CLIENT_ID"]) if params.get("CLIENT_ID") else None,
                notify=notify,
            )
            return {"ID": deposit["ID"], "success": True}
        if endpoint == "contact_save":  # ASSUMPTION (FIDELITY.md): no public call creates a contact
            if params.get("ID", "0") != "0" or not params.get("COMPANY", "").strip():
                raise HireHopError(3, "a new contact needs ID=0 and a COMPANY")
            contact = company.add_contact(
                company=params["COMPANY"].strip(),
                name=params.get("NAME", ""),
                email=params.get("EMAIL", ""),
                client=params.get("CLIENT", "1") == "1",
                supplier=params.get("SUBCONTRACTOR", "0") == "1",
                notify=notify,
                address=params.get("ADDRESS", ""),
                telephone=params.get("TELEPHONE", ""),
            )
            return {"ID": contact["ID"], "success": True}
        if endpoint == "payments_save":
            if params.get("id", "0") != "0":  # ASSUMPTION (FIDELITY.md): id=<n> edits application n
                names = {"paid": "AMOUNT", "date": "DATE", "desc": "DESCRIPTION", "memo": "MEMO"}
                edits = {names[k]: v for k, v in params.items() if k in names}
                try:
                    if "AMOUNT" in edits:
                        Decimal(edits["AMOUNT"])
                except ArithmeticError as exc:
                    raise HireHopError(3, "paid must be a number") from exc
                application = company.edit_application(self._int(params, "id"), notify=notify, **edits)
                return {"ID": application["ID"], "success": True}
            try:
                amount = Decimal(params.get("paid", ""))
            except ArithmeticError as exc:
                raise HireHopError(3, "paid must be a number") from exc
            application = company.apply_payment(
                deposit_id=self._int(params, "deposit"),
                invoice_id=self._int(params, "OWNER"),
                amount=amount,
                date=params.get("date", ""),
                description=params.get("desc", ""),
                memo=params.get("memo", ""),
                notify=notify,
            )
            return {"ID": application["ID"], "success": True}
        raise HireHopError(3, endpoint)  # pragma: no cover

    # ================================================================== control surface
    def _control(self, endpoint: str, request: Request, **args: Any) -> Response:
        raw = request.get_data()
        body: dict[str, Any] = json.loads(raw) if raw else {}
        if endpoint == "c_health":
            return self._json({"ok": True, "companies": list(self.companies)})
        if endpoint == "c_companies":
            company, token, ids = self.add_company(
                int(body.get("company_id", 1)),
                body.get("name", "Acme Stage Hire"),
                body.get("export_key"),
                body.get("token"),
            )
            return self._json(
                {"company_id": company.company_id, "export_key": company.export_key, "token": token, **ids}, 201
            )
        company = self.companies.get(int(args.get("company_id", 0))) if "company_id" in args else None
        if endpoint == "c_state":
            if company is None:
                raise KeyError("no such company")
            with company.lock:
                return self._json(
                    {
                        "depots": list(company.depots.values()),
                        "contacts": list(company.contacts.values()),
                        "jobs": list(company.jobs.values()),
                        "invoices": list(company.invoices.values()),
                        "credits": list(company.credits.values()),
                        "deposits": list(company.deposits.values()),
                        "applications": list(company.applications.values()),
                        "purchase_orders": list(company.purchase_orders.values()),
                        "nominal_groups": company.nominal_groups,
                        "tax_groups": company.tax_groups,
                        "banks": company.banks,
                    }
                )
        if endpoint == "c_act":
            if company is None:
                raise KeyError("no such company")
            return self._json(self._act(company, body))
        if endpoint == "c_events":
            if company is None:
                raise KeyError("no such company")
            unknown = set(body) - set(company.event_names)
            if unknown:
                raise KeyError(f"unknown event keys {sorted(unknown)}")
            company.event_names.update(body)
            return self._json(company.event_names)
        if endpoint == "c_faults":
            if request.method == "PUT":
                self.chaos.set(list(body.get("rules", [])), body.get("seed"))
            elif request.method == "DELETE":
                self.chaos.clear()
            return self._json({"rules": [r.as_dict() for r in self.chaos.rules]})
        if endpoint == "c_limits":
            for key in ("per_minute", "per_second"):
                if key in body:
                    setattr(self, key, int(body[key]))
            if "throttle_style" in body:
                if body["throttle_style"] not in ("327", "429"):
                    raise ValueError("throttle_style must be '327' or '429'")
                self.throttle_style = body["throttle_style"]
            return self._json(
                {"per_minute": self.per_minute, "per_second": self.per_second, "throttle_style": self.throttle_style}
            )
        if endpoint == "c_webhooks":
            if "url" in body:
                self.webhook_url = body["url"]
            return self._json({"url": self.webhook_url, "pending": self.pending_webhooks(), "sent": list(self.sent)})
        if endpoint == "c_counters":
            if request.method == "DELETE":
                with self._lock:
                    self.counters.clear()
                    self._windows.clear()
            return self._json(dict(self.counters))
        if endpoint == "c_log":
            return self._json({"entries": list(self.log)})
        if endpoint == "c_advance":
            self.clock.advance(float(body.get("seconds", 0)))
            return self._json({"now": self.clock.time()})
        raise KeyError(endpoint)  # pragma: no cover

    def _act(self, company: Company, body: dict[str, Any]) -> dict[str, Any]:
        """As a HireHop user would: each action names what the user did; webhooks fire as HireHop's would."""
        action = body.get("action")
        a = dict(body.get("args") or {})
        with company.lock:
            if action == "add_contact":
                return company.add_contact(**a)
            if action == "edit_contact":
                return company.edit_contact(a.pop("contact_id"), **a)
            if action == "add_job":
                return company.add_job(**a)
            if action == "create_invoice":
                return company.create_invoice(a["job_id"], a["lines"], depot_id=a.get("depot_id"))
            if action == "approve_invoice":
                return company.approve_invoice(a["invoice_id"])
            if action == "edit_invoice":
                return company.edit_invoice(a.pop("invoice_id"), **a)
            if action == "credit_note":
                return company.credit_note(a["invoice_id"], a["lines"])
            if action == "take_payment":
                deposit = company.save_deposit(
                    job_id=a["job_id"],
                    amount=a["amount"],
                    bank_id=a.get("bank_id", 1),
                    description=a.get("description", "Payment"),
                )
                applied = [
                    company.apply_payment(deposit_id=deposit["ID"], invoice_id=inv, amount=amount)
                    for inv, amount in a.get("apply", [])
                ]
                return {"deposit": deposit, "applications": applied}
            if action == "issue_purchase_order":
                return company.issue_purchase_order(**a)
        raise ValueError(f"unknown action {action!r}")
