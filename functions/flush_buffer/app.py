"""flush_buffer: empties the outbox toward QuickBooks (schedule, POST /buffer/flush, CLI).

Not built yet (issue 5): the handler does nothing and says so.
"""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"flushed": 0, "status": "not_built", "message": "flush_buffer is not built yet (issue 5)"}
