"""DynamoDB adapters. Keys: pk/sk strings; every pk starts with the company (or, for tenants, the token's hash).

Outbox   pk = "C#<company>"          sk = "E#<entry id>"
Settings pk = "TENANT#<sha256(token)>" sk = "TENANT"   (the token itself is never stored)
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from hirebooks.sync.intake import sha256_hex
from hirebooks.sync.model import OutboxEntry, TenantRecord


def _to_dynamo(value: Any) -> Any:
    """Floats are not allowed in DynamoDB; payloads go in as JSON text anyway."""
    return json.loads(json.dumps(value, default=str), parse_float=Decimal)


class DynamoOutbox:
    def __init__(self, table: Any) -> None:
        self.table = table

    @staticmethod
    def _key(company_id: int, entry_id: str) -> dict[str, str]:
        return {"pk": f"C#{company_id}", "sk": f"E#{entry_id}"}

    def put_if_absent(self, entry: OutboxEntry) -> bool:
        item = {
            **self._key(entry.company_id, entry.entry_id),
            "company_id": entry.company_id,
            "entry_id": entry.entry_id,
            "doc_kind": entry.doc_kind,
            "doc_id": entry.doc_id,
            "event": entry.event,
            "event_time": entry.event_time,
            "received_at": Decimal(str(entry.received_at)),
            "payload": json.dumps(entry.payload, default=str, separators=(",", ":")),
            "status": entry.status,
            "reason": entry.reason,
            "attempts": entry.attempts,
            "history": _to_dynamo(entry.history),
        }
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, company_id: int, entry_id: str) -> OutboxEntry | None:
        item = self.table.get_item(Key=self._key(company_id, entry_id), ConsistentRead=True).get("Item")
        if item is None:
            return None
        return OutboxEntry(
            company_id=int(item["company_id"]),
            entry_id=str(item["entry_id"]),
            doc_kind=str(item["doc_kind"]),
            doc_id=str(item["doc_id"]),
            event=str(item["event"]),
            event_time=str(item["event_time"]),
            received_at=float(item["received_at"]),
            payload=json.loads(item["payload"]),
            status=str(item["status"]),
            reason=str(item.get("reason", "")),
            attempts=int(item.get("attempts", 0)),
            history=list(item.get("history", [])),
        )

    def list_company(self, company_id: int) -> list[OutboxEntry]:
        """Every entry of a company (a key query, never a scan)."""
        out: list[OutboxEntry] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :e)",
            "ExpressionAttributeValues": {":pk": f"C#{company_id}", ":e": "E#"},
        }
        while True:
            page = self.table.query(**kwargs)
            for item in page["Items"]:
                entry = self.get(company_id, str(item["entry_id"]))
                if entry is not None:
                    out.append(entry)
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class DynamoTenantDirectory:
    def __init__(self, table: Any) -> None:
        self.table = table

    def find(self, tenant_token: str) -> TenantRecord | None:
        if not tenant_token or len(tenant_token) > 200:
            return None
        item = self.table.get_item(Key={"pk": f"TENANT#{sha256_hex(tenant_token)}", "sk": "TENANT"}).get("Item")
        if item is None or not item.get("active", True):
            return None
        return TenantRecord(int(item["company_id"]), str(item["export_key_sha256"]), str(item.get("name", "")))

    def register(self, company_id: int, export_key: str, name: str = "") -> str:
        """Create a tenant; returns the URL token (shown once, stored only as a hash)."""
        token = secrets.token_urlsafe(24)
        self.table.put_item(
            Item={
                "pk": f"TENANT#{sha256_hex(token)}",
                "sk": "TENANT",
                "company_id": company_id,
                "export_key_sha256": sha256_hex(export_key),
                "name": name,
                "active": True,
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        return token
