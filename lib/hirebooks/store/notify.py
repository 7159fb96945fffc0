"""SNS adapter: the messages a person must read (reconnect needed, expiry warnings)."""

from __future__ import annotations

from typing import Any


class SnsNotifier:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self.client = client
        self.topic_arn = topic_arn

    def notify(self, subject: str, message: str) -> None:
        self.client.publish(TopicArn=self.topic_arn, Subject=subject[:100], Message=message)
