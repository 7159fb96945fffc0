"""Ports: what the use cases need from the outside world, named for their role.

Adapters are named for their technology (QboHttpClient, DynamoOutbox); fakes for tests are InMemory....
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from decimal import Decimal

    from hirebooks.qbo.connection import Connection
    from hirebooks.sync.model import Link, OutboxEntry, WritebackRecord
    from hirebooks.sync.settings import CompanySettings


class TokenProvider(Protocol):
    """Gives a valid QuickBooks access token for a realm. The token store (one writer) sits behind it."""

    def access_token(self, realm_id: str) -> str:
        """A token believed valid now."""
        ...

    def refresh_after_unauthorized(self, realm_id: str, rejected_token: str) -> str:
        """QuickBooks refused `rejected_token`: get a fresh one through the single locked refresh path.

        Raises ReconnectNeededError when the connection is dead.
        """
        ...


class Clock(Protocol):
    """Time as the code sees it; the local stack can run it faster for benchmarks."""

    def time(self) -> float:
        """Seconds since the epoch (may be scaled)."""
        ...

    def monotonic(self) -> float:
        """A monotonic reading in the same (possibly scaled) seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of this clock's time."""
        ...

    def real_seconds(self, seconds: float) -> float:
        """How many real seconds `seconds` of this clock's time take (for waits on locks and events)."""
        ...


class Tenant(Protocol):
    company_id: int
    export_key_sha256: str
    name: str


class TenantDirectory(Protocol):
    """Who may post HireHop events: looked up by the token in the webhook URL."""

    def find(self, tenant_token: str) -> Tenant | None: ...


class Outbox(Protocol):
    """The write-ahead outbox (the buffer)."""

    def put_if_absent(self, entry: OutboxEntry) -> bool:
        """Store the entry unless one with its id exists; True if it was new."""
        ...

    def get(self, company_id: int, entry_id: str) -> OutboxEntry | None: ...

    def mark(self, entry: OutboxEntry, status: str, reason: str, *, next_attempt_at: float = 0.0, now: float) -> None:
        """Record an attempt's outcome on the entry (status, reason in words, attempts, history)."""
        ...

    def list_company(self, company_id: int) -> list[OutboxEntry]: ...

    def list_waiting(self, company_id: int, due_by: float | None = None) -> list[OutboxEntry]: ...


class IdMap(Protocol):
    """HireHop id <-> QuickBooks id, SyncToken, content hash and origin, per company and realm."""

    def get(self, company_id: int, realm_id: str, key: str) -> Link | None: ...

    def put(self, link: Link) -> None: ...

    def find_by_qbo(self, realm_id: str, entity: str, qbo_id: str) -> Link | None: ...


class SettingsRepository(Protocol):
    def get(self, company_id: int) -> CompanySettings | None: ...

    def put(self, settings: CompanySettings) -> None: ...


class SecretStore(Protocol):
    def get(self, name: str) -> str | None: ...

    def put(self, name: str, value: str) -> None: ...


class DocumentSource(Protocol):
    """HireHop, read-only: the authoritative documents."""

    def billing_list(self, job_id: int) -> dict[str, Any]: ...

    def purchase_orders(self, job_id: int) -> list[dict[str, Any]]: ...

    def depots(self) -> list[dict[str, Any]]: ...

    def contacts(self) -> Iterator[dict[str, Any]]: ...


class AccountingGateway(Protocol):
    """QuickBooks for one realm: what the sync writes and looks up."""

    realm_id: str

    def create(self, entity: str, body: dict[str, Any], *, request_id: str) -> dict[str, Any]: ...

    def update(
        self,
        entity: str,
        body: dict[str, Any],
        *,
        request_id: str,
        sparse: bool = True,
        reread_on_conflict: bool = True,
    ) -> dict[str, Any]: ...

    def find_by(self, entity: str, field_name: str, value: str) -> list[dict[str, Any]]: ...


class Lease(Protocol):
    """One holder at a time per name, with an expiry."""

    def acquire(self, name: str, holder: str, now: float, ttl: float) -> bool: ...

    def release(self, name: str, holder: str) -> None: ...


class WritebackLedger(Protocol):
    """Per QuickBooks payment: the version HireHop holds (so an older event changes nothing) and the jobs touched."""

    def get(self, realm_id: str, entity: str, qbo_id: str) -> WritebackRecord | None: ...

    def put(self, record: WritebackRecord) -> None: ...


class ChangeReader(Protocol):
    """QuickBooks for one realm, read-only: the current version of a changed object."""

    def read(self, entity: str, entity_id: str) -> dict[str, Any]: ...


class MoneyBook(Protocol):
    """HireHop's payments: what the write-back reads and writes (every write with no_webhook=1)."""

    def billing_list(self, job_id: int) -> dict[str, Any]: ...

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
    ) -> int: ...

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
    ) -> int: ...

    def edit_deposit(self, *, deposit_id: int, amount: Decimal) -> None: ...

    def edit_application(self, *, application_id: int, amount: Decimal) -> None: ...


class ConnectionStore(Protocol):
    """One record per QuickBooks company: status, expiries and its tokens (KMS-encrypted at rest), versioned."""

    def get(self, realm_id: str) -> Connection | None: ...

    def save(self, connection: Connection, expected_version: int | None) -> bool:
        """Write it as version expected+1 if the stored one is still `expected_version` (None: must not exist,
        or any version for a fresh connect); False when someone else wrote first."""
        ...

    def all(self) -> list[Connection]: ...


class Notifier(Protocol):
    """Tells a person (SNS: e-mail, chat): reconnect needed, expiry warnings."""

    def notify(self, subject: str, message: str) -> None: ...
