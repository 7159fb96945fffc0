"""Run the QuickBooks Online simulator on its own: `qbo-sim --port 8700 --us 9130350000000001 --uk 9130350000000002`."""

from __future__ import annotations

import argparse

from simcore.server import wait_for_signal

from .app import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, QboSimulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="qbo-sim",
        description="A QuickBooks Online simulator on loopback: the v3 Accounting API, Intuit's OAuth endpoints, "
        "signed webhooks, Intuit's limits, and a control surface under /_sim for tests and demos.",
        epilog="Control surface: GET /_sim/health, POST /_sim/realms, PUT /_sim/faults, PATCH /_sim/limits, "
        "PATCH /_sim/clock, GET /_sim/counters, GET /_sim/log, PATCH /_sim/webhooks (see README.md).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8700, help="port to listen on (default 8700; 0 picks one)")
    parser.add_argument("--us", metavar="REALM_ID", action="append", default=[], help="seed a US company")
    parser.add_argument("--uk", metavar="REALM_ID", action="append", default=[], help="seed a UK company")
    parser.add_argument("--scale", type=float, default=1.0, help="clock speed: 60 makes a real second a minute")
    parser.add_argument("--webhook-url", help="where to send signed webhooks")
    parser.add_argument("--webhook-format", choices=("cloudevents", "legacy"), default="cloudevents")
    parser.add_argument("--verifier-token", default="local-verifier-token", help="webhook signing key")
    parser.add_argument("--seed", type=int, default=7, help="random seed for fault injection and batch order")
    args = parser.parse_args(argv)

    sim = QboSimulator(scale=args.scale, seed=args.seed)
    for realm_id in args.us:
        sim.add_realm("US", realm_id)
    for realm_id in args.uk:
        sim.add_realm("UK", realm_id)
    if not args.us and not args.uk:
        sim.add_realm("US", "9130350000000001")
    cfg = sim.webhooks.config
    cfg.url, cfg.format, cfg.verifier_token = args.webhook_url, args.webhook_format, args.verifier_token
    url = sim.start(args.host, args.port)
    print(f"QuickBooks simulator on {url}  (realms: {', '.join(sim.realms)})")
    print(f"  OAuth client id {DEFAULT_CLIENT_ID!r}, secret {DEFAULT_CLIENT_SECRET!r}; tokens without a browser:")
    print(f"  curl -X POST {url}/_sim/realms/{next(iter(sim.realms))}/tokens")
    wait_for_signal()
    sim.stop()


if __name__ == "__main__":
    main()
