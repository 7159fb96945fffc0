"""QuickBooks faults (JSON, lowercase JSON, XML) parsed into domain errors.

Bodies as ../shared/reference/quickbooks.md shows them:
  {"Fault":{"Error":[{"Message","Detail","code","element"}],"type":"ValidationFault"},"time":...}
  {"fault":{"error":[{"message","detail","code"}],"type":"AUTHENTICATION"}}                 (401)
  <IntuitResponse><Fault type="SERVICE"><Error code="3001"><Message>..</Message><Detail>..</Detail></Error></Fault>
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from hirebooks import errors as E


@dataclass(frozen=True)
class Fault:
    code: str
    message: str
    detail: str
    element: str
    type: str


def _strip_ns(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_fault(text: str) -> Fault | None:
    """The first error of a fault body in any of QuickBooks' shapes, or None if the body is not a fault."""
    stripped = text.lstrip()
    if stripped.startswith("<"):
        try:
            root = ET.fromstring(stripped)  # noqa: S314
        except ET.ParseError:
            return None
        for fault in root.iter():
            if _strip_ns(fault.tag) != "Fault":
                continue
            for err in fault:
                if _strip_ns(err.tag) == "Error":
                    fields = {_strip_ns(c.tag): (c.text or "") for c in err}
                    return Fault(
                        err.get("code", ""),
                        fields.get("Message", ""),
                        fields.get("Detail", ""),
                        err.get("element", ""),
                        fault.get("type", ""),
                    )
        return None
    try:
        body = json.loads(stripped)
    except ValueError:
        return None
    return fault_from_json(body)


def fault_from_json(body: object) -> Fault | None:
    if not isinstance(body, dict):
        return None
    fault = body.get("Fault") or body.get("fault")
    if not isinstance(fault, dict):
        return None
    errors = fault.get("Error") or fault.get("error") or []
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}

    def pick(*names: str) -> str:
        for n in names:
            if first.get(n) not in (None, ""):
                return str(first[n])
        return ""

    return Fault(
        pick("code", "Code"),
        pick("Message", "message"),
        pick("Detail", "detail"),
        pick("element", "Element"),
        str(fault.get("type") or fault.get("Type") or ""),
    )


# The reference sheet's error table, "what to do" column, as domain errors.
_AUTH = {"100", "120", "3200"}
_SETUP = {"3100", "620", "2010", "2020", "2050", "2170", "2500", "4000", "6070", "500", "1040"}
_CONFLICT = {"5010"}
_DUPLICATE = {"6240", "6140"}
_NOT_FOUND = {"610"}
_THROTTLE = {"3001"}


def to_error(status: int, fault: Fault | None, *, raw: str = "") -> E.HireBooksError:
    """Decide the domain error for an HTTP answer from QuickBooks (status >= 400, or a batch item fault)."""
    code = fault.code if fault else ""
    message = fault.message if fault else (raw[:200] or f"HTTP {status}")
    detail = fault.detail if fault else None
    kw: dict[str, str | None] = {"code": code or str(status), "detail": detail, "source": "quickbooks"}
    if fault and fault.element:
        kw["element"] = fault.element
    if status == 429 or code in _THROTTLE:
        return E.ThrottledError(message or "QuickBooks throttled the request", **kw)
    if status >= 500:
        return E.TransientError(message or "QuickBooks server error", **kw)
    if status == 401 or code in _AUTH:
        return E.AuthError(message or "QuickBooks refused the access token", **kw)
    if code in _CONFLICT:
        return E.ConflictError(message, **kw)
    if code in _DUPLICATE:
        return E.DuplicateError(message, **kw)
    if code in _NOT_FOUND or status == 404:
        return E.NotFoundError(message, **kw)
    if status == 403 or code in _SETUP:
        return E.NeedsSetupError(message, **kw)
    return E.RejectedError(message, **kw)
