"""Settings, read from the environment once per process and validated; nothing else reads os.environ."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class IntakeSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    OUTBOX_TABLE_NAME: str = Field(min_length=1)
    SETTINGS_TABLE_NAME: str = Field(min_length=1)
    MAX_EVENT_BYTES: int = Field(default=262_144, gt=0)  # a DynamoDB item holds 400 KB; HireHop events are small


@lru_cache(maxsize=1)
def intake_settings() -> IntakeSettings:
    return IntakeSettings.model_validate(dict(os.environ))


class LiveSettings(IntakeSettings):
    """What push_document needs to push at once (live mode)."""

    IDMAP_TABLE_NAME: str = Field(min_length=1)
    SECRETS_PREFIX: str = Field(default="hirebooks", min_length=1)
    QBO_API_BASE_URL: str = Field(default="https://quickbooks.api.intuit.com", min_length=1)
    LIVE_PUSH_BUDGET_SECONDS: float = Field(default=20.0, gt=0)  # API Gateway gives up at 30 s
    LIVE_PUSH_MARGIN_SECONDS: float = Field(default=3.0, ge=0)
    HIREHOP_REQUESTS_PER_MINUTE: int = Field(default=60, gt=0)  # reference: 60 a rolling minute per token
    HIREHOP_REQUESTS_PER_SECOND: int = Field(default=3, gt=0)  # and 3 a second
    CONNECTIONS_TABLE_NAME: str = Field(min_length=1)
    INTUIT_OAUTH_BASE_URL: str | None = None  # None: Intuit's own endpoints (the local stack points at its simulator)
    NOTIFY_TOPIC_ARN: str | None = None
    RECONNECT_LINK: str = ""  # e.g. https://<api>/quickbooks/connect?company_id={company}&package={package}


@lru_cache(maxsize=1)
def live_settings() -> LiveSettings:
    return LiveSettings.model_validate(dict(os.environ))


class FlushSettings(LiveSettings):
    """What flush_buffer needs: live mode's settings plus its safety margin before the Lambda's end."""

    FLUSH_MARGIN_SECONDS: float = Field(default=10.0, ge=0)


@lru_cache(maxsize=1)
def flush_settings() -> FlushSettings:
    return FlushSettings.model_validate(dict(os.environ))


class WebhookSettings(LiveSettings):
    """What qb_webhook needs: its queue, the inbound log, and the stores the write-back reads and writes."""

    QBO_CHANGES_QUEUE_URL: str = Field(min_length=1)
    INBOUND_TABLE_NAME: str = Field(min_length=1)


@lru_cache(maxsize=1)
def webhook_settings() -> WebhookSettings:
    return WebhookSettings.model_validate(dict(os.environ))


class TokenSettings(LiveSettings):
    """token_refresh: the connect link's redirect and where to send the people who finish connecting."""

    INBOUND_TABLE_NAME: str = Field(min_length=1)  # the connect link's single-use states
    FLUSH_FUNCTION_NAME: str = ""
    LOCAL_INVOKE_URL: str | None = None  # the local stack's stand-in for Lambda's asynchronous Invoke


@lru_cache(maxsize=1)
def token_settings() -> TokenSettings:
    return TokenSettings.model_validate(dict(os.environ))
