"""token_refresh: the only writer of QuickBooks tokens (schedule, /quickbooks/connect, /quickbooks/callback).

Not built yet (issue 7): the handler does nothing and says so.
"""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"refreshed": 0, "status": "not_built", "message": "token_refresh is not built yet (issue 7)"}
