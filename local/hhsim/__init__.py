"""The HireHop simulator: follows ../shared/reference/hirehop.md (see FIDELITY.md beside this file)."""

from .app import HireHopSimulator

__all__ = ["HireHopSimulator"]
