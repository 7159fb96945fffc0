"""Secrets Manager: HireHop API tokens and QuickBooks token sets, one secret each, never logged."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


class SecretsManagerStore:
    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix.rstrip("/")

    def _id(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def get(self, name: str) -> str | None:
        try:
            return str(self.client.get_secret_value(SecretId=self._id(name))["SecretString"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise

    def put(self, name: str, value: str) -> None:
        try:
            self.client.put_secret_value(SecretId=self._id(name), SecretString=value)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            self.client.create_secret(Name=self._id(name), SecretString=value)
