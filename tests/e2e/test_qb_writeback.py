"""QuickBooks to HireHop, end to end on the local stack: a bookkeeper's payment in the QuickBooks simulator, its signed
webhook through the gateway to qb_webhook, the SQS worker, and the HireHop simulator's invoice."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import requests
from hirebooks.store.dynamo import DynamoIdMap
from hirebooks.store.queues import SqsChangeQueue
from hirebooks.sync.model import Link
from hirebooks.sync.writeback import QboChange
from qbosim.webhooks import sign

from tests.conftest import InboundWorld

LINE = {"TITLE": "Moving head", "QUANTITY": 4, "UNIT_PRICE": "25.00", "VAT_RATE": 7, "NOMINAL_GROUP": 1, "TAX_GROUP": 1}


def pushed_invoice(world: InboundWorld, job: int | None = None, lines: list[dict[str, Any]] | None = None) -> Any:
    """An approved HireHop invoice, pushed live to QuickBooks; returns (HireHop invoice, QuickBooks invoice)."""
    intake = world.live.intake
    inv = intake.act("create_invoice", job_id=job or intake.ids["jobs"][0], lines=lines or [LINE])
    inv = intake.act("approve_invoice", invoice_id=inv["ID"], notify=False)
    outcome = world.push("invoice", inv)
    # "skipped" (unchanged): HireHop's own webhook for the draft can arrive after the approval and push it live first
    assert outcome.status in ("synced", "skipped") and outcome.qbo_id, outcome.reason
    twin = next(i for i in world.live.qbo.control.objects(world.realm, "Invoice") if i["Id"] == outcome.qbo_id)
    return inv, twin


def pay(world: InboundWorld, twin: dict[str, Any], amount: Decimal | str, total: Decimal | str | None = None) -> Any:
    return world.ui(
        "Payment",
        {
            "CustomerRef": twin["CustomerRef"],
            "TotalAmt": str(total if total is not None else amount),
            "Line": [{"Amount": str(amount), "LinkedTxn": [{"TxnId": twin["Id"], "TxnType": "Invoice"}]}],
        },
    )


def test_qb_webhook_payment_in_quickbooks_marks_the_hirehop_invoice_paid(inbound: InboundWorld) -> None:
    # Given an invoice pushed to QuickBooks earlier
    inv, twin = pushed_invoice(inbound)
    assert inbound.invoice(inv["ID"])["STATUS"] == 2
    # When a bookkeeper receives the full payment in QuickBooks
    pay(inbound, twin, twin["TotalAmt"])
    inbound.deliver()
    # Then HireHop shows the invoice paid, by one payment received and one application
    after = inbound.invoice(inv["ID"])
    assert after["STATUS"] == 3 and Decimal(str(after["OWING"])) == 0
    rows = inbound.billing(inv["JOB_ID"])
    deposits = [r for r in rows if r["kind"] == 6]
    assert len(deposits) == 1 and Decimal(str(deposits[0]["data"]["AMOUNT"])) == Decimal(str(twin["TotalAmt"]))


def edit_payment(world: InboundWorld, payment: Any, twin: Any, amount: str, sync_token: str) -> Any:
    """A bookkeeper changes a payment's amount in QuickBooks (a sparse update with the current SyncToken)."""
    return world.ui(
        "Payment",
        {
            "Id": payment["Id"],
            "SyncToken": sync_token,
            "sparse": True,
            "TotalAmt": amount,
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": twin["Id"], "TxnType": "Invoice"}]}],
        },
        "update",
    )


def cloudevent(world: InboundWorld, entity: str, entity_id: str, verb: str, event_id: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "intuit.test",
        "type": f"qbo.{entity.lower()}.{verb}.v1",
        "datacontenttype": "application/json",
        "time": "2026-12-04T10:00:00.000Z",
        "intuitentityid": entity_id,
        "intuitaccountid": world.realm,
        "data": {},
    }


def post_signed(world: InboundWorld, payload: Any, *, token: str | None = None, body: bytes | None = None) -> Any:
    raw = body if body is not None else json.dumps(payload).encode()
    return requests.post(
        world.webhook_url,
        data=raw,
        headers={
            "Content-Type": "application/cloudevents+json",
            "intuit-signature": sign(raw, token or world.verifier),
        },
        timeout=10,
    )


def hirehop_money(world: InboundWorld, job: int) -> tuple[list[Decimal], dict[int, Decimal]]:
    """Deposits (amounts) and what is applied per invoice (refunds under 0), as HireHop's billing list shows."""
    deposits, applied = [], {}
    seen = set()
    for row in world.billing(job):
        data = row["data"]
        if row["kind"] == 6:
            deposits.append(Decimal(str(data["AMOUNT"])))
        elif row["kind"] == 3 and data["ID"] not in seen:
            seen.add(data["ID"])
            applied[int(data["OWNER"])] = applied.get(int(data["OWNER"]), Decimal("0")) + Decimal(str(data["AMOUNT"]))
    return deposits, applied


def test_qb_webhook_same_webhook_five_times_applies_once(inbound: InboundWorld) -> None:
    inv, twin = pushed_invoice(inbound)
    inbound.live.qbo.control.webhooks(enabled=False)
    payment = pay(inbound, twin, "40.00")
    # When the same signed webhook arrives five times
    payload = [cloudevent(inbound, "Payment", payment["Id"], "created", "evt-five-times")]
    for _ in range(5):
        assert post_signed(inbound, payload).status_code == 200
    inbound.deliver()
    # Then HireHop holds one payment of 40.00 on the invoice, and the invoice still owes the rest
    deposits, applied = hirehop_money(inbound, inv["JOB_ID"])
    assert deposits == [Decimal("40.00")] and applied == {inv["ID"]: Decimal("40.00")}
    assert Decimal(str(inbound.invoice(inv["ID"])["OWING"])) == Decimal(str(twin["TotalAmt"])) - Decimal("40.00")


def test_qb_webhook_events_out_of_order_end_at_the_newest_version(inbound: InboundWorld) -> None:
    inv, twin = pushed_invoice(inbound)
    inbound.live.qbo.control.webhooks(enabled=False)
    payment = pay(inbound, twin, "30.00")
    edited = edit_payment(inbound, payment, twin, "55.00", payment["SyncToken"])
    assert edited["SyncToken"] != payment["SyncToken"]
    # When the update's event comes first and the create's last (each read gives the newest version)
    post_signed(inbound, [cloudevent(inbound, "Payment", payment["Id"], "updated", "evt-upd")])
    inbound.deliver()
    post_signed(inbound, [cloudevent(inbound, "Payment", payment["Id"], "created", "evt-new")])
    inbound.deliver()
    # Then HireHop holds the edited amount, once
    deposits, applied = hirehop_money(inbound, inv["JOB_ID"])
    assert deposits == [Decimal("55.00")] and applied == {inv["ID"]: Decimal("55.00")}


def test_qb_webhook_payment_edited_then_deleted_is_undone(inbound: InboundWorld) -> None:
    inv, twin = pushed_invoice(inbound)
    total = Decimal(str(twin["TotalAmt"]))
    payment = pay(inbound, twin, total)
    inbound.deliver()
    assert inbound.invoice(inv["ID"])["STATUS"] == 3
    # When the bookkeeper lowers it, then deletes it
    current = next(p for p in inbound.live.qbo.control.objects(inbound.realm, "Payment") if p["Id"] == payment["Id"])
    edited = edit_payment(inbound, payment, twin, "20.00", current["SyncToken"])
    inbound.deliver()
    deposits, applied = hirehop_money(inbound, inv["JOB_ID"])
    assert deposits == [Decimal("20.00")] and applied == {inv["ID"]: Decimal("20.00")}
    assert inbound.invoice(inv["ID"])["STATUS"] == 2
    inbound.ui("Payment", {"Id": payment["Id"], "SyncToken": edited["SyncToken"]}, "delete")
    inbound.deliver()
    # Then nothing is applied to the invoice any more, and the money received is refunded (HireHop has no delete)
    deposits, applied = hirehop_money(inbound, inv["JOB_ID"])
    assert applied[inv["ID"]] == 0 and applied[0] == Decimal("20.00")
    assert Decimal(str(inbound.invoice(inv["ID"])["OWING"])) == total


def test_qb_webhook_one_payment_over_two_invoices_with_an_overpayment(inbound: InboundWorld) -> None:
    job = inbound.live.intake.ids["jobs"][0]
    first, twin1 = pushed_invoice(inbound, job)
    second, twin2 = pushed_invoice(inbound, job, [{**LINE, "QUANTITY": 2}])
    t1, t2 = Decimal(str(twin1["TotalAmt"])), Decimal(str(twin2["TotalAmt"]))
    inbound.ui(
        "Payment",
        {
            "CustomerRef": twin1["CustomerRef"],
            "TotalAmt": str(t1 + t2 + Decimal("15.00")),
            "Line": [
                {"Amount": str(t1), "LinkedTxn": [{"TxnId": twin1["Id"], "TxnType": "Invoice"}]},
                {"Amount": str(t2), "LinkedTxn": [{"TxnId": twin2["Id"], "TxnType": "Invoice"}]},
            ],
        },
    )
    inbound.deliver()
    deposits, applied = hirehop_money(inbound, job)
    # Both invoices paid; the 15.00 beyond them stays on the deposit, unapplied
    assert deposits == [t1 + t2 + Decimal("15.00")]
    assert applied == {first["ID"]: t1, second["ID"]: t2}
    assert inbound.invoice(first["ID"])["STATUS"] == 3 and inbound.invoice(second["ID"])["STATUS"] == 3


def test_qb_webhook_zero_payment_applying_a_quickbooks_credit_memo(inbound: InboundWorld) -> None:
    inv, twin = pushed_invoice(inbound)
    item = inbound.live.qbo.control.objects(inbound.realm, "Item")[0]
    credit = inbound.ui(
        "CreditMemo",
        {
            "CustomerRef": twin["CustomerRef"],
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "10.00",
                    "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": "10.00"},
                }
            ],
        },
    )
    inbound.ui(
        "Payment",
        {
            "CustomerRef": twin["CustomerRef"],
            "TotalAmt": "0",
            "Line": [
                {"Amount": "10.00", "LinkedTxn": [{"TxnId": twin["Id"], "TxnType": "Invoice"}]},
                {"Amount": str(credit["TotalAmt"]), "LinkedTxn": [{"TxnId": credit["Id"], "TxnType": "CreditMemo"}]},
            ],
        },
    )
    inbound.deliver()
    deposits, applied = hirehop_money(inbound, inv["JOB_ID"])
    assert applied == {inv["ID"]: Decimal("10.00")} and deposits == [Decimal("10.00")]
    assert Decimal(str(inbound.invoice(inv["ID"])["OWING"])) == Decimal(str(twin["TotalAmt"])) - Decimal("10.00")


def test_qb_webhook_payments_hirebooks_wrote_are_not_written_back(inbound: InboundWorld) -> None:
    # Given a payment taken in HireHop and pushed to QuickBooks (its webhook comes back to us)
    intake = inbound.live.intake
    inv, _twin = pushed_invoice(inbound)
    taken = intake.act(
        "take_payment", job_id=inv["JOB_ID"], amount=str(inv["TOTAL"]), apply=[[inv["ID"], str(inv["TOTAL"])]]
    )
    outcome = inbound.push("payment", taken["applications"][0])
    assert outcome.status in ("synced", "skipped") and outcome.qbo_id, outcome.reason  # live push may be first
    inbound.deliver()
    # Then HireHop still has just the one payment it took
    deposits, applied = hirehop_money(inbound, inv["JOB_ID"])
    assert deposits == [Decimal(str(inv["TOTAL"]))] and applied == {inv["ID"]: Decimal(str(inv["TOTAL"]))}
    assert inbound.poller.batches >= 1  # the webhook did arrive and was looked at


def test_qb_webhook_cdc_sweep_catches_what_webhooks_missed(inbound: InboundWorld) -> None:
    inv, twin = pushed_invoice(inbound)
    inbound.live.qbo.control.webhooks(enabled=False)
    pay(inbound, twin, twin["TotalAmt"])
    inbound.deliver()
    assert inbound.invoice(inv["ID"])["STATUS"] == 2  # no webhook: HireHop does not know yet
    # When the daily sweep runs (EventBridge's scheduled event)
    answer = inbound.live.intake.gateway.invoke(
        "QbWebhookFunction", {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    )
    inbound.deliver()
    assert inbound.invoice(inv["ID"])["STATUS"] == 3
    mine = [s for s in answer["sweeps"] if s["realm_id"] == inbound.realm]
    assert mine and mine[0]["queued"] >= 1
    # And a second sweep (and a late webhook for the same payment) change nothing
    inbound.live.intake.gateway.invoke("QbWebhookFunction", {"source": "aws.events", "detail-type": "Scheduled Event"})
    inbound.deliver()
    deposits, _ = hirehop_money(inbound, inv["JOB_ID"])
    assert deposits == [Decimal(str(twin["TotalAmt"]))]


def test_qb_webhook_an_older_version_arriving_late_changes_nothing(inbound: InboundWorld) -> None:
    """Invariant 3 (latest wins): the sweep's copy of a payment can be older than what HireHop already holds."""
    inv, twin = pushed_invoice(inbound)
    payment = pay(inbound, twin, "30.00")
    inbound.deliver()
    edit_payment(inbound, payment, twin, "55.00", payment["SyncToken"])
    inbound.deliver()
    # When a copy of the first version (SyncToken 0, 30.00) comes through the queue after the edit was applied
    stale = QboChange(inbound.realm, "Payment", payment["Id"], "Update", "cdc-stale", "", "cdc", payment)
    SqsChangeQueue(inbound.live.intake.aws.aws.client("sqs"), inbound.poller.queue_url).send([stale])
    inbound.deliver()
    # Then HireHop keeps the newer amount
    deposits, applied = hirehop_money(inbound, inv["JOB_ID"])
    assert deposits == [Decimal("55.00")] and applied == {inv["ID"]: Decimal("55.00")}


def test_qb_webhook_a_voided_payment_is_undone(inbound: InboundWorld) -> None:
    inv, twin = pushed_invoice(inbound)
    payment = pay(inbound, twin, "35.00")
    inbound.deliver()
    current = next(p for p in inbound.live.qbo.control.objects(inbound.realm, "Payment") if p["Id"] == payment["Id"])
    inbound.ui("Payment", {"Id": payment["Id"], "SyncToken": current["SyncToken"]}, "void")
    inbound.deliver()
    deposits, applied = hirehop_money(inbound, inv["JOB_ID"])
    assert deposits == [Decimal("35.00")] and applied[inv["ID"]] == 0 and applied[0] == Decimal("35.00")
    assert Decimal(str(inbound.invoice(inv["ID"])["OWING"])) == Decimal(str(twin["TotalAmt"]))


def test_qb_webhook_sweep_on_demand_needs_the_admin_token_and_good_input(inbound: InboundWorld) -> None:
    from tests.conftest import ADMIN_TOKEN

    inbound.live.secrets.put("admin-token", ADMIN_TOKEN)
    inv, twin = pushed_invoice(inbound)
    inbound.live.qbo.control.webhooks(enabled=False)
    pay(inbound, twin, twin["TotalAmt"])
    url = f"{inbound.gateway_url}/quickbooks/sweep"
    assert requests.post(url, json={}, timeout=10).status_code == 401
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    bad = requests.post(url, json={"realm_ids": "all"}, headers=auth, timeout=10)
    assert bad.status_code == 422 and "realm_ids" in bad.json()["message"]
    assert inbound.invoice(inv["ID"])["STATUS"] == 2
    done = requests.post(url, json={"realm_ids": [inbound.realm]}, headers=auth, timeout=30)
    assert done.status_code == 200 and done.json()["sweeps"][0]["queued"] >= 1
    inbound.deliver()
    assert inbound.invoice(inv["ID"])["STATUS"] == 3


def test_qb_webhook_a_payment_hirebooks_is_still_creating_is_not_written_back(inbound: InboundWorld) -> None:
    """QuickBooks' webhook can come before the push has recorded the new payment's id: the write-ahead intent
    (found by the payment's HireHop reference) is enough to know it is ours. Found by the demo: without this, HireHop
    got its own payment back a second time."""
    inv, twin = pushed_invoice(inbound)
    company = inbound.live.intake.company_id
    idmap = DynamoIdMap(inbound.live.intake.aws.table("IdMapTable"))
    idmap.put(Link(company, inbound.realm, "payment:987654", "Payment", "creating", "rid-in-flight", "digest"))
    inbound.ui(
        "Payment",
        {
            "CustomerRef": twin["CustomerRef"],
            "TotalAmt": "12.00",
            "PaymentRefNum": "HH987654",
            "Line": [{"Amount": "12.00", "LinkedTxn": [{"TxnId": twin["Id"], "TxnType": "Invoice"}]}],
        },
    )
    inbound.deliver()
    deposits, applied = hirehop_money(inbound, inv["JOB_ID"])
    assert deposits == [] and applied == {}
