"""The HireHop API client, on `requests` (reference: ../shared/reference/hirehop.md, "REST API (we call HireHop)").

- The per-user API token goes in the `token` parameter; an HTML answer means HireHop refused it (AuthError).
- Errors come as {"error": code}, often with HTTP 200: 327/329 throttled, 3 bad parameters, 370 deposit allocated.
- Paced per token under 60 requests a rolling minute and 3 a second (observed limits), shared by every caller of the
  token in this process.
- Writes are form-encoded POSTs and may "answer success and did nothing" (observed): each write is read back.
  HireHop has no idempotency key, so a write whose answer was lost is looked up (by the marker the caller puts in its
  memo) before it is tried again: a deposit is never written twice.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests

from hirebooks import errors as E
from hirebooks.clock import SystemClock
from hirebooks.pacing import Pacer, Window
from hirebooks.ports import Clock
from hirebooks.retry import RetryPolicy, run_with_retries
from hirebooks.stats import Stats

CONTACTS_PAGE = 200  # reference: "200 rows a page at most"
THROTTLE_CODES = {"327", "329"}


def hirehop_pacer(clock: Clock | None = None, per_minute: int = 60, per_second: int = 3) -> Pacer:
    """60 a rolling minute and 3 a second per token (reference, "Rate limit (observed)"); configurable for the
    local stack, whose simulator runs a faster clock."""
    return Pacer((Window(per_minute, 60.0), Window(per_second, 1.0)), max_in_flight=3, clock=clock)


class _Pacers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_token: dict[str, Pacer] = {}

    def for_token(self, token: str, clock: Clock | None = None, per_minute: int = 60, per_second: int = 3) -> Pacer:
        key = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            pacer = self._by_token.get(key)
            if pacer is None:
                pacer = self._by_token[key] = hirehop_pacer(clock, per_minute, per_second)
            return pacer


PACERS = _Pacers()


@dataclass
class HireHopStats(Stats):
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    readback_misses: int = 0


class HireHopClient:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        session: requests.Session | None = None,
        pacer: Pacer | None = None,
        clock: Clock | None = None,
        timeout: tuple[float, float] = (3.05, 20.0),
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.session = session or requests.Session()
        self.clock: Clock = clock or SystemClock()
        self.pacer = pacer or PACERS.for_token(token, self.clock)
        self.timeout = timeout
        self.retry = retry or RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=20.0)
        self.rng = rng or random.Random()
        self.stats = HireHopStats()

    def __repr__(self) -> str:  # never show the token
        return f"HireHopClient({self.base_url!r})"

    # ------------------------------------------------------------------ transport
    def _once(self, method: str, path: str, params: dict[str, Any], write: bool) -> Any:
        payload = {**params, "token": self._token}
        self.stats.add("requests")
        try:
            with self.pacer.slot():
                if method == "GET":
                    resp = self.session.get(f"{self.base_url}{path}", params=payload, timeout=self.timeout)
                else:
                    resp = self.session.post(f"{self.base_url}{path}", data=payload, timeout=self.timeout)
        except requests.ConnectTimeout as exc:
            raise E.TransientError("HireHop did not accept the connection", source="hirehop") from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            cls = E.UnknownOutcomeError if write else E.TransientError
            raise cls(f"No answer from HireHop ({type(exc).__name__})", source="hirehop") from exc
        if resp.status_code == 429:
            self.stats.add("throttled")
            raise E.ThrottledError("HireHop throttled the request (HTTP 429)", code="429", source="hirehop")
        if resp.status_code >= 500:
            raise E.TransientError(
                f"HireHop failed with HTTP {resp.status_code}", code=str(resp.status_code), source="hirehop"
            )
        text = resp.text.lstrip()
        if text.startswith("<") or "html" in resp.headers.get("Content-Type", ""):
            raise E.AuthError(
                "HireHop refused the API token. Tokens die when their user logs in or changes e-mail or password: "
                "use a dedicated API user and paste its new token into the HireBooks settings",
                source="hirehop",
            )
        try:
            body = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise E.TransientError("HireHop answered with something that is not JSON", source="hirehop") from exc
        if isinstance(body, dict) and "error" in body:
            code = str(body["error"])
            if code in THROTTLE_CODES:
                self.stats.add("throttled")
                raise E.ThrottledError(f"HireHop is throttling this token (error {code})", code=code, source="hirehop")
            if code == "3":
                raise E.RejectedError("HireHop says a parameter is missing or wrong", code=code, source="hirehop")
            if code == "370":
                raise E.RejectedError(
                    "HireHop says the deposit is already fully allocated", code=code, source="hirehop"
                )
            raise E.RejectedError(f"HireHop refused the request (error {code})", code=code, source="hirehop")
        return body

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, *, write: bool = False) -> Any:
        """Reads retry every transient failure. A write retries only throttling (HireHop refused it unprocessed);
        any other failure may have written, so the caller reads back instead of sending it again."""
        return run_with_retries(
            self._once,
            policy=self.retry,
            clock=self.clock,
            rng=self.rng,
            on_retry=lambda: self.stats.add("retries"),
            retry_on=(E.ThrottledError,) if write else (E.TransientError,),
            method=method,
            path=path,
            params=params or {},
            write=write,
        )

    # ------------------------------------------------------------------ reads
    def billing_list(self, job_id: int) -> dict[str, Any]:
        """All billing of a job: rows (invoices, credit notes, payments) plus banks, tax and nominal codes."""
        return dict(self.call("GET", "/php_functions/billing_list.php", {"main_id": job_id, "type": 1}))

    def job(self, job_id: int) -> dict[str, Any]:
        return dict(self.call("GET", "/api/job_data.php", {"job": job_id}))

    def depots(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/php_functions/get_depots.php"))

    def purchase_orders(self, job_id: int) -> list[dict[str, Any]]:
        """ASSUMPTION: no public HireHop call reads purchase orders; this is the simulator's (see hhsim FIDELITY)."""
        return list(self.call("GET", "/php_functions/purchase_orders_list.php", {"main_id": job_id})["rows"])

    def contacts(self) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            answer = self.call("GET", "/modules/contacts/list.php", {"page": page, "rows": CONTACTS_PAGE})
            yield from answer.get("rows", [])
            if page >= int(answer.get("total", 1)):
                return
            page += 1

    # ------------------------------------------------------------------ writes, read back
    def _find_row(self, job_id: int, kind: int, match: dict[str, Any]) -> dict[str, Any] | None:
        for row in self.billing_list(job_id).get("rows", []):
            data = row.get("data", {})
            if row.get("kind") == kind and all(str(data.get(k)) == str(v) for k, v in match.items()):
                return dict(data)
        return None

    def _write_once(
        self, path: str, form: dict[str, Any], job_id: int, kind: int, marker: dict[str, Any], *, looked: bool = False
    ) -> int:
        """One write that lands at most once: look it up first (a lost answer may have landed), write, read back.
        `looked=True`: the caller has just read the job's billing and knows the marker is not there."""
        existing = None if looked else self._find_row(job_id, kind, marker)
        if existing is not None:
            return int(existing["ID"])
        for _attempt in range(2):
            try:
                answer = self.call("POST", path, form, write=True)
                new_id = int(answer.get("ID") or 0)
            except E.TransientError:  # no answer, a 5xx, or still throttled: it may or may not have landed
                new_id = 0
            found = self._find_row(job_id, kind, {"ID": new_id} if new_id else marker)
            if found is not None:
                return int(found["ID"])
            self.stats.add("readback_misses")  # "answered success and did nothing": safe to write again
        raise E.TransientError("HireHop accepted the write but it is not there; will try again later", source="hirehop")

    def save_deposit(
        self,
        *,
        job_id: int,
        amount: Decimal,
        bank_id: int,
        date: str,
        description: str,
        memo: str,
        client_id: int | None = None,
        package_id: int | None = None,
        looked: bool = False,
    ) -> int:
        """Record a payment received. `memo` must be unique to this payment: it is how a lost answer is found."""
        if amount <= 0:
            raise ValueError("a deposit's AMOUNT is positive")
        form: dict[str, Any] = {
            "ID": 0,
            "DATE": date,
            "DESCRIPTION": description,
            "AMOUNT": str(amount),
            "MEMO": memo,
            "ACC_ACCOUNT_ID": bank_id,
            "JOB_ID": job_id,
            "no_webhook": 1,
        }
        if client_id is not None:
            form["CLIENT_ID"] = client_id
        if package_id is not None:
            form["ACC_PACKAGE_ID"] = package_id
        return self._write_once(
            "/php_functions/billing_deposit_save.php", form, job_id, 6, {"MEMO": memo}, looked=looked
        )

    def apply_payment(
        self,
        *,
        job_id: int,
        deposit_id: int,
        invoice_id: int,
        amount: Decimal,
        date: str,
        description: str,
        memo: str,
        bank_id: int,
        looked: bool = False,
    ) -> int:
        """Apply a deposit to an invoice (invoice_id 0 is a refund). `memo` must be unique to this application."""
        form = {
            "id": 0,
            "date": date,
            "desc": description,
            "paid": str(amount),
            "memo": memo,
            "bank": bank_id,
            "OWNER": invoice_id,
            "deposit": deposit_id,
            "no_webhook": 1,
        }
        return self._write_once(
            "/php_functions/billing_payments_save.php", form, job_id, 3, {"MEMO": memo}, looked=looked
        )

    # ------------------------------------------------------------------ edits (setting a value is idempotent)
    def edit_deposit(self, *, deposit_id: int, amount: Decimal) -> None:
        """Set a deposit's AMOUNT. ASSUMPTION (reference: `ID=0` is a new deposit, writes set only the fields sent):
        `ID=<n>` edits deposit n. The caller reads back what matters."""
        if amount <= 0:
            raise ValueError("a deposit's AMOUNT is positive")
        form = {"ID": deposit_id, "AMOUNT": str(amount), "no_webhook": 1}
        self.call("POST", "/php_functions/billing_deposit_save.php", form, write=True)

    def edit_application(self, *, application_id: int, amount: Decimal) -> None:
        """Set how much of its deposit an application applies (0: none). ASSUMPTION as for edit_deposit."""
        if amount < 0:
            raise ValueError("an application's amount is not negative")
        form = {"id": application_id, "paid": str(amount), "no_webhook": 1}
        self.call("POST", "/php_functions/billing_payments_save.php", form, write=True)

    def save_contact(
        self, *, company: str, name: str = "", email: str = "", telephone: str = "", client: bool, supplier: bool
    ) -> int:
        """Create a contact. ASSUMPTION: no public HireHop call creates one; this is the simulator's
        contacts_save.php (see hhsim FIDELITY). A lost answer is found by company and e-mail before writing again."""
        form = {
            "ID": 0,
            "COMPANY": company,
            "NAME": name,
            "EMAIL": email,
            "TELEPHONE": telephone,
            "CLIENT": int(client),
            "SUBCONTRACTOR": int(supplier),
            "no_webhook": 1,
        }

        def existing() -> int | None:
            for row in self.contacts():
                if str(row.get("COMPANY", "")).strip().lower() == company.strip().lower() and (
                    str(row.get("EMAIL", "")).lower() == email.lower()
                ):
                    return int(row["ID"])
            return None

        try:
            answer = self.call("POST", "/php_functions/contacts_save.php", form, write=True)
            return int(answer["ID"])
        except E.TransientError:
            found = existing()
            if found is None:
                raise
            return found
