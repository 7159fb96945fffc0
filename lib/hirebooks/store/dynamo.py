"""DynamoDB adapters. Keys: pk/sk strings; every pk starts with the company (or, for tenants, the token's hash).

Outbox   pk = "C#<company>"              sk = "E#<entry id>"
Settings pk = "TENANT#<sha256(token)>"  sk = "TENANT"   (the token itself is never stored)
         pk = "C#<company>"              sk = "SETTINGS"  (the set-up, as JSON validated by CompanySettings)
IdMap    pk = "C#<company>#R#<realm>"    sk = "<key>"     GSI ByQboRef: qbo_ref = "<realm>#<entity>#<id>"
         pk = "WB#<realm>"               sk = "<entity>#<id>"  (what HireHop holds of a QuickBooks payment)
Inbound  pk = "EV#<event id>"            sk = "EV"  (applied webhook events, with a TTL)
         pk = "PARKED"                   sk = "<time>#<uuid>"  (signed payloads we could not read, with a TTL)
         pk = "CDC#<realm>"              sk = "MARK"  (the sweep's high-water mark)
         pk = "STATE#<nonce>"            sk = "STATE" (a connect link's state, used once, with a TTL)
Connections pk = "CONN"                  sk = "<realm>"  (status, expiries, tokens; the table is KMS-encrypted)
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from hirebooks.qbo.connection import Connection
from hirebooks.qbo.oauth import TokenSet
from hirebooks.sync.intake import sha256_hex
from hirebooks.sync.model import DONE, PARKED, PARKED_STATUSES, Link, OutboxEntry, TenantRecord, WritebackRecord
from hirebooks.sync.settings import CompanySettings


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
            "next_attempt_at": Decimal(str(entry.next_attempt_at)),
            "history": _to_dynamo(entry.history),
        }
        if entry.status not in DONE:
            item["waiting_pk"] = f"C#{entry.company_id}"
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, company_id: int, entry_id: str) -> OutboxEntry | None:
        item = self.table.get_item(Key=self._key(company_id, entry_id), ConsistentRead=True).get("Item")
        return None if item is None else self._entry(item)

    def mark(self, entry: OutboxEntry, status: str, reason: str, *, next_attempt_at: float = 0.0, now: float) -> None:
        """Record an attempt. Entries that wait stay in the Waiting index (due at next_attempt_at; PARKED for those
        that wait for a person); done ones leave it."""
        step = {"at": Decimal(str(now)), "what": status, "reason": reason[:500]}
        if status in PARKED_STATUSES:
            next_attempt_at = PARKED
        values: dict[str, Any] = {
            ":s": status,
            ":r": reason,
            ":one": 1,
            ":n": Decimal(str(next_attempt_at)),
            ":h": [step],
            ":empty": [],
        }
        expression = (
            "SET #s = :s, reason = :r, attempts = attempts + :one, next_attempt_at = :n, "
            "history = list_append(if_not_exists(history, :empty), :h)"
        )
        if status in DONE:
            expression += " REMOVE waiting_pk"
        else:
            expression += ", waiting_pk = :w"
            values[":w"] = f"C#{entry.company_id}"
        self.table.update_item(
            Key=self._key(entry.company_id, entry.entry_id),
            UpdateExpression=expression,
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
        )
        entry.status, entry.reason, entry.attempts = status, reason, entry.attempts + 1
        entry.next_attempt_at = next_attempt_at

    @staticmethod
    def _entry(item: dict[str, Any]) -> OutboxEntry:
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
            next_attempt_at=float(item.get("next_attempt_at", 0)),
            history=list(item.get("history", [])),
        )

    def list_waiting(self, company_id: int, due_by: float | None = None) -> list[OutboxEntry]:
        """Entries that wait (the buffer), oldest due first; with `due_by`, only those due by then."""
        condition = "waiting_pk = :w" + (" AND next_attempt_at <= :d" if due_by is not None else "")
        values: dict[str, Any] = {":w": f"C#{company_id}"}
        if due_by is not None:
            values[":d"] = Decimal(str(due_by))
        out: list[OutboxEntry] = []
        kwargs: dict[str, Any] = {
            "IndexName": "Waiting",
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        while True:
            page = self.table.query(**kwargs)
            out.extend(self._entry(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def list_company(self, company_id: int) -> list[OutboxEntry]:
        """Every entry of a company (a key query, never a scan)."""
        out: list[OutboxEntry] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :e)",
            "ExpressionAttributeValues": {":pk": f"C#{company_id}", ":e": "E#"},
            "ConsistentRead": True,
        }
        while True:
            page = self.table.query(**kwargs)
            out.extend(self._entry(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return sorted(out, key=lambda e: (e.received_at, e.entry_id))
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


class DynamoIdMap:
    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, company_id: int, realm_id: str, key: str) -> Link | None:
        item = self.table.get_item(Key={"pk": f"C#{company_id}#R#{realm_id}", "sk": key}, ConsistentRead=True).get(
            "Item"
        )
        return None if item is None else self._link(item)

    def put(self, link: Link) -> None:
        item: dict[str, Any] = {
            "pk": f"C#{link.company_id}#R#{link.realm_id}",
            "sk": link.key,
            "company_id": link.company_id,
            "realm_id": link.realm_id,
            "qbo_entity": link.qbo_entity,
            "state": link.state,
            "request_id": link.request_id,
            "content_hash": link.content_hash,
            "generation": link.generation,
            "origin": link.origin,
            "updated_at": Decimal(str(link.updated_at)),
            "job_id": link.job_id,
        }
        for name in ("qbo_id", "sync_token", "doc_number"):
            value = getattr(link, name)
            if value is not None:
                item[name] = value
        if link.qbo_id is not None:
            item["qbo_ref"] = f"{link.realm_id}#{link.qbo_entity}#{link.qbo_id}"
        self.table.put_item(Item=item)

    def find_by_qbo(self, realm_id: str, entity: str, qbo_id: str) -> Link | None:
        page = self.table.query(
            IndexName="ByQboRef",
            KeyConditionExpression="qbo_ref = :r",
            ExpressionAttributeValues={":r": f"{realm_id}#{entity}#{qbo_id}"},
        )
        items = page.get("Items", [])
        return self._link(items[0]) if items else None

    @staticmethod
    def _link(item: dict[str, Any]) -> Link:
        return Link(
            company_id=int(item["company_id"]),
            realm_id=str(item["realm_id"]),
            key=str(item["sk"]),
            qbo_entity=str(item["qbo_entity"]),
            state=str(item["state"]),
            request_id=str(item["request_id"]),
            content_hash=str(item["content_hash"]),
            qbo_id=item.get("qbo_id"),
            sync_token=item.get("sync_token"),
            doc_number=item.get("doc_number"),
            generation=int(item.get("generation", 0)),
            origin=str(item.get("origin", "hirebooks")),
            updated_at=float(item.get("updated_at", 0)),
            job_id=int(item.get("job_id", 0)),
        )


class DynamoSettings:
    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, company_id: int) -> CompanySettings | None:
        item = self.table.get_item(Key={"pk": f"C#{company_id}", "sk": "SETTINGS"}, ConsistentRead=True).get("Item")
        return None if item is None else CompanySettings.model_validate_json(str(item["data"]))

    def put(self, settings: CompanySettings) -> None:
        self.table.put_item(
            Item={"pk": f"C#{settings.company_id}", "sk": "SETTINGS", "data": settings.model_dump_json()}
        )
        self.table.put_item(
            Item={"pk": "COMPANIES", "sk": f"C#{settings.company_id}", "company_id": settings.company_id}
        )


class DynamoLease:
    """One holder at a time per name (a realm), with an expiry so a crashed holder never blocks for ever."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def acquire(self, name: str, holder: str, now: float, ttl: float) -> bool:
        try:
            self.table.put_item(
                Item={"pk": f"LEASE#{name}", "sk": "LEASE", "holder": holder, "expires_at": Decimal(str(now + ttl))},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR holder = :me",
                ExpressionAttributeValues={":now": Decimal(str(now)), ":me": holder},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, name: str, holder: str) -> None:
        try:
            self.table.delete_item(
                Key={"pk": f"LEASE#{name}", "sk": "LEASE"},
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": holder},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


class DynamoCompanies:
    """Which HireHop companies have a set-up (the scheduled flush visits each): one key query."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def all(self) -> list[int]:
        page = self.table.query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "COMPANIES"})
        return sorted(int(item["company_id"]) for item in page.get("Items", []))


class DynamoWritebackLedger:
    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, realm_id: str, entity: str, qbo_id: str) -> WritebackRecord | None:
        item = self.table.get_item(Key={"pk": f"WB#{realm_id}", "sk": f"{entity}#{qbo_id}"}, ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        return WritebackRecord(
            realm_id=realm_id,
            entity=entity,
            qbo_id=qbo_id,
            company_id=int(item.get("company_id", 0)),
            version=int(item["version"]),
            deleted=bool(item.get("deleted", False)),
            jobs=[int(j) for j in item.get("jobs", [])],
            updated_at=float(item.get("updated_at", 0)),
        )

    def put(self, record: WritebackRecord) -> None:
        self.table.put_item(
            Item={
                "pk": f"WB#{record.realm_id}",
                "sk": f"{record.entity}#{record.qbo_id}",
                "company_id": record.company_id,
                "version": record.version,
                "deleted": record.deleted,
                "jobs": record.jobs,
                "updated_at": Decimal(str(record.updated_at)),
            }
        )


PARK_MAX_BYTES = 350_000  # a DynamoDB item holds 400 KB; a webhook POST may be about 1 MB (reference)


class DynamoInboundLog:
    """Webhook event ids applied (TTL), signed payloads kept for inspection (TTL), the CDC sweep's marks."""

    def __init__(self, table: Any, park_days: int = 30) -> None:
        self.table = table
        self.park_days = park_days

    def seen(self, event_id: str) -> bool:
        item = self.table.get_item(Key={"pk": f"EV#{event_id}", "sk": "EV"}).get("Item")
        return item is not None and int(item.get("expires_at", 0)) > time.time()

    def remember(self, event_id: str, ttl_seconds: int, now: float) -> None:
        self.table.put_item(Item={"pk": f"EV#{event_id}", "sk": "EV", "expires_at": int(now + ttl_seconds)})

    def park(self, body: bytes, reason: str, now: float) -> str:
        key = f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))}#{uuid.uuid4().hex[:12]}"
        self.table.put_item(
            Item={
                "pk": "PARKED",
                "sk": key,
                "reason": reason[:1000],
                "size": len(body),
                "body": body[:PARK_MAX_BYTES],
                "truncated": len(body) > PARK_MAX_BYTES,
                "expires_at": int(now + self.park_days * 86400),
            }
        )
        return key

    def parked(self, limit: int = 50) -> list[dict[str, Any]]:
        page = self.table.query(
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": "PARKED"},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [
            {"key": i["sk"], "reason": i["reason"], "size": int(i["size"]), "body": bytes(i["body"].value)}
            for i in page.get("Items", [])
        ]

    def mark(self, realm_id: str) -> str | None:
        item = self.table.get_item(Key={"pk": f"CDC#{realm_id}", "sk": "MARK"}, ConsistentRead=True).get("Item")
        return None if item is None else str(item["at"])

    def set_mark(self, realm_id: str, when: str) -> None:
        self.table.put_item(Item={"pk": f"CDC#{realm_id}", "sk": "MARK", "at": when})

    def remember_state(self, nonce: str, expires_at: float) -> None:
        self.table.put_item(Item={"pk": f"STATE#{nonce}", "sk": "STATE", "expires_at": int(expires_at)})

    def use_state(self, nonce: str) -> bool:
        """True once per nonce (a replayed callback gets False)."""
        try:
            self.table.delete_item(
                Key={"pk": f"STATE#{nonce}", "sk": "STATE"}, ConditionExpression="attribute_exists(pk)"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


class DynamoConnections:
    """The token store: one item per realm, written only with a condition on its version."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, realm_id: str) -> Connection | None:
        item = self.table.get_item(Key={"pk": "CONN", "sk": realm_id}, ConsistentRead=True).get("Item")
        return None if item is None else self._connection(item)

    def save(self, connection: Connection, expected_version: int | None) -> bool:
        item: dict[str, Any] = {
            "pk": "CONN",
            "sk": connection.realm_id,
            "company_id": connection.company_id,
            "package_id": connection.package_id,
            "status": connection.status,
            "version": (expected_version or 0) + 1,
            "company_name": connection.company_name,
            "connected_at": Decimal(str(connection.connected_at)),
            "last_refresh_at": Decimal(str(connection.last_refresh_at)),
            "reason": connection.reason,
            "warnings_sent": connection.warnings_sent,
        }
        if connection.tokens is not None:
            item["tokens"] = connection.tokens.to_secret()
        kwargs: dict[str, Any] = {}
        if expected_version is not None:
            kwargs = {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": expected_version}}
        try:
            self.table.put_item(Item=item, **kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        connection.version = int(item["version"])
        return True

    def all(self) -> list[Connection]:
        page = self.table.query(
            KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": "CONN"}, ConsistentRead=True
        )
        return [self._connection(i) for i in page.get("Items", [])]

    @staticmethod
    def _connection(item: dict[str, Any]) -> Connection:
        return Connection(
            realm_id=str(item["sk"]),
            company_id=int(item.get("company_id", 0)),
            package_id=str(item.get("package_id", "")),
            status=str(item["status"]),
            tokens=TokenSet.from_secret(str(item["tokens"])) if item.get("tokens") else None,
            version=int(item["version"]),
            company_name=str(item.get("company_name", "")),
            connected_at=float(item.get("connected_at", 0)),
            last_refresh_at=float(item.get("last_refresh_at", 0)),
            reason=str(item.get("reason", "")),
            warnings_sent=[str(w) for w in item.get("warnings_sent", [])],
        )
