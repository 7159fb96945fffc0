"""What every admin route checks: the admin token, a company id, a JSON object body. Errors are BufferError-shaped
(status, code, sentence), so handlers answer them the same way."""

from __future__ import annotations

import hmac
import json
from typing import Any

from hirebooks.ports import SecretStore
from hirebooks.sync.buffer import BufferError

ADMIN_TOKEN_SECRET = "admin-token"  # noqa: S105 - the secret's name, not its value


def check_admin(authorization: str | None, secrets: SecretStore) -> None:
    expected = secrets.get(ADMIN_TOKEN_SECRET) or ""
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise BufferError(401, "unauthorized", "Send the admin token: Authorization: Bearer <token>.")


def company_id(value: Any, *, required: bool = True) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
        raise BufferError(422, "invalid_company", "company_id must be a positive whole number.")
    if int(value) <= 0:
        raise BufferError(422, "invalid_company", "company_id must be a positive whole number.")
    return int(value)


def json_object(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BufferError(400, "invalid_json", "The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise BufferError(400, "invalid_json", "The body must be a JSON object.")
    return body
