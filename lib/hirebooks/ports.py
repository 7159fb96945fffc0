"""Ports: what the use cases need from the outside world, named for their role.

Adapters are named for their technology (QboHttpClient, DynamoOutbox); fakes for tests are InMemory....
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hirebooks.sync.model import OutboxEntry


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
