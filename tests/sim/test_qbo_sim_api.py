"""The simulator's query, batch, CDC, limits, faults and webhooks against ../shared/reference/quickbooks.md."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from simcore.server import ServerThread

from tests.conftest import UK, US, QboWorld
from tests.sim.helpers import customer, fault, ids, invoice_body, ok, post


def query(world: QboWorld, text: str, realm: str = US) -> requests.Response:
    return world.raw(realm).get(f"{world.api(realm)}/query", params={"query": text, "minorversion": "75"})


def test_query_where_and_in_like_orderby_and_paging(qbo: QboWorld) -> None:
    """Reference, Limits: 'query page | MAXRESULTS up to 1000 (default 100), STARTPOSITION 1-based'."""
    for name in ("Alpha Audio", "Beta Lights", "Gamma Staging", "Alpha Rigging"):
        customer(qbo, name)
    rows = query(qbo, "select * from Customer where DisplayName like 'Alpha%' orderby DisplayName desc").json()
    assert [c["DisplayName"] for c in rows["QueryResponse"]["Customer"]] == ["Alpha Rigging", "Alpha Audio"]
    rows = query(qbo, "SELECT * FROM Customer WHERE DisplayName IN ('Beta Lights', 'Gamma Staging') AND Active = true")
    assert len(rows.json()["QueryResponse"]["Customer"]) == 2
    page = query(qbo, "select * from Customer orderby DisplayName startposition 2 maxresults 2").json()
    assert [c["DisplayName"] for c in page["QueryResponse"]["Customer"]] == ["Alpha Rigging", "Beta Lights"]
    assert page["QueryResponse"]["startPosition"] == 2
    assert query(qbo, "select count(*) from Customer").json()["QueryResponse"] == {"totalCount": 4}


def test_query_escaped_quotes(qbo: QboWorld) -> None:
    """Reference: 'Query strings must escape ' as \\''."""
    customer(qbo, "Rosie's Rentals")
    rows = query(qbo, "select * from Customer where DisplayName = 'Rosie\\'s Rentals'").json()["QueryResponse"]
    assert rows["Customer"][0]["DisplayName"] == "Rosie's Rentals"


def test_query_limits_and_syntax_errors(qbo: QboWorld) -> None:
    """MAXRESULTS over 1000 and unknown entities are refused with a fault, never a crash."""
    assert fault(query(qbo, "select * from Customer maxresults 1001"))[:2] == (400, "4000")
    assert fault(query(qbo, "select * from Nonsense"))[:2] == (400, "4000")
    assert fault(query(qbo, "select * from Customer where DisplayName = 'open"))[:2] == (400, "4000")
    assert query(qbo, "select * from Customer").json()["QueryResponse"] == {}


def batch(world: QboWorld, items: list[dict[str, Any]], realm: str = US, **params: str) -> requests.Response:
    params.setdefault("minorversion", "75")
    return world.raw(realm).post(f"{world.api(realm)}/batch", params=params, json={"BatchItemRequest": items})


def test_batch_items_cannot_see_each_others_creations(qbo: QboWorld) -> None:
    """Reference: 'Items run serially but cannot see objects created earlier in the same batch'; 'HTTP 200 even when
    items fail'; 'match on bId'."""
    i = ids(qbo)
    made = batch(qbo, [{"bId": "c1", "operation": "create", "Customer": {"DisplayName": "Batch Made"}}])
    cust_id = made.json()["BatchItemResponse"][0]["Customer"]["Id"]
    resp = batch(
        qbo,
        [
            {"bId": "a", "operation": "create", "Customer": {"DisplayName": "Fresh In Batch"}},
            {"bId": "b", "operation": "create", "Invoice": invoice_body(cust_id, i["item"])},
            {"bId": "c", "operation": "create", "Invoice": invoice_body(str(int(cust_id) + 2), i["item"])},
        ],
    )
    assert resp.status_code == 200
    by_bid = {r["bId"]: r for r in resp.json()["BatchItemResponse"]}
    fresh_id = by_bid["a"]["Customer"]["Id"]
    assert "Invoice" in by_bid["b"]
    assert by_bid["c"]["Fault"]["Error"][0]["code"] == "2500"
    later = batch(qbo, [{"bId": "z", "operation": "create", "Invoice": invoice_body(fresh_id, i["item"])}])
    assert "Invoice" in later.json()["BatchItemResponse"][0]  # visible to the next batch


def test_batch_answers_come_in_any_order(qbo: QboWorld) -> None:
    """Reference: 'the order of responses is not guaranteed'."""
    items = [{"bId": str(n), "operation": "create", "Vendor": {"DisplayName": f"V{n}"}} for n in range(30)]
    order = [r["bId"] for r in batch(qbo, items).json()["BatchItemResponse"]]
    assert sorted(order, key=int) == [str(n) for n in range(30)] and order != sorted(order, key=int)


def test_batch_over_30_items_is_refused(qbo: QboWorld) -> None:
    """Reference, Limits: 'operations in one batch | 30'."""
    items = [{"bId": str(n), "operation": "create", "Vendor": {"DisplayName": f"V{n}"}} for n in range(31)]
    assert fault(batch(qbo, items))[:2] == (400, "1040")
    assert qbo.control.objects(US, "Vendor") == []


def test_batch_requestid_limits_and_replay(qbo: QboWorld) -> None:
    """Reference: 'requestid ... (36 inside a batch; bId at most 10 characters when a batch requestid is sent)'."""
    items = [{"bId": "12345678901", "operation": "create", "Vendor": {"DisplayName": "Long bId"}}]
    answer = batch(qbo, items, requestid="r" * 36).json()["BatchItemResponse"][0]
    assert answer["Fault"]["Error"][0]["code"] == "2050"
    assert batch(qbo, items, requestid="r" * 37).status_code == 400
    good = [{"bId": "1", "operation": "create", "Vendor": {"DisplayName": "Once"}}]
    assert batch(qbo, good, requestid="b-1").json() == batch(qbo, good, requestid="b-1").json()
    assert len(qbo.control.objects(US, "Vendor")) == 1


def cdc(world: QboWorld, entities: str, since: datetime, realm: str = US) -> requests.Response:
    return world.raw(realm).get(
        f"{world.api(realm)}/cdc",
        params={"entities": entities, "changedSince": since.isoformat(), "minorversion": "75"},
    )


def test_cdc_returns_changes_and_deletions_with_the_answer_time(qbo: QboWorld) -> None:
    """Reference: CDC response {"CDCResponse":[{"QueryResponse":[{"Payment":[...]},...]}],"time":...};
    'deleted objects come back with "status":"Deleted"'."""
    since = datetime.fromtimestamp(qbo.sim.clock.time() - 1, UTC)
    i = ids(qbo)
    cust = customer(qbo, "CDC Co")
    inv = ok(post(qbo, "Invoice", invoice_body(cust["Id"], i["item"])), "Invoice")
    other = ok(post(qbo, "Invoice", invoice_body(cust["Id"], i["item"])), "Invoice")
    ok(post(qbo, "Invoice", {"Id": other["Id"], "SyncToken": "0"}, operation="delete"), "Invoice")
    body = cdc(qbo, "Invoice,Customer", since).json()
    parts = body["CDCResponse"][0]["QueryResponse"]
    invoices = {o["Id"]: o for o in parts[0]["Invoice"]}
    assert invoices[inv["Id"]]["TotalAmt"] == 100.0
    assert invoices[other["Id"]]["status"] == "Deleted"
    assert parts[1]["Customer"][0]["DisplayName"] == "CDC Co"
    assert body["time"]


def test_cdc_looks_back_at_most_30_days_and_caps_at_1000(qbo: QboWorld) -> None:
    """Reference, Limits: 'CDC | looks back at most 30 days; at most 1000 objects per response'."""
    old = datetime.fromtimestamp(qbo.sim.clock.time(), UTC) - timedelta(days=31)
    assert cdc(qbo, "Customer", old).status_code == 400
    qbo.control.limits(cdc_max_objects=3)
    since = datetime.fromtimestamp(qbo.sim.clock.time() - 1, UTC)
    for n in range(5):
        customer(qbo, f"Cap {n}")
    assert len(cdc(qbo, "Customer", since).json()["CDCResponse"][0]["QueryResponse"][0]["Customer"]) == 3


def test_over_the_minute_limit_is_429_with_xml(qbo: QboWorld) -> None:
    """Reference: 'requests per minute | 500' and 'Over a limit: HTTP 429, and the body may be XML even when JSON was
    asked for: <IntuitResponse><Fault type="SERVICE"><Error code="3001">...'."""
    qbo.control.limits(requests_per_minute=5)
    session = qbo.raw(US)
    statuses = [session.get(f"{qbo.api(US)}/preferences", params={"minorversion": "75"}) for _ in range(7)]
    assert [r.status_code for r in statuses] == [200] * 5 + [429] * 2
    assert '<Fault type="SERVICE"><Error code="3001">' in statuses[-1].text
    assert "ThrottleExceeded" in statuses[-1].text
    qbo.control.advance(61)
    assert session.get(f"{qbo.api(US)}/preferences").status_code == 200
    assert post(qbo, "Customer", {"DisplayName": "Other realm"}, UK).status_code == 200  # limits are per realm


def test_over_the_concurrency_limit_is_429(qbo: QboWorld) -> None:
    """Reference: 'concurrent requests | 10'."""
    qbo.control.limits(concurrent=2)
    qbo.control.faults({"kind": "latency", "delay": 0.3})
    session_token = qbo.tokens.access_token(US)
    results: list[int] = []

    def one() -> None:
        resp = requests.get(f"{qbo.api(US)}/preferences", headers={"Authorization": f"Bearer {session_token}"})
        results.append(resp.status_code)

    threads = [threading.Thread(target=one) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(200) >= 2 and results.count(429) >= 1


def test_batch_calls_have_their_own_minute_limit(qbo: QboWorld) -> None:
    """Reference: 'batch endpoint calls | 120 per minute'."""
    qbo.control.limits(batch_per_minute=2)
    items = [{"bId": "1", "Query": "select * from Customer"}]
    assert [batch(qbo, items).status_code for _ in range(3)] == [200, 200, 429]
    assert qbo.raw(US).get(f"{qbo.api(US)}/preferences").status_code == 200


@pytest.mark.parametrize(
    ("kind", "committed"),
    [("http_503", False), ("reset", False), ("lost_answer", True)],
)
def test_injected_faults_commit_or_not_as_named(qbo: QboWorld, kind: str, committed: bool) -> None:
    qbo.control.faults({"kind": kind, "path": "/customer", "remaining": 1})
    try:
        resp = post(qbo, "Customer", {"DisplayName": f"Fault {kind}"})
        assert resp.status_code == 503
    except requests.ConnectionError:
        assert kind in ("reset", "lost_answer")
    assert len(qbo.control.objects(US, "Customer")) == (1 if committed else 0)
    assert qbo.control.counters(US)["faults_injected"] == 1


def test_fault_rules_are_validated(qbo: QboWorld) -> None:
    resp = requests.put(f"{qbo.url}/_sim/faults", json={"rules": [{"kind": "meteor"}]})
    assert resp.status_code == 400 and "unknown fault kind" in resp.text


class Receiver:
    """A webhook endpoint on loopback that fails on demand."""

    def __init__(self) -> None:
        self.bodies: list[tuple[bytes, dict[str, str]]] = []
        self.fail = False

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {"signature": environ.get("HTTP_INTUIT_SIGNATURE", ""), "type": environ.get("CONTENT_TYPE", "")}
        self.bodies.append((body, headers))
        status = "500 Internal Server Error" if self.fail else "200 OK"
        start_response(status, [("Content-Type", "text/plain")])
        return [b""]


def _wait(cond: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.parametrize("fmt", ["cloudevents", "legacy"])
def test_webhooks_are_signed_and_shaped_as_intuit_sends_them(qbo: QboWorld, fmt: str) -> None:
    """Reference: 'intuit-signature = base64(HMAC-SHA256(key = the app's verifier token, message = the raw request
    body bytes))'; the legacy object and the CloudEvents array ('qbo.payment.created.v1', intuitentityid,
    intuitaccountid)."""
    receiver = Receiver()
    with ServerThread(receiver) as server:
        qbo.control.webhooks(url=f"{server.url}/hook", format=fmt, verifier_token="vt-1")
        cust = customer(qbo, "Hook Co")
        _wait(lambda: receiver.bodies)
    body, headers = receiver.bodies[0]
    expected = base64.b64encode(hmac.new(b"vt-1", body, hashlib.sha256).digest()).decode()
    assert headers["signature"] == expected
    payload = json.loads(body)
    if fmt == "cloudevents":
        assert headers["type"] == "application/cloudevents+json"
        assert payload[0]["type"] == "qbo.customer.created.v1"
        assert payload[0]["intuitentityid"] == cust["Id"] and payload[0]["intuitaccountid"] == US
        assert payload[0]["specversion"] == "1.0" and payload[0]["id"]
    else:
        note = payload["eventNotifications"][0]
        assert note["realmId"] == US
        assert note["dataChangeEvent"]["entities"][0] == {
            "name": "Customer",
            "id": cust["Id"],
            "operation": "Create",
            "lastUpdated": note["dataChangeEvent"]["entities"][0]["lastUpdated"],
        }


def test_webhook_retry_schedule_holds_back_later_events(qbo: QboWorld) -> None:
    """Reference: 'Intuit retries at 10 s, 20 s, 30 s, 5 m, ... and holds back later events until the failing one is
    acknowledged'."""
    receiver = Receiver()
    receiver.fail = True
    with ServerThread(receiver) as server:
        qbo.control.webhooks(url=f"{server.url}/hook", format="legacy")
        customer(qbo, "First Event")
        _wait(lambda: len(receiver.bodies) == 1)
        customer(qbo, "Second Event")
        time.sleep(0.3)
        assert len(receiver.bodies) == 1  # held back: no retry before 10 s, no later event meanwhile
        state = requests.get(f"{qbo.url}/_sim/webhooks").json()
        assert state["head"]["attempts"] == 1 and state["waiting"] == 1
        assert state["head"]["next_at"] - qbo.sim.clock.time() == pytest.approx(10, abs=1)
        qbo.control.advance(11)
        _wait(lambda: len(receiver.bodies) == 2)
        assert receiver.bodies[1][0] == receiver.bodies[0][0]  # the same delivery again
        receiver.fail = False
        qbo.control.advance(21)  # the second retry comes 20 s later
        _wait(lambda: len(receiver.bodies) == 4)
    assert b"First Event" not in receiver.bodies[3][0]
    names = [json.loads(b)["eventNotifications"][0]["dataChangeEvent"]["entities"][0]["id"] for b, _ in receiver.bodies]
    assert names[0] == names[1] == names[2] != names[3]


def test_bookkeeper_payment_fires_a_payment_webhook(qbo: QboWorld) -> None:
    receiver = Receiver()
    i = ids(qbo)
    cust = customer(qbo, "UI Payer")
    inv = ok(post(qbo, "Invoice", invoice_body(cust["Id"], i["item"])), "Invoice")
    with ServerThread(receiver) as server:
        qbo.control.webhooks(url=f"{server.url}/hook", format="cloudevents", entities=["Payment"])
        qbo.control.ui(
            US,
            "Payment",
            {
                "CustomerRef": {"value": cust["Id"]},
                "TotalAmt": 100,
                "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
            },
        )
        _wait(lambda: receiver.bodies)
    events = json.loads(receiver.bodies[0][0])
    assert [e["type"] for e in events] == ["qbo.payment.created.v1"]
    assert qbo.first(US, "Invoice", Id=inv["Id"])["Balance"] == 0.0
