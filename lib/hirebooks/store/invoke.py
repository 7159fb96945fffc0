"""Starting another function without waiting for it: Lambda's asynchronous Invoke, or the local stack's stand-in."""

from __future__ import annotations

import json
from typing import Any

import requests


class LambdaInvoker:
    def __init__(self, client: Any) -> None:
        self.client = client

    def invoke_async(self, function_name: str, event: dict[str, Any]) -> None:
        self.client.invoke(FunctionName=function_name, InvocationType="Event", Payload=json.dumps(event).encode())


class HttpInvoker:
    """The local gateway's POST /_local/invoke/<function> (never deployed)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def invoke_async(self, function_name: str, event: dict[str, Any]) -> None:
        requests.post(f"{self.base_url}/{function_name}", json=event, timeout=(2.0, 5.0)).raise_for_status()
