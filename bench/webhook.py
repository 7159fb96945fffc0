"""webhook: how fast qb_webhook answers QuickBooks (Intuit wants 200 within 3 seconds; reference quickbooks.md).

moto's AWS with the template's tables and queue, the local gateway in front of the real qb_webhook handler, and signed
CloudEvents payloads of 1 and of 100 Payment changes (Intuit's maximum per POST) sent one after another over loopback.
The answer time is measured at the client: HTTP, the gateway's event building, signature check, parsing, and the SQS
sends (10 messages a call). Nothing on this path calls QuickBooks or HireHop.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from hblocal.aws import LocalAws, create_queues, create_tables
from hblocal.gateway import LOCAL_STACK_NAME, LocalGateway
from hirebooks.store.secrets import SecretsManagerStore
from qbosim.webhooks import sign

HEADER = ["events per request", "requests", "p50 ms", "p99 ms", "max ms", "messages queued", "non-200 answers"]


@dataclass
class WebhookRow:
    events: int
    requests: int
    p50: float
    p99: float
    worst: float
    queued: int
    failures: int

    def cells(self) -> list[str]:
        return [
            str(self.events),
            str(self.requests),
            f"{self.p50:.1f}",
            f"{self.p99:.1f}",
            f"{self.worst:.1f}",
            str(self.queued),
            str(self.failures),
        ]


def _payload(events: int, realm: str) -> bytes:
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "intuit.bench",
                "type": "qbo.payment.created.v1",
                "datacontenttype": "application/json",
                "time": "2026-12-04T10:00:00.000Z",
                "intuitentityid": str(1000 + n),
                "intuitaccountid": realm,
                "data": {},
            }
            for n in range(events)
        ]
    ).encode()


def _drain(sqs: Any, url: str) -> int:
    """Take the messages off the queue, as the worker would (outside the timing). moto's SendMessage slows down as
    its queue grows (about 160 ms more per 100-message request for every 100 messages already waiting, measured
    here), which real SQS does not."""
    taken = 0
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return taken
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)]
        )
        taken += len(got)


def run_webhook(sizes: tuple[int, ...] = (1, 100), requests_each: tuple[int, ...] = (300, 60)) -> list[WebhookRow]:
    aws = LocalAws().start()
    gateway: LocalGateway | None = None
    try:
        prefix = f"bench-{uuid.uuid4().hex[:6]}"
        tables = create_tables(aws.client("dynamodb"), prefix)
        tables.update(create_queues(aws.client("sqs"), prefix))
        verifier = uuid.uuid4().hex
        SecretsManagerStore(aws.client("secretsmanager"), LOCAL_STACK_NAME).put("intuit-verifier-token", verifier)
        gateway = LocalGateway(tables)
        url = f"{gateway.start()}/quickbooks/webhook"
        session = requests.Session()
        sqs = aws.client("sqs")
        rows = []
        for events, count in zip(sizes, requests_each, strict=True):
            timings, failures, queued = [], 0, 0
            for n in range(count + 5):
                body = _payload(events, "9130350000000001")
                headers = {"Content-Type": "application/cloudevents+json", "intuit-signature": sign(body, verifier)}
                start = time.perf_counter()
                resp = session.post(url, data=body, headers=headers, timeout=10)
                elapsed = (time.perf_counter() - start) * 1000
                if n >= 5:  # the first requests warm the function (a cold start) and are not counted
                    timings.append(elapsed)
                    failures += resp.status_code != 200
                    queued += _drain(sqs, tables["QboChangesQueue"])
                else:
                    _drain(sqs, tables["QboChangesQueue"])
            cuts = statistics.quantiles(timings, n=100, method="inclusive")  # within the samples
            rows.append(
                WebhookRow(
                    events,
                    count,
                    statistics.median(timings),
                    cuts[98],
                    max(timings),
                    queued,
                    failures,
                )
            )
        return rows
    finally:
        if gateway is not None:
            gateway.stop()
        aws.stop()


if __name__ == "__main__":
    for row in run_webhook():
        print(" | ".join(row.cells()))
