"""The QuickBooks Online simulator: follows ../shared/reference/quickbooks.md (see FIDELITY.md beside this file)."""

from .app import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, QboSimulator

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "QboSimulator"]
