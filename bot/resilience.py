"""Transient failures: Telegram network errors retried with backoff, a lost database detected.

RetryAfter (flood control) is waited out and retried by python-telegram-bot's AIORateLimiter;
network errors and timeouts are retried here with tenacity. A BadRequest is not transient
(python-telegram-bot makes it a NetworkError subclass, so it is excluded explicitly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from telegram.error import BadRequest, NetworkError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

T = TypeVar("T")


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


async def telegram_call(call: Callable[[], Awaitable[T]], attempts: int = 4) -> T:
    """Run one Bot API call, retrying network errors with exponential backoff (0.2 s, 0.4 s, ...).

    The first try is a plain call: tenacity's machinery is only paid once something went wrong."""
    try:
        return await call()
    except Exception as exc:
        if not _transient(exc) or attempts <= 1:
            raise
    await asyncio.sleep(0.2)
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(_transient),
        stop=stop_after_attempt(attempts - 1),
        wait=wait_exponential(multiplier=0.2, max=3),
        reraise=True,
    ):
        with attempt:
            return await call()
    raise AssertionError("unreachable")


def database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or was busy: the update was not applied and can be retried."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return type(exc).__module__.startswith("asyncpg") and "Connection" in type(exc).__name__


@dataclass
class TurnStatus:
    """Set by the webhook for the update it is processing: a handler that could not apply the update
    marks it, and the webhook answers 503 so that Telegram delivers it again."""

    retry: bool = False


current_turn: ContextVar[TurnStatus | None] = ContextVar("current_turn", default=None)
