"""Run the HireHop simulator on its own: `hirehop-sim --port 8800 --webhook-url http://127.0.0.1:8900/...`."""

from __future__ import annotations

import argparse

from simcore.server import wait_for_signal

from .app import HireHopSimulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="hirehop-sim",
        description="A HireHop simulator on loopback: billing, payments, jobs, contacts and depots as HireHop's API "
        "serves them, webhooks in HireHop's shape, HireHop's rate limits, and a control surface under /_sim.",
        epilog="Control surface: POST /_sim/companies/{id}/act {action, args} acts as a HireHop user "
        "(create_invoice, approve_invoice, edit_invoice, credit_note, take_payment, issue_purchase_order, "
        "add_contact, edit_contact, add_job); see README.md.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8800, help="port (default 8800; 0 picks one)")
    parser.add_argument("--company-id", type=int, default=1)
    parser.add_argument("--export-key", default="local-export-key", help="the company's export key")
    parser.add_argument("--token", default="local-api-token", help="the API user's token")
    parser.add_argument("--webhook-url", help="where HireHop posts its webhooks")
    args = parser.parse_args(argv)
    sim = HireHopSimulator()
    company, token, ids = sim.add_company(args.company_id, export_key=args.export_key, token=args.token)
    sim.webhook_url = args.webhook_url
    url = sim.start(args.host, args.port)
    print(
        f"HireHop simulator on {url}: company {company.company_id}, token {token!r}, export key "
        f"{company.export_key!r}, jobs {ids['jobs']}"
    )
    wait_for_signal()
    sim.stop()


if __name__ == "__main__":
    main()
