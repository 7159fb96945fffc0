"""Webhook verification and parsing (reference, "Webhooks (QuickBooks calls us)")."""

from __future__ import annotations

import json

import pytest
from hirebooks.qbo.webhooks import MalformedWebhook, parse_notifications, verify_signature

LEGACY = (
    b'{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Payment","id":"163",'
    b'"operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}'
)
CLOUD = (
    b'[{"specversion":"1.0","id":"88cd52aa-1","source":"intuit.dsnB","type":"qbo.payment.created.v1",'
    b'"datacontenttype":"application/json","time":"2025-09-10T21:31:25.179Z","intuitentityid":"163",'
    b'"intuitaccountid":"310687","data":{}}]'
)


def test_verify_signature_matches_the_public_test_vector() -> None:
    """Reference: 'body {"stuff":"5"}, token verify_me -> nfPLN16u3vMvv08ghDs+dOkLuirEVDy5wAeG/lmM2OA='."""
    assert verify_signature(b'{"stuff":"5"}', "nfPLN16u3vMvv08ghDs+dOkLuirEVDy5wAeG/lmM2OA=", "verify_me")


@pytest.mark.parametrize(
    ("body", "signature", "token"),
    [
        (b'{"stuff":"6"}', "nfPLN16u3vMvv08ghDs+dOkLuirEVDy5wAeG/lmM2OA=", "verify_me"),  # tampered body
        (b'{"stuff": "5"}', "nfPLN16u3vMvv08ghDs+dOkLuirEVDy5wAeG/lmM2OA=", "verify_me"),  # re-serialized body
        (b'{"stuff":"5"}', "nfPLN16u3vMvv08ghDs+dOkLuirEVDy5wAeG/lmM2OA=", "other"),  # wrong token
        (b'{"stuff":"5"}', None, "verify_me"),  # missing signature
        (b'{"stuff":"5"}', "not base64!!", "verify_me"),
        (b'{"stuff":"5"}', "nfPLN16u3vMvv08ghDs+dOkLuirEVDy5wAeG/lmM2OA=", ""),  # no token configured
    ],
)
def test_verify_signature_rejects_everything_else(body: bytes, signature: str | None, token: str) -> None:
    assert not verify_signature(body, signature, token)


def test_parse_legacy_format() -> None:
    (event,) = parse_notifications(LEGACY)
    assert (event.realm_id, event.entity, event.entity_id, event.operation) == (
        "1185883450",
        "Payment",
        "163",
        "Create",
    )
    assert event.event_id == "1185883450:Payment:163:Create:2015-10-05T14:42:19-0700"  # realm+entity+id+op+time
    assert event.format == "legacy"


def test_parse_cloudevents_format() -> None:
    (event,) = parse_notifications(CLOUD)
    assert (event.realm_id, event.entity, event.entity_id, event.operation) == ("310687", "Payment", "163", "Create")
    assert event.event_id == "88cd52aa-1" and event.format == "cloudevents"


@pytest.mark.parametrize(
    ("verb", "operation", "entity_type", "entity"),
    [
        ("updated", "Update", "creditmemo", "CreditMemo"),
        ("deleted", "Delete", "payment", "Payment"),
        ("voided", "Void", "invoice", "Invoice"),
        ("merged", "Merge", "customer", "Customer"),
        ("emailed", "Emailed", "purchaseorder", "PurchaseOrder"),
    ],
)
def test_cloudevents_verbs_and_entities(verb: str, operation: str, entity_type: str, entity: str) -> None:
    body = json.loads(CLOUD)
    body[0]["type"] = f"qbo.{entity_type}.{verb}.v1"
    (event,) = parse_notifications(json.dumps(body).encode())
    assert (event.operation, event.entity) == (operation, entity)


def test_one_post_may_carry_several_realms() -> None:
    body = json.loads(CLOUD) * 2
    body[1] = {**body[1], "id": "other", "intuitaccountid": "999"}
    assert [e.realm_id for e in parse_notifications(json.dumps(body).encode())] == ["310687", "999"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'"a string"',
        b'{"something":"else"}',
        b'[{"id":"1"}]',
        b'[{"id":"1","type":"other.thing","intuitentityid":"1","intuitaccountid":"2"}]',
        b'[{"id":"1","type":"qbo.payment.exploded.v1","intuitentityid":"1","intuitaccountid":"2"}]',
        b'{"eventNotifications":[{"dataChangeEvent":{"entities":[]}}]}',
        b'{"eventNotifications":[{"realmId":"1","dataChangeEvent":{"entities":[{"name":"Payment"}]}}]}',
        b"\xff\xfe",
    ],
)
def test_malformed_payloads_raise_malformed_webhook(body: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        parse_notifications(body)
