"""Logging set-up: levels, and the bot token kept out of every log line."""

from __future__ import annotations

import logging

from bot.config import Settings


class RedactSecrets(logging.Filter):
    """Replace secrets in a record's rendered message (python-telegram-bot logs the API URL,
    which contains the token, at DEBUG)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "<redacted>")
            record.msg, record.args = message, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self.secrets:
                record.exc_text = record.exc_text.replace(secret, "<redacted>")
        return True


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    redact = RedactSecrets([token, token.partition(":")[2]])
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    # httpx logs every request URL at INFO, and the Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Alembic logs each of its plugins and steps at INFO: a screenful before the first answer of a
    # fresh start (storage/db.py says in one line that the schema was upgraded).
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # transitions logs every state change at INFO: noise, and a cost on every turn.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    # fontTools lists every glyph it keeps when the plan document's font is subset: kilobytes a PDF.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    # At DEBUG python-telegram-bot logs every update and Bot API call with its contents: users'
    # messages, service codes included. Message contents never go to our logs.
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLevelName(settings.log_level)))
