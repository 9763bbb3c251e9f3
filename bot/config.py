"""Configuration from the environment and an optional .env file."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.db import SQLITE_SYNCHRONOUS, DatabaseUrlError, normalize_url


class ConfigError(Exception):
    """Bad configuration: the message is one line naming the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    database_url: str = "sqlite:///./icpbot.db"
    sqlite_synchronous: str = "NORMAL"
    # How long an update waits for an unavailable database before it is left for redelivery.
    database_wait_seconds: float = Field(10.0, ge=0)
    # How long a process holds an unsent reply before another process may send it instead, and how
    # often replies that could not be sent are tried again (0: not in this process).
    outbox_lease_seconds: float = Field(30.0, gt=0)
    outbox_retry_seconds: float = Field(1.0, ge=0)
    log_level: str = "INFO"
    default_language: Literal["en", "zh"] = "en"
    # Telegram's flood limits; 0 turns the limiter off (benchmarks against the recording request).
    telegram_max_rate: float = Field(30.0, ge=0)
    # How often due reminders are looked for; 0 turns the reminder job off in this process.
    reminder_interval_seconds: float = Field(60.0, ge=0)
    # The staff group (a forum supergroup gets one topic per ticket) and who may act in it.
    support_chat_id: int | None = None
    staff_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    support_language: Literal["en", "zh"] = "en"
    # How often undelivered ticket cards and relayed messages are retried; 0: not in this process.
    support_retry_seconds: float = Field(30.0, ge=0)

    # Webhook mode (`python -m bot run --webhook`).
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    port: int = Field(8080, ge=1, le=65535)
    webhook_listen: str = "0.0.0.0"

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be the public https:// address Telegram posts updates to")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("staff_user_ids", mode="before")
    @classmethod
    def _staff_ids(cls, value: object) -> object:
        if isinstance(value, str):  # "123, 456"
            parts = [p for p in value.replace(";", ",").split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError:
                raise ValueError("must be Telegram user ids separated by commas, e.g. 123,456") from None
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        token = value.get_secret_value().strip()
        head, _, tail = token.partition(":")
        if not head.isdigit() or len(tail) < 10 or any(c.isspace() for c in token):
            raise ValueError("does not look like a bot token from @BotFather (digits:secret)")
        return SecretStr(token)

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.removesuffix("/bot")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            normalize_url(value)
        except DatabaseUrlError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("sqlite_synchronous")
    @classmethod
    def _synchronous(cls, value: str) -> str:
        if value.upper() not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"must be one of {', '.join(SQLITE_SYNCHRONOUS)}")
        return value.upper()

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in logging.getLevelNamesMapping():
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value.upper()

    @property
    def bot_api_url(self) -> str:
        return f"{self.telegram_api_base_url}/bot"

    @property
    def bot_file_url(self) -> str:
        return f"{self.telegram_api_base_url}/file/bot"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, or ConfigError with one line naming the bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"configuration error: {name}: {message}") from None
