"""Domain errors. Adapters turn HTTP and SDK failures into these; use cases act on the kind, never on HTTP codes.

| kind          | what happens next                                                          |
|---------------|----------------------------------------------------------------------------|
| Transient     | retry with backoff, same requestid (throttling, 5xx, timeouts, resets)     |
| Auth          | refresh the token once; if that fails, wait for a reconnect                |
| NeedsSetup    | park until someone fixes a mapping or the data (no retry by itself)        |
| Conflict      | stale SyncToken: re-read once, retry once                                  |
| Duplicate     | a name or number already exists: look it up and link, or apply the naming rule |
| NotFound      | the object is gone or inactive: re-sync references                         |
| Rejected      | QuickBooks or HireHop said no for a business reason: surface it            |
| UnknownOutcome| a write may or may not have happened: look it up before writing again      |
"""

from __future__ import annotations


class HireBooksError(Exception):
    """Base of every domain error. `retryable` tells the caller whether trying again later can help."""

    retryable = False
    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        detail: str | None = None,
        source: str | None = None,
        element: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.detail = detail
        self.source = source
        self.element = element

    def __str__(self) -> str:
        parts = [self.message]
        if self.detail and self.detail != self.message:
            parts.append(self.detail)
        text = ": ".join(parts)
        return f"{text} (code {self.code})" if self.code else text

    def as_dict(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "message": self.message,
            "code": self.code,
            "detail": self.detail,
            "source": self.source,
        }


class TransientError(HireBooksError):
    """Throttled, server trouble, timeout, connection reset: retry later with the same requestid."""

    retryable = True
    kind = "transient"
    retry_after: float | None = None  # seconds the other side asked us to wait, when it said


class ThrottledError(TransientError):
    kind = "throttled"


class UnknownOutcomeError(TransientError):
    """A write was sent but no answer came back: it may have been applied. Look it up before re-creating."""

    kind = "unknown_outcome"


class AuthError(HireBooksError):
    """The token was refused. Refresh once; if it still fails the connection needs a reconnect."""

    kind = "auth"


class ReconnectNeededError(AuthError):
    """The refresh token is dead (invalid_grant) or access was withdrawn: only a person can reconnect."""

    kind = "needs_reconnect"


class NeedsSetupError(HireBooksError):
    """A mapping or configuration is missing or wrong: nothing will change until someone sets it up."""

    kind = "needs_setup"


class ConflictError(HireBooksError):
    """Stale SyncToken (QuickBooks 5010): re-read once, retry once."""

    kind = "conflict"


class DuplicateError(HireBooksError):
    """A name (6240) or document number (6140) already exists."""

    kind = "duplicate"


class NotFoundError(HireBooksError):
    """The object does not exist, or a referenced list object is inactive (QuickBooks 610)."""

    kind = "not_found"


class RejectedError(HireBooksError):
    """A business rule said no (closed period, ended subscription, validation): surface it to a person."""

    kind = "rejected"
