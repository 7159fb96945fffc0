"""The QuickBooks Online adapter: a thin client on `requests`, faults mapped to domain errors, pacing per realm,
deterministic request ids, OAuth, and webhook verification and parsing."""

from .client import BatchOutcome, QboHttpClient
from .pacing import Limits, PacerRegistry, RealmPacer
from .requestid import request_id

__all__ = ["BatchOutcome", "Limits", "PacerRegistry", "QboHttpClient", "RealmPacer", "request_id"]
