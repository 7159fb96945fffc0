"""The SQS event source mapping, locally: poll a queue, hand batches to the function as SQS events, delete what
succeeded, and let the failures (the handler's batchItemFailures) come back after a short visibility timeout."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

RETRY_AFTER_SECONDS = 1  # AWS: the queue's VisibilityTimeout (360 s); locally a retry comes back at once


class QueuePoller:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        invoke: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        batch_size: int = 10,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.invoke = invoke
        self.batch_size = batch_size
        self.batches = 0
        self.failures = 0
        self.errors: list[str] = []
        self._busy = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        arn = "arn:aws:sqs:us-east-1:000000000000:" + self.queue_url.rsplit("/", 1)[-1]
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {},
                    "md5OfBody": hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }

    def poll_once(self) -> int:
        """One receive and one invocation; returns how many messages were handed over."""
        with self._lock:
            self._busy += 1
        try:
            got = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                VisibilityTimeout=RETRY_AFTER_SECONDS,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                return 0
            self.batches += 1
            try:
                answer = self.invoke(self._event(got))
                failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}
            except Exception as exc:  # the whole batch failed, as Lambda would report it
                self.errors.append(f"{type(exc).__name__}: {exc}")
                failed = {m["MessageId"] for m in got}
            self.failures += len(failed)
            done = [m for m in got if m["MessageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
                )
            return len(got)
        finally:
            with self._lock:
                self._busy -= 1

    def depth(self) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def drain(self, seconds: float = 20.0) -> bool:
        """Wait until the queue is empty and nothing is being handled; False if that did not happen in time."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self._busy == 0 and self.depth() == 0:
                return True
            if self._thread is None:
                self.poll_once()
            else:
                time.sleep(0.05)
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.poll_once():
                self._stop.wait(0.05)

    def start(self) -> QueuePoller:
        self._thread = threading.Thread(target=self._run, name="sqs-poller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
