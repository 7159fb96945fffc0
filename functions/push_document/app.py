"""push_document: HireHop's webhook intake (POST /hirehop/{tenant}/events).

Not built yet: the intake (authenticate, validate, write-ahead to the outbox, answer 202) arrives with issue 3.
Until then the route answers 501 with a JSON error, so nothing is accepted that could be lost.
"""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 501,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"error": "not_built", "message": "HireHop intake is not built yet (issue 3)"}),
    }
