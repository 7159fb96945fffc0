"""QuickBooks' webhooks (reference, "Webhooks (QuickBooks calls us)").

- Signed: intuit-signature = base64(HMAC-SHA256(verifier token, raw body)).
- Two formats: the legacy object {"eventNotifications": [...]} or the CloudEvents array (a setting).
- One POST carries what is waiting (at most 100 events); an answer other than 2xx within 3 seconds is a failure.
- Retries at 10 s, 20 s, 30 s, 5 m, 20 m, 2 h, 4 h, 6 h, then every 6 h (simulated time), and later events are
  held back until the failing delivery is acknowledged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

RETRY_SCHEDULE = (10, 20, 30, 300, 1200, 7200, 14400, 21600)
MAX_EVENTS_PER_POST = 100
ANSWER_WITHIN = 3.0
CLOUDEVENT_VERBS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Void": "voided",
    "Merge": "merged",
}


def sign(body: bytes, verifier_token: str) -> str:
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Event:
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    at: float
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Delivery:
    events: list[Event]
    body: bytes
    content_type: str
    attempts: int = 0
    next_at: float = 0.0
    last_status: str = ""


@dataclass
class WebhookConfig:
    url: str | None = None
    verifier_token: str = "local-verifier-token"  # noqa: S105 - the local stack's own
    format: str = "cloudevents"  # or "legacy"
    enabled: bool = True
    entities: tuple[str, ...] = ("Payment", "CreditMemo", "Invoice", "Customer", "Vendor")


class Dispatcher:
    def __init__(self, now: Callable[[], float], real_sleep: Callable[[float], None]) -> None:
        self.now = now
        self._sleep = real_sleep
        self.config = WebhookConfig()
        self._lock = threading.RLock()
        self._waiting: deque[Event] = deque()
        self._head: Delivery | None = None
        self.delivered: list[dict[str, Any]] = []
        self.attempt_log: deque[dict[str, Any]] = deque(maxlen=2000)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._session = requests.Session()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ intake
    def notify(self, realm_id: str, entity: str, entity_id: str, operation: str, at: float) -> None:
        cfg = self.config
        if not cfg.enabled or cfg.url is None or entity not in cfg.entities:
            return
        with self._lock:
            self._waiting.append(Event(realm_id, entity, entity_id, operation, at))
        self._wake.set()

    # ------------------------------------------------------------------ formats
    def _iso(self, t: float) -> str:
        return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def render(self, events: list[Event]) -> tuple[bytes, str]:
        if self.config.format == "legacy":
            by_realm: dict[str, list[dict[str, str]]] = {}
            for e in events:
                by_realm.setdefault(e.realm_id, []).append(
                    {
                        "name": e.entity,
                        "id": e.entity_id,
                        "operation": e.operation,
                        "lastUpdated": self._iso(e.at),
                    }
                )
            payload: Any = {
                "eventNotifications": [
                    {"realmId": realm, "dataChangeEvent": {"entities": ents}} for realm, ents in by_realm.items()
                ]
            }
            return json.dumps(payload).encode(), "application/json"
        payload = [
            {
                "specversion": "1.0",
                "id": e.event_id,
                "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
                "type": f"qbo.{e.entity.lower()}.{CLOUDEVENT_VERBS.get(e.operation, e.operation.lower())}.v1",
                "datacontenttype": "application/json",
                "time": self._iso(e.at),
                "intuitentityid": e.entity_id,
                "intuitaccountid": e.realm_id,
                "data": {},
            }
            for e in events
        ]
        return json.dumps(payload).encode(), "application/cloudevents+json"

    # ------------------------------------------------------------------ delivery
    def deliver_due(self, *, ignore_schedule: bool = False) -> int:
        """Attempt the head delivery if it is due; return how many events were acknowledged."""
        with self._lock:
            if self._head is None:
                if not self._waiting or self.config.url is None:
                    return 0
                batch = [self._waiting.popleft() for _ in range(min(MAX_EVENTS_PER_POST, len(self._waiting)))]
                body, ctype = self.render(batch)
                self._head = Delivery(batch, body, ctype)
            head = self._head
            if not ignore_schedule and head.next_at > self.now():
                return 0
            url = self.config.url
            token = self.config.verifier_token
        status = "error"
        try:
            resp = self._session.post(
                url,
                data=head.body,
                headers={"Content-Type": head.content_type, "intuit-signature": sign(head.body, token)},
                timeout=(1.0, ANSWER_WITHIN),
            )
            status = str(resp.status_code)
            ok = 200 <= resp.status_code < 300
        except requests.RequestException as exc:
            status = type(exc).__name__
            ok = False
        with self._lock:
            head.attempts += 1
            head.last_status = status
            self.attempt_log.append({"events": len(head.events), "attempt": head.attempts, "status": status})
            if ok:
                self.delivered.extend(
                    {"event_id": e.event_id, "entity": e.entity, "id": e.entity_id} for e in head.events
                )
                self._head = None
                return len(head.events)
            step = RETRY_SCHEDULE[min(head.attempts - 1, len(RETRY_SCHEDULE) - 1)]
            head.next_at = self.now() + step
            return 0

    def state(self) -> dict[str, Any]:
        with self._lock:
            head = self._head
            return {
                "config": {
                    "url": self.config.url,
                    "format": self.config.format,
                    "enabled": self.config.enabled,
                    "entities": list(self.config.entities),
                },
                "waiting": len(self._waiting),
                "head": None
                if head is None
                else {
                    "events": len(head.events),
                    "attempts": head.attempts,
                    "next_at": head.next_at,
                    "last_status": head.last_status,
                },
                "delivered": len(self.delivered),
                "attempts": list(self.attempt_log)[-50:],
            }

    def clear(self) -> None:
        with self._lock:
            self._waiting.clear()
            self._head = None
            self.delivered.clear()
            self.attempt_log.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.deliver_due()
            except Exception:
                sent = 0
            if not sent:
                self._wake.wait(0.05)
                self._wake.clear()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="qbo-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
