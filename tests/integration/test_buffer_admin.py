"""The buffer's admin side: the "Invoices to export" report, retry, discard, their bad input, and the CLI, all
through the gateway into flush_buffer over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hirebooks.cli import app as cli
from typer.testing import CliRunner

from tests.conftest import ADMIN_TOKEN, US, LiveWorld

HIRE = {"QUANTITY": 8, "UNIT_PRICE": "45.00", "VAT_RATE": 7, "NOMINAL_GROUP": 1, "TAX_GROUP": 1}
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def waiting_world(live: LiveWorld) -> list[Any]:
    """Two invoices wait: one in the buffered US package, one in the live UK package that needs set-up (its tax
    group has no QuickBooks tax code)."""
    live.buffered()
    hh = live.intake
    for job, line in ((hh.ids["jobs"][0], HIRE), (hh.ids["jobs"][1], {**HIRE, "VAT_RATE": 20, "TAX_GROUP": 7})):
        live.approve(job, [line])
    live.delivered(2)
    return hh.entries()


def test_the_report_lists_what_waits_and_why(flush_api: LiveWorld) -> None:
    entries = waiting_world(flush_api)
    hh = flush_api.intake
    resp = requests.get(f"{hh.gateway_url}/buffer", params={"company_id": hh.company_id}, headers=AUTH)
    assert resp.status_code == 200
    body = resp.json()
    assert body["totals"] == {"pending": 1, "needs_setup": 1}
    rows = {r["number"]: r for r in body["entries"]}
    assert rows["INV-12245"]["status"] == "pending" and "buffered" in rows["INV-12245"]["reason"]
    assert rows["INV-12246"]["status"] == "needs_setup" and "Tax group 7" in rows["INV-12246"]["reason"]
    assert rows["INV-12246"]["next_attempt"] is None and rows["INV-12245"]["package"] == "us"
    assert rows["INV-12246"]["package"] == "uk"
    only = requests.get(
        f"{hh.gateway_url}/buffer",
        headers=AUTH,
        params={"company_id": hh.company_id, "status": "needs_setup", "type": "invoice"},
    )
    assert [r["number"] for r in only.json()["entries"]] == ["INV-12246"]
    assert len(entries) == 2


def test_retry_and_discard_change_the_entry_and_keep_an_audit(flush_api: LiveWorld) -> None:
    waiting_world(flush_api)
    hh = flush_api.intake
    parked = next(e for e in hh.entries() if e.status == "needs_setup")
    other = next(e for e in hh.entries() if e.status == "pending")
    url = f"{hh.gateway_url}/buffer"
    done = requests.post(
        f"{url}/{parked.entry_id}/retry", json={"company_id": hh.company_id, "by": "ana"}, headers=AUTH
    )
    assert done.status_code == 200 and done.json()["status"] == "pending"
    gone = requests.post(
        f"{url}/{other.entry_id}/discard",
        headers=AUTH,
        json={"company_id": hh.company_id, "by": "ana", "why": "raised by mistake"},
    )
    assert gone.status_code == 200 and gone.json()["status"] == "discarded"
    stored = hh.outbox.get(hh.company_id, other.entry_id)
    assert stored is not None and stored.reason == "discarded by ana: raised by mistake"
    assert stored.history[-1]["what"] == "discarded"
    again = requests.post(f"{url}/{other.entry_id}/retry", json={"company_id": hh.company_id}, headers=AUTH)
    assert again.status_code == 409 and again.json()["error"] == "wrong_state"


def _bad(live: LiveWorld, entry: str) -> list[tuple[str, str, str, dict[str, Any] | None, dict[str, str], int, str]]:
    c = live.intake.company_id
    return [
        ("no credentials", "GET", "/buffer", {"company_id": c}, {}, 401, "unauthorized"),
        ("wrong token", "GET", "/buffer", {"company_id": c}, {"Authorization": "Bearer no"}, 401, "unauthorized"),
        ("no company", "GET", "/buffer", {}, AUTH, 422, "invalid_company"),
        ("bad company", "GET", "/buffer", {"company_id": "abc"}, AUTH, 422, "invalid_company"),
        ("bad status filter", "GET", "/buffer", {"company_id": c, "status": "lost"}, AUTH, 400, "bad_filter"),
        ("bad type filter", "GET", "/buffer", {"company_id": c, "type": "cheque"}, AUTH, 400, "bad_filter"),
        ("unknown entry", "POST", "/buffer/nope/retry", {"company_id": c}, AUTH, 404, "unknown_entry"),
        ("unknown action", "POST", f"/buffer/{entry}/explode", {"company_id": c}, AUTH, 404, "not_found"),
        (
            "discard without why",
            "POST",
            f"/buffer/{entry}/discard",
            {"company_id": c, "by": "x"},
            AUTH,
            422,
            "reason_needed",
        ),
        ("retry without credentials", "POST", f"/buffer/{entry}/retry", {"company_id": c}, {}, 401, "unauthorized"),
    ]


@pytest.mark.parametrize("case", range(10))
def test_bad_admin_requests_get_a_clear_4xx_and_change_nothing(flush_api: LiveWorld, case: int) -> None:
    entries = waiting_world(flush_api)
    hh = flush_api.intake
    before = sorted((e.entry_id, e.status, e.attempts) for e in hh.entries())
    name, method, path, params, headers, status, code = _bad(flush_api, entries[0].entry_id)[case]
    if method == "GET":
        resp = requests.get(f"{hh.gateway_url}{path}", params=params, headers=headers)
    else:
        resp = requests.post(f"{hh.gateway_url}{path}", json=params, headers=headers)
    assert (resp.status_code, resp.json()["error"]) == (status, code), name
    assert resp.json()["message"], name
    assert sorted((e.entry_id, e.status, e.attempts) for e in hh.entries()) == before, name


def test_the_cli_lists_flushes_retries_and_discards(flush_api: LiveWorld) -> None:
    waiting_world(flush_api)
    hh = flush_api.intake
    env = {"HIREBOOKS_API_URL": hh.gateway_url, "HIREBOOKS_ADMIN_TOKEN": ADMIN_TOKEN, "COLUMNS": "200"}
    runner = CliRunner()
    listed = runner.invoke(cli, ["buffer", "list", "--company", str(hh.company_id)], env=env)
    assert listed.exit_code == 0, listed.output
    assert "INV-12245" in listed.output and "Tax group 7" in listed.output
    assert "1 needs_setup, 1 pending" in listed.output
    flushed = runner.invoke(cli, ["buffer", "flush", "--company", str(hh.company_id)], env=env)
    assert flushed.exit_code == 0, flushed.output
    assert len(flush_api.qbo.control.objects(US, "Invoice")) == 1  # the buffered one went; the parked one waits
    parked = next(e for e in hh.entries() if e.status == "needs_setup")
    discarded = runner.invoke(
        cli,
        ["buffer", "discard", parked.entry_id, "--company", str(hh.company_id), "--why", "sent by hand", "--by", "ana"],
        env=env,
    )
    assert discarded.exit_code == 0 and "discarded" in discarded.output
    empty = runner.invoke(cli, ["buffer", "list", "--company", str(hh.company_id)], env=env)
    assert "Nothing waits" in empty.output
    bad = runner.invoke(cli, ["buffer", "retry", "nope", "--company", str(hh.company_id)], env=env)
    assert bad.exit_code == 1 and "No buffer entry" in bad.output
    unreachable = runner.invoke(
        cli, ["buffer", "list", "-c", "1"], env={**env, "HIREBOOKS_API_URL": "http://127.0.0.1:9"}
    )
    assert unreachable.exit_code == 1 and "Cannot reach" in unreachable.output
