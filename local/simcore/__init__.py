"""Pieces shared by the QuickBooks and HireHop simulators: running a WSGI app on loopback, JSON helpers."""
