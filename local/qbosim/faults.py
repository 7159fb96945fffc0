"""QuickBooks fault bodies, as ../shared/reference/quickbooks.md gives them.

- JSON validation faults:
  {"Fault":{"Error":[{"Message","Detail","code","element"}],"type":"ValidationFault"},"time":...}
- 401 on an API call: lowercase keys {"fault":{"error":[{"message","detail","code"}],"type":"AUTHENTICATION"}}
- 429: XML even when JSON was asked for (<IntuitResponse><Fault type="SERVICE"><Error code="3001">...)
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass
class QboFault(Exception):
    """Raised inside the simulator; turned into the HTTP answer QuickBooks would give."""

    status: int
    code: str
    message: str
    detail: str = ""
    element: str = ""
    type: str = "ValidationFault"

    def body(self, now_iso: str) -> dict[str, object]:
        return {
            "Fault": {
                "Error": [
                    {
                        "Message": self.message,
                        "Detail": self.detail,
                        "code": self.code,
                        "element": self.element,
                    }
                ],
                "type": self.type,
            },
            "time": now_iso,
        }

    def error_item(self) -> dict[str, object]:
        """The per-item Fault inside a batch response."""
        return {
            "Error": [{"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}],
            "type": self.type,
        }


def required(field: str, entity: str) -> QboFault:
    return QboFault(
        400,
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {field} is missing in the request",
        field,
    )


def too_long(field: str, max_len: int, supplied: int) -> QboFault:
    return QboFault(
        400,
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{max_len} supplied:{supplied}",
        field,
    )


def invalid_reference(field: str, ref: object) -> QboFault:
    # Code and message from Intuit's blog "Top QuickBooks Online API Errors" (2017-06-08): 400 / 2500.
    return QboFault(400, "2500", "Invalid Reference Id", f"Invalid Reference Id : {field} {ref} does not exist", field)


def inactive(field: str) -> QboFault:
    # 610 also covers "a referenced list object is inactive" (reference sheet, error table).
    return QboFault(
        400,
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. Check the fields with {field}.",
        field,
    )


def not_found(entity: str, entity_id: str) -> QboFault:
    return QboFault(
        400,
        "610",
        "Object Not Found",
        f"Object Not Found : Another user has deleted this transaction. {entity} {entity_id}",
    )


def enum_invalid(field: str, value: object) -> QboFault:
    return QboFault(400, "2170", "Invalid Enumeration", f"Invalid Enumeration : {value}", field)


def stale(entity: str) -> QboFault:
    return QboFault(
        400,
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and another user were working on this {entity} at the same time. "
        "The other user has already updated it. Refresh and try again.",
    )


def duplicate_name(name: str) -> QboFault:
    return QboFault(
        400,
        "6240",
        "Duplicate Name Exists Error",
        "The name supplied already exists. : "
        f"Another customer, vendor or employee is already using this name ({name}).",
    )


def duplicate_docnumber(doc_number: str) -> QboFault:
    return QboFault(
        400,
        "6140",
        "Duplicate Document Number Error",
        f"Duplicate Document Number Error : You must specify a different number. This number has already been used. "
        f"DocNumber={doc_number}",
    )


def business(detail: str, element: str = "") -> QboFault:
    return QboFault(
        400, "6000", "A business validation error has occurred while processing your request", detail, element
    )


def cannot_link(txn_id: str, txn_type: str) -> QboFault:
    return QboFault(
        400,
        "620",
        "Transaction cannot be linked",
        f"{txn_type} {txn_id} cannot be linked to this transaction.",
    )


def amount_mismatch(supplied: object, expected: object) -> QboFault:
    # ASSUMPTION (not on the reference sheet): the code 6070 and its wording are from memory of Intuit's error list.
    # The rule itself (Amount = Qty x UnitPrice) is on the sheet.
    return QboFault(
        400,
        "6070",
        "Amount calculation incorrect in the request",
        f"Amount is not equal to UnitPrice * Qty. Supplied value:{supplied} expected:{expected}",
        "Line.Amount",
    )


def unsupported(operation: str, entity: str) -> QboFault:
    # "500 Unsupported operation" appears in Intuit's error list (quoted by third-party help pages); HTTP 400.
    return QboFault(
        400,
        "500",
        "Unsupported Operation",
        f"Operation {operation} is not supported for {entity}",
        type="SERVICE",
    )


def malformed(detail: str) -> QboFault:
    # ASSUMPTION: the exact code QuickBooks gives a body that is not JSON is not on the reference sheet.
    return QboFault(400, "2010", "Request has invalid or unsupported property", detail)


def query_error(detail: str) -> QboFault:
    # ASSUMPTION: QueryParserError / 4000, as clients in the wild report it; not on the reference sheet.
    return QboFault(400, "4000", "Error parsing query", f"QueryParserError: {detail}", type="ValidationFault")


def batch_too_large(size: int, limit: int) -> QboFault:
    # Code 1040 "Batch size exceeds allowed limit" from Intuit's error list as quoted by a vendor's help page.
    return QboFault(400, "1040", "Batch size exceeds allowed limit", f"Batch size {size} exceeds the limit of {limit}")


def server_error(status: int) -> QboFault:
    return QboFault(status, str(status), "An application error has occurred", "Internal Server Error", type="SERVICE")


def auth_json(now_iso: str) -> dict[str, object]:
    """401 on an API call, lowercase keys (reference: 'An expired access token on an API call')."""
    return {
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": "Token expired: the access token is invalid or has expired",
                    "code": "3200",
                }
            ],
            "type": "AUTHENTICATION",
        },
        "time": now_iso,
    }


def auth_xml() -> str:
    """The XML variant some auth faults take (reference: '<Fault type="AuthenticationFault"><Error code="100">')."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3">'
        '<Fault type="AuthenticationFault"><Error code="100">'
        "<Message>General Authentication Error</Message><Detail>AuthenticationErrorGeneral</Detail>"
        "</Error></Fault></IntuitResponse>"
    )


def throttle_xml() -> str:
    """429 body, verbatim shape from the reference sheet ('Over a limit: HTTP 429, and the body may be XML')."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3">'
        '<Fault type="SERVICE"><Error code="3001">'
        "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
        f"<Detail>{escape('The request limit was reached.  Try again later')}</Detail>"
        "</Error></Fault></IntuitResponse>"
    )
