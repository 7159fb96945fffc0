"""qb_webhook: QuickBooks' webhook (POST /quickbooks/webhook) and its SQS worker.

Not built yet (issue 6). The route answers 503 so that Intuit keeps the events and retries them later
(reference: Intuit retries for days), rather than a 200 that would drop them.
"""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 503,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": "not_built", "message": "QuickBooks webhook intake is not built yet (issue 6)"}),
    }
