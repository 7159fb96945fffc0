"""Runs last (its folder sorts after the others): no token or secret in any log line of the whole test run.

The simulators' access tokens start with "eyJ" and refresh tokens with "RT1-" (local/qbosim/oauth.py); the fixed
secrets of the tests (admin token, Intuit app secret) are listed by name. The test also proves that the capture works:
it logs a line of its own and finds it."""

from __future__ import annotations

import logging
import re

from tests.conftest import ADMIN_TOKEN, LogCapture
from tests.integration.test_token_refresh import CLIENT_SECRET

TOKEN_SHAPES = re.compile(r"(eyJ[A-Za-z0-9_\-]{40,}|RT1-[A-Za-z0-9_\-]{20,})")


def test_logs_no_token_or_secret_appears_in_any_log_line() -> None:
    logging.getLogger("hirebooks").warning("capture check %s", "marker-7f3a")
    lines = LogCapture.lines
    assert any("marker-7f3a" in line for line in lines)
    assert len(lines) > 100, "the run logged almost nothing: the capture is not working"
    leaks = [line[:200] for line in lines if TOKEN_SHAPES.search(line) or ADMIN_TOKEN in line or CLIENT_SECRET in line]
    assert leaks == []
