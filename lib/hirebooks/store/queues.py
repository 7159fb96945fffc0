"""SQS adapter: the queue between qb_webhook's intake and its worker."""

from __future__ import annotations

import json
from typing import Any

from hirebooks import errors as E
from hirebooks.sync.writeback import QboChange

SQS_BATCH = 10  # SendMessageBatch takes at most 10 messages


class SqsChangeQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def send(self, changes: list[QboChange]) -> None:
        """Every change is queued, or this raises (the webhook then answers 5xx and Intuit sends it again)."""
        for start in range(0, len(changes), SQS_BATCH):
            chunk = changes[start : start + SQS_BATCH]
            answer = self.client.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(n), "MessageBody": json.dumps(c.to_message(), separators=(",", ":"), default=str)}
                    for n, c in enumerate(chunk)
                ],
            )
            failed = answer.get("Failed") or []
            if failed:
                raise E.TransientError(f"SQS did not take {len(failed)} of {len(chunk)} messages", source="sqs")
