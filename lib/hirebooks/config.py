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
