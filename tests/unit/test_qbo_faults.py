"""Fault bodies in every shape QuickBooks uses, and the domain error each one decides."""

from __future__ import annotations

import pytest
from hirebooks import errors as E
from hirebooks.qbo.faults import parse_fault, to_error

JSON_FAULT = (
    '{"Fault":{"Error":[{"Message":"Duplicate Name Exists Error","Detail":"The name supplied already exists.",'
    '"code":"6240","element":""}],"type":"ValidationFault"},"time":"2026-01-01T00:00:00.000-08:00"}'
)
LOWER_FAULT = (
    '{"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401",'
    '"detail":"Token expired: 12345","code":"3200"}],"type":"AUTHENTICATION"}}'
)
XML_429 = (
    '<IntuitResponse><Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; '
    "errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.  Try again later</Detail>"
    "</Error></Fault></IntuitResponse>"
)
XML_AUTH_NS = (
    '<?xml version="1.0"?><IntuitResponse xmlns="http://schema.intuit.com/finance/v3">'
    '<Fault type="AuthenticationFault"><Error code="100"><Message>General Authentication Error</Message>'
    "<Detail>x</Detail></Error></Fault></IntuitResponse>"
)


def test_parse_fault_reads_all_three_shapes() -> None:
    """Reference: the JSON error body, the lowercase 401 body, and the XML 429 body (with or without namespace)."""
    assert parse_fault(JSON_FAULT).code == "6240"  # type: ignore[union-attr]
    lower = parse_fault(LOWER_FAULT)
    assert lower is not None and lower.code == "3200" and lower.type == "AUTHENTICATION"
    xml = parse_fault(XML_429)
    assert xml is not None and xml.code == "3001" and "ThrottleExceeded" in xml.message
    assert parse_fault(XML_AUTH_NS).code == "100"  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["", "not json", "{}", '{"Invoice":{}}', "<html>oops</html>", "<broken"])
def test_parse_fault_returns_none_for_non_faults(text: str) -> None:
    assert parse_fault(text) is None


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (429, XML_429, E.ThrottledError),
        (503, "", E.TransientError),
        (502, "<html>bad gateway</html>", E.TransientError),
        (401, LOWER_FAULT, E.AuthError),
        (401, XML_AUTH_NS, E.AuthError),
        (403, '{"Fault":{"Error":[{"code":"3100","Message":"ApplicationAuthorizationFailed"}]}}', E.NeedsSetupError),
        (400, '{"Fault":{"Error":[{"code":"5010","Message":"Stale Object Error"}]}}', E.ConflictError),
        (400, JSON_FAULT, E.DuplicateError),
        (400, '{"Fault":{"Error":[{"code":"6140","Message":"Duplicate Document Number Error"}]}}', E.DuplicateError),
        (400, '{"Fault":{"Error":[{"code":"610","Message":"Object Not Found"}]}}', E.NotFoundError),
        (400, '{"Fault":{"Error":[{"code":"2500","Message":"Invalid Reference Id"}]}}', E.NeedsSetupError),
        (400, '{"Fault":{"Error":[{"code":"2020","Message":"Required param missing"}]}}', E.NeedsSetupError),
        (400, '{"Fault":{"Error":[{"code":"620","Message":"Transaction cannot be linked"}]}}', E.NeedsSetupError),
        (400, '{"Fault":{"Error":[{"code":"6210","Message":"Account Period Closed"}]}}', E.RejectedError),
        (400, '{"Fault":{"Error":[{"code":"6190","Message":"Invalid Company Status"}]}}', E.RejectedError),
        (400, '{"Fault":{"Error":[{"code":"6000","Message":"Business Validation Error"}]}}', E.RejectedError),
    ],
)
def test_to_error_follows_the_reference_error_table(status: int, body: str, expected: type) -> None:
    """Reference, the error table's 'what to do' column: 3001/5xx retry, 3200 refresh, 5010 re-read, 6240/6140
    duplicate, 610 re-sync, 2xxx fix the data, 6210 surface it."""
    err = to_error(status, parse_fault(body), raw=body)
    assert type(err) is expected
    assert err.retryable is issubclass(expected, E.TransientError)


def test_errors_read_as_sentences() -> None:
    err = to_error(400, parse_fault(JSON_FAULT))
    assert str(err) == "Duplicate Name Exists Error: The name supplied already exists. (code 6240)"
    assert err.as_dict()["kind"] == "duplicate"
